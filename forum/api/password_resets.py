"""Forgotten passwords: Discourse's POST /session/forgot_password and PUT /users/password-reset/{token}, and the page
the mailed link opens (/u/password-reset/{token}, Discourse's own path for it): a form for the new password."""
from flask import Blueprint, Response, current_app, render_template, request

from forum.api.auth import csrf_token, start_session
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.users import failure_result
from forum.api.session import login_account
from forum.extensions import limiter
from forum.models import User
from forum.services import password_resets, sessions, users
from forum.services.errors import ServiceError

bp = Blueprint("password_resets", __name__)

PASSWORD_CHANGED = "Your password was changed."
# The page loads nothing, runs nothing and posts only to itself; the token in its address goes to no other site.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@json_route(bp, "/session/forgot_password", methods=["POST"])
@limiter.limit(lambda: current_app.config["FORGOT_PASSWORD_RATE_LIMIT_PER_IP"],
               key_func=lambda: f"forgot-password-ip:{request.remote_addr}")
@limiter.limit(lambda: current_app.config["FORGOT_PASSWORD_RATE_LIMIT_PER_ACCOUNT"], key_func=login_account)
def forgot_password():
    return {"success": "OK", "user_found": password_resets.request_reset(params().string("login", required=True))}


@json_route(bp, "/users/password-reset/<token>", methods=["PUT"])
def reset_password(token: str):
    """As Discourse: the new password set, its owner is signed in (unless the account may not sign in yet)."""
    password = params().string("password", required=True)
    try:
        user = password_resets.reset_password(token, password)
    except ServiceError as failure:
        return failure_result(failure), failure.status_code
    if user.is_active:
        start_session(sessions.open_session(user, client_ip=request.remote_addr, user_agent=request.user_agent.string))
    return {"success": True, "message": PASSWORD_CHANGED, "requires_approval": not user.is_active, "redirect_to": "/"}


@bp.route("/u/password-reset/<token>", methods=["GET", "POST"])
def reset_page(token: str):
    """The mailed link's page. A browser's form posts here (with the CSRF token as a field, as Rails accepts it)."""
    try:
        user = password_resets.check_link(token)
    except ServiceError as failure:
        return _page(None, error=failure, status=failure.status_code)
    if request.method == "GET":
        return _page(user)
    try:
        password_resets.reset_password(token, request.form.get("password", ""))
    except ServiceError as failure:
        return _page(user, error=failure, status=failure.status_code)
    return _page(user, changed=True)


def _page(user: User | None, *, changed: bool = False, error: ServiceError | None = None, status: int = 200) -> Response:
    page = render_template("password_reset.html", user=user, changed=changed, error=error and " ".join(error.messages),
                           csrf=csrf_token(), site_title=current_app.config["SITE_TITLE"],
                           min_length=users.MIN_PASSWORD_LENGTH)
    return Response(page, status=status, headers=PAGE_HEADERS, content_type="text/html; charset=utf-8")
