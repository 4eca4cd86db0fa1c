"""Invitations to join the forum: Discourse's POST /invites, /invites/create-multiple and DELETE /invites, and the page
(and JSON) an invitation's link opens to make the account."""
from flask import Blueprint, Response, current_app, request

from forum.api.auth import current_actor, sign_in_from_link
from forum.api.link_pages import link_page, link_view, page_args
from forum.api.params import Params, params
from forum.api.routing import json_route
from forum.api.serializers.invites import invite as invite_json
from forum.api.serializers.users import failure_result
from forum.extensions import limiter
from forum.models import Invite
from forum.services import invites, users
from forum.services.topics import topic_path
from forum.services.errors import InvalidParameters, ServiceError

bp = Blueprint("invites", __name__)


def invitation_limit(cost=1):
    """One budget (INVITE_RATE_LIMIT a member) for every invitation, whatever its route: each tells someone, so a request
    inviting several costs as many."""
    return limiter.shared_limit(lambda: current_app.config["INVITE_RATE_LIMIT"], scope="invitations", cost=cost)


@json_route(bp, "/invites", methods=["POST"])
@invitation_limit()
def create():
    actor, values = current_actor(), params()
    wanted = _request(actor, values)
    email = values.string("email")
    if email:
        issued = invites.invite_by_email(actor, wanted, email, skip_email=values.boolean("skip_email", False))
    else:
        issued = invites.invite_by_link(actor, wanted)
    return invite_json(issued)


@json_route(bp, "/invites/create-multiple", methods=["POST"])
@invitation_limit(cost=lambda: max(len(_emails(params())), 1))
def create_multiple():
    actor, values = current_actor(), params()
    emails = _emails(values)
    made, refused = invites.invite_many(actor, _request(actor, values), emails, skip_email=values.boolean("skip_email", False))
    return {"num_successfully_created_invitations": len(made), "num_failed_invitations": len(refused),
            "failed_invitations": [{"email": email, "errors": failure.messages} for email, failure in refused],
            "successful_invitations": [invite_json(issued) for issued in made]}


@json_route(bp, "/invites", methods=["DELETE"])
def withdraw():
    invites.withdraw(current_actor(), params().integer("id", required=True))
    return {"success": "OK"}


def _emails(values: Params) -> list[str]:
    return [email for value in values.string_list("email") for email in value.split(",")]


def _request(actor, values: Params) -> invites.InviteRequest:
    return invites.check_request(
        actor,
        custom_message=values.string("custom_message"),
        max_redemptions_allowed=values.integer("max_redemptions_allowed"),
        topic_id=values.integer("topic_id"),
        group_ids=[_id(part) for value in values.string_list("group_ids") for part in value.split(",") if part.strip()],
        group_names=[part.strip() for value in values.string_list("group_names") for part in value.split(",")],
        expires_at=values.string("expires_at"),
    )


def _id(text: str) -> int:
    if not text.strip().isdigit():
        raise InvalidParameters("group_ids must be group ids, comma separated.")
    return int(text)


# Redeeming: the link's page, and Discourse's JSON.


@json_route(bp, "/invites/show/<key>", methods=["PUT"])
def redeem(key: str):
    """As Discourse: the account made, its owner is signed in (unless it waits for its activation). ``email_token``: the
    second token of the mailed link, which proves the invited address."""
    values = params()
    try:
        user, invite = _redeem(key, values.string("username"), values.string("email"), values.string("password"),
                               values.string("name"), values.string("email_token"))
    except ServiceError as failure:
        return failure_result(failure), failure.status_code
    return {"success": True, "message": _welcome(user), "redirect_to": _destination(invite)}


@bp.route("/invites/<key>", methods=["GET", "POST"])
def invite_page(key: str):
    """The invitation's page: who invites, and a form for the new account, posted back here (with the mailed link's
    ``t``, which proves the address)."""
    form = request.form
    email_token = request.args.get("t") or form.get("email_token")
    redemption = {}

    def act():
        redemption["user"], _ = _redeem(key, form.get("username"), form.get("email"), form.get("password"), form.get("name"),
                                        email_token)

    return link_view(lambda: invites.find_usable(key), act,
                     lambda invite, **outcome: _page(invite, redemption.get("user"), email_token, **outcome))


def _redeem(key: str, username, email, password, name, email_token):
    user, invite = invites.redeem(key, username=username, email=email, password=password, name=name,
                                  email_token=email_token)
    sign_in_from_link(user)
    return user, invite


def _welcome(user) -> str:
    if user.is_active:
        return f"Welcome, {user.username}: you are signed in."
    return f"Almost done: the account {user.username} waits for its activation (a link mailed to {user.email}, or staff)."


def _destination(invite: Invite) -> str:
    topic = invites.destination(invite)
    return topic_path(topic) if topic else "/"


def _page(invite: Invite | None, user=None, email_token=None, *, done: bool = False,
          error: ServiceError | None = None) -> Response:
    return link_page("invite.html", invite, inviter=invite and invite.invited_by, invite=invite,
                     topic=invites.destination(invite) if invite else None, email_token=email_token, done=done,
                     welcome=_welcome(user) if user else None, destination=_destination(invite) if invite else "/",
                     min_length=users.MIN_PASSWORD_LENGTH, **page_args(error))
