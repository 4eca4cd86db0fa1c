"""Forgotten passwords: Discourse's POST /session/forgot_password and PUT /users/password-reset/{token}, and the page
the mailed link opens (/u/password-reset/{token}, Discourse's own path for it): a form for the new password."""
from flask import Blueprint, Response, current_app, request

from forum.api.auth import sign_in_from_link
from forum.api.link_pages import link_page, link_view, page_args
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.users import failure_result
from forum.api.session import login_account
from forum.extensions import limiter
from forum.models import User
from forum.services import password_resets, users
from forum.services.errors import ServiceError

bp = Blueprint("password_resets", __name__)

PASSWORD_CHANGED = "Your password was changed."


@json_route(bp, "/session/forgot_password", methods=["POST"])
@limiter.limit(lambda: current_app.config["FORGOT_PASSWORD_RATE_LIMIT_PER_IP"],
               key_func=lambda: f"forgot-password-ip:{request.remote_addr}")
@limiter.limit(lambda: current_app.config["FORGOT_PASSWORD_RATE_LIMIT_PER_ACCOUNT"], key_func=login_account)
def forgot_password():
    return {"success": "OK", "user_found": password_resets.request_reset(params().string("login", required=True))}


@bp.get("/u/password-reset/<token>.json")
def check_link(token: str):
    """What Discourse's client asks before showing its reset form: whether the link works, and for whom (this forum
    has no second factors)."""
    user = password_resets.check_link(token)
    return {"is_developer": False, "admin": user.is_admin, "second_factor_required": False,
            "security_key_required": False, "backup_enabled": False, "multiple_second_factor_methods": False}


@json_route(bp, "/users/password-reset/<token>", methods=["PUT"])
@json_route(bp, "/u/password-reset/<token>", methods=["PUT"])  # the path Discourse's own client uses
def reset_password(token: str):
    """As Discourse: the new password set, its owner is signed in (unless the account may not sign in yet)."""
    password = params().string("password", required=True)
    try:
        user = password_resets.reset_password(token, password)
    except ServiceError as failure:
        return failure_result(failure), failure.status_code
    sign_in_from_link(user)
    return {"success": True, "message": PASSWORD_CHANGED, "requires_approval": not user.is_active, "redirect_to": "/"}


@bp.route("/u/password-reset/<token>", methods=["GET", "POST"])
def reset_page(token: str):
    """The mailed link's page: a form for the new password, posted back here."""
    return link_view(lambda: password_resets.check_link(token),
                     lambda: password_resets.reset_password(token, request.form.get("password", "")), _page)


def _page(user: User | None, *, done: bool = False, error: ServiceError | None = None) -> Response:
    return link_page("password_reset.html", user, user=user, done=done, min_length=users.MIN_PASSWORD_LENGTH, **page_args(error))
