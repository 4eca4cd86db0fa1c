"""Discourse's posts endpoints."""
from flask import Blueprint

bp = Blueprint("posts", __name__)
