"""Discourse-compatible JSON endpoints, one blueprint per area. Views are thin: parse, call a service, serialise."""
from flask import Flask

from forum.api import index, session
from forum.api.auth import check_csrf
from forum.api.errors import register_error_handlers

BLUEPRINTS = (index.bp, session.bp)


def register_api(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_request(check_csrf)
    register_error_handlers(app)
