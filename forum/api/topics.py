"""Discourse's topics endpoints."""
from flask import Blueprint

bp = Blueprint("topics", __name__)
