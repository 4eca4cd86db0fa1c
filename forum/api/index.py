"""GET /: what this server is, for people and for health checks."""
from flask import Blueprint, current_app

bp = Blueprint("index", __name__)


@bp.get("/")
def index():
    return {
        "name": current_app.config["SITE_TITLE"],
        "description": "A Discourse-compatible discussion forum backend with moderation bots.",
        "api": "discourse",
    }
