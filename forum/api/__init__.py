"""Discourse-compatible JSON endpoints. Views are thin: parse, call a service, serialise."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from forum.api import index  # noqa: E402,F401  (registers the routes on bp)
