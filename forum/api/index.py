"""GET /: what this server is, for people and for health checks."""
from flask import current_app

from forum.api import bp


@bp.get("/")
def index():
    return {
        "name": current_app.config["SITE_TITLE"],
        "description": "A Discourse-compatible discussion forum backend with moderation bots.",
        "api": "discourse",
    }
