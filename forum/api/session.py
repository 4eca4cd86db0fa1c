"""Discourse's session endpoints: CSRF token, sign in, sign out, current user."""
from flask import Blueprint, current_app, request

from forum.api.auth import csrf_token, current_actor, end_session, require_actor, start_session
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.users import current_user
from forum.extensions import limiter
from forum.services import sessions
from forum.services.errors import NotAllowed, NotFound

bp = Blueprint("session", __name__)


def _login_name() -> str:
    return f"login:{(request.values.get('login') or (request.get_json(silent=True) or {}).get('login') or '').lower()}"


@json_route(bp, "/session/csrf", methods=["GET"])
def csrf():
    return {"csrf": csrf_token()}


@json_route(bp, "/session", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_IP"], key_func=lambda: f"login-ip:{request.remote_addr}")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"], key_func=_login_name)
def sign_in():
    values = params()
    user, token = sessions.sign_in(
        values.string("login", required=True),
        values.string("password", required=True),
        client_ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    start_session(token)
    return {"user": current_user(user)}


@json_route(bp, "/session/<username>", methods=["DELETE"])
def sign_out(username: str):
    actor = require_actor()
    if actor.username_lower != username.lower():
        raise NotAllowed("You can only sign yourself out.")
    end_session()
    return {"success": "OK"}


@json_route(bp, "/session/current", methods=["GET"])
def current():
    actor = current_actor()
    if actor is None:
        raise NotFound("Not signed in.")
    return {"current_user": current_user(actor)}
