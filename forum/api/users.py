"""Discourse's users endpoints."""
from flask import Blueprint

bp = Blueprint("users", __name__)
