"""Discourse's site endpoints."""
from flask import Blueprint

bp = Blueprint("site", __name__)
