"""A member's new email address: Discourse's PUT /u/{username}/preferences/email, which mails the new address a link;
PUT /u/confirm-new-email/{token} (Discourse's confirmation), and the page the link opens."""
from flask import Blueprint, Response, current_app

from forum.api.auth import current_actor
from forum.api.link_pages import link_page, link_view, page_args
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.users import failure_result
from forum.extensions import limiter
from forum.models import EmailToken
from forum.services import email_changes
from forum.services.errors import ServiceError

bp = Blueprint("email_changes", __name__)


@json_route(bp, "/u/<username>/preferences/email", methods=["PUT"])
@limiter.limit(lambda: current_app.config["EMAIL_CHANGE_RATE_LIMIT"])
def request_change(username: str):
    actor = current_actor()
    email_changes.request_change(actor, username, params().string("email", required=True))
    return {"success": "OK"}


@bp.get("/u/confirm-new-email/<token>.json")
def check_link(token: str):
    """What Discourse's client asks before showing its confirmation page."""
    link = email_changes.check_link(token)
    return {"new_email": link.email, "old_email": link.user.email, "token": token}


@json_route(bp, "/u/confirm-new-email/<token>", methods=["PUT"])
@json_route(bp, "/u/confirm-new-email", methods=["PUT"])  # Discourse's own client sends the token in the body
def confirm(token: str | None = None):
    token = token or params().string("token", required=True)
    try:
        email_changes.confirm(token)
    except ServiceError as failure:
        return failure_result(failure), failure.status_code
    return {"success": "OK"}


@bp.route("/u/confirm-new-email/<token>", methods=["GET", "POST"])
def confirm_page(token: str):
    """The mailed link's page: opening it shows the change, its button makes it."""
    return link_view(lambda: email_changes.check_link(token), lambda: email_changes.confirm(token), _page)


def _page(link: EmailToken | None, *, done: bool = False, error: ServiceError | None = None) -> Response:
    return link_page("confirm_new_email.html", link, user=link and link.user, email=link and link.email, done=done,
                     **page_args(error))
