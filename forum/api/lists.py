"""Discourse's lists endpoints."""
from flask import Blueprint

bp = Blueprint("lists", __name__)
