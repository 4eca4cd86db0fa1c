"""Discourse's session endpoints: CSRF token, sign-up challenge, sign in, sign out, current user."""
import hmac
import secrets

from flask import Blueprint, current_app, request, session

from forum.api.auth import ACTIVATING_USER, csrf_token, current_actor, end_session, require_actor, start_session
from forum.api.errors import error_response
from forum.api.params import Params, params
from forum.api.routing import json_route
from forum.api.serializers.users import current_user
from forum.extensions import limiter
from forum.models import User
from forum.services import activations, authentication, guardian, notifications, review, users
from forum.services.errors import NotAllowed, NotFound, ServiceError

bp = Blueprint("session", __name__)

HONEYPOT = "honeypot"
CHALLENGE = "challenge"


def login_account() -> str:
    """The per-account rate-limit key: the account the attempt signs in to, whether named by its username or its email
    address, read from the body as the view reads it (a key of the raw value let ``["member", "<anything>"]`` count
    apart from ``member`` while signing in to it). Flask-Limiter asks before the view has parsed (or refused) the body."""
    try:
        login = params().string("login") or ""
    except ServiceError:  # refused by the view as well
        return "login:"
    user = users.find_by_login(login)
    return f"login-user:{user.id}" if user is not None else f"login:{login.lower()}"


@json_route(bp, "/session/csrf", methods=["GET"])
def csrf():
    return {"csrf": csrf_token()}


@json_route(bp, "/session/hp", methods=["GET"])
def honeypot():
    """Discourse's sign-up challenge: a browser signing up sends ``value`` back as password_confirmation
    and ``challenge`` reversed, which form-filling bots do not."""
    return {
        "value": session.setdefault(HONEYPOT, secrets.token_hex(16)),
        "challenge": session.setdefault(CHALLENGE, secrets.token_hex(16)),
    }


def passed_honeypot(values: Params) -> bool:
    value, challenge = session.get(HONEYPOT), session.get(CHALLENGE)
    if not value or not challenge:
        return False
    answer = values.string("password_confirmation", "").encode()
    reversed_challenge = values.string("challenge", "").encode()
    return hmac.compare_digest(answer, value.encode()) and hmac.compare_digest(
        reversed_challenge, challenge[::-1].encode()
    )


@json_route(bp, "/session", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_IP"], key_func=lambda: f"login-ip:{request.remote_addr}"
)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"], key_func=login_account)
def sign_in():
    values = params()
    try:
        user, token = authentication.sign_in(
            values.string("login", required=True),
            values.string("password", required=True),
            client_ip=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    except authentication.NotActivated as refusal:
        # As Discourse's not_activated answer: the client may offer to mail the link again, which this browser may ask.
        session[ACTIVATING_USER] = refusal.user_id
        body, status = error_response(refusal.messages, refusal.error_type, refusal.status_code)
        mailed = {"sent_to_email": refusal.email, "current_email": refusal.email} if activations.by_email() else {}
        return {**body, "reason": "not_activated", **mailed}, status
    start_session(token)
    return {"user": _current_user(user)}


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
    return {"current_user": _current_user(actor)}


def _current_user(user: User) -> dict:
    reviewable_count = review.pending_count() if guardian.allows(guardian.ensure_can_review, user) else 0
    return current_user(user, unread_notifications=notifications.unread_count(user), reviewable_count=reviewable_count)
