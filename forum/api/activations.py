"""Activating a new account: the page its activation mail links to (/u/activate-account/{token}, Discourse's path),
PUT /u/activate-account/{token} for clients, and Discourse's POST /u/action/send_activation_email for a new link."""
from flask import Blueprint, Response, current_app, session

from forum.api.auth import ACTIVATING_USER, current_actor, sign_in_from_link
from forum.api.link_pages import link_page, link_view, page_args
from forum.api.params import params
from forum.api.routing import json_route
from forum.extensions import limiter
from forum.models import User
from forum.services import activations
from forum.services.errors import ServiceError

bp = Blueprint("activations", __name__)


@json_route(bp, "/u/activate-account/<token>", methods=["PUT"])
def activate(token: str):
    """As Discourse: the account activated, its owner is signed in."""
    user = activations.activate(token)
    session.pop(ACTIVATING_USER, None)
    sign_in_from_link(user)
    return {"success": "OK"}


@bp.route("/u/activate-account/<token>", methods=["GET", "POST"])
def activate_page(token: str):
    """The mailed link's page: opening it shows the account, its button activates it."""
    return link_view(lambda: activations.check_link(token), lambda: activations.activate(token), _page)


def _page(user: User | None, *, done: bool = False, error: ServiceError | None = None) -> Response:
    return link_page("activate_account.html", user, user=user, done=done, **page_args(error))


@json_route(bp, "/u/action/send_activation_email", methods=["POST"])
@limiter.limit(lambda: current_app.config["ACTIVATION_EMAIL_RATE_LIMIT"])
def send_activation_email():
    activations.resend(current_actor(), params().string("username", required=True), session_user_id=session.get(ACTIVATING_USER))
    return {"success": "OK"}
