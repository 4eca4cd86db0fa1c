"""Discourse's search endpoints."""
from flask import Blueprint

bp = Blueprint("search", __name__)
