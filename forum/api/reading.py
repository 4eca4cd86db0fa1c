"""Discourse's reading endpoints."""
from flask import Blueprint

bp = Blueprint("reading", __name__)
