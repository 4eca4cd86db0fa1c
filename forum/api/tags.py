"""Discourse's tags endpoints."""
from flask import Blueprint

bp = Blueprint("tags", __name__)
