"""Discourse's users endpoints: sign-up, a user's page and email, and the staff's list, activation and suspension."""
from flask import Blueprint, request, session

from forum.api.auth import ACTIVATING_USER, SESSION_TOKEN, current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.users import (
    admin_user_detail,
    admin_user_list,
    directory_page,
    failure_result,
    signup_result,
    silencing,
    suspension,
    unsilencing,
    unsuspension,
    user_emails,
    user_profile,
)
from forum.api.serializers.user_actions import user_action
from forum.api.session import passed_honeypot
from forum.services import bot_preferences as bot_preferences_service
from forum.services import activations, directory, user_actions, users
from forum.services.errors import InvalidParameters, NotAllowed, ValidationFailed

bp = Blueprint("users", __name__)


@json_route(bp, "/users", methods=["POST"])
def create():
    actor = current_actor()  # first, so that a bad API key is refused before anything else
    values = params()
    # As Discourse, only sign-ups from a browser (no API key) must answer GET /session/hp's challenge.
    if not request.headers.get("Api-Key") and not passed_honeypot(values):
        raise NotAllowed("Sign-up refused: the sign-up challenge from /session/hp.json was not answered.")
    try:
        user = activations.sign_up(
            actor,
            username=values.string("username"),
            email=values.string("email"),
            password=values.string("password"),
            name=values.string("name"),
            active=values.boolean("active", False),
        )
    except ValidationFailed as failure:
        return failure_result(failure), failure.status_code
    if not user.active:
        session[ACTIVATING_USER] = user.id  # it may ask for its activation mail again
    return signup_result(user, mailed=activations.by_email())


@json_route(bp, "/u/<username>", methods=["GET"])
@json_route(bp, "/users/<username>", methods=["GET"])  # Discourse's older path, still used by clients
def show(username: str):
    return user_profile(users.profile(current_actor(), username, session_token=session.get(SESSION_TOKEN)))


@json_route(bp, "/u/<username>", methods=["PUT"])
def update(username: str):
    actor, values = current_actor(), params()
    # An empty name clears it; no name leaves it as it is.
    user = users.update_profile(actor, username, name=values.sent_string("name"), email_level=values.integer("email_level"),
                                email_digests=values.boolean("email_digests"),
                                digest_after_minutes=values.integer("digest_after_minutes"))
    return {"success": "OK", "user": user_profile(users.profile(actor, user.username, session_token=session.get(SESSION_TOKEN)))["user"]}


@json_route(bp, "/u/<username>/preferences/username", methods=["PUT"])
def change_username(username: str):
    actor = current_actor()
    user = users.change_username(actor, username, params().string("new_username", required=True))
    return {"id": user.id, "username": user.username}


@json_route(bp, "/directory_items", methods=["GET"])
def directory_items():
    values = params()
    return directory_page(directory.directory(
        current_actor(), period=values.string("period", required=True), order=values.string("order"),
        ascending=values.boolean("asc", False), page=values.integer("page", 0, minimum=0)))


@json_route(bp, "/user_actions", methods=["GET"])
def actions():
    actor, values = current_actor(), params()
    found = user_actions.user_actions(
        actor,
        values.string("username", required=True),
        user_actions.parse_filter(values.string("filter")),
        offset=values.integer("offset", 0, minimum=0),
    )
    return {"user_actions": [user_action(action) for action in found]}


@json_route(bp, "/u/<username>/emails", methods=["GET"])
def emails(username: str):
    return user_emails(users.emails(current_actor(), username))


@json_route(bp, "/admin/users/list/<flag>", methods=["GET"])
def admin_list(flag: str):
    values = params()
    user_list = users.list_users(
        current_actor(),
        flag,
        order=values.string("order"),
        ascending=values.boolean("asc", False),
        page=values.integer("page", 1),
        email=values.string("email"),
        ip=values.string("ip"),
        filter_text=values.string("filter"),
        show_emails=values.boolean("show_emails", False),
    )
    return admin_user_list(user_list)


@json_route(bp, "/admin/users", methods=["GET"])
def admin_list_all():
    """Discourse's GET /admin/users.json: the staff's list of every account, with the same parameters."""
    return admin_list("all")


@json_route(bp, "/admin/users/<int:user_id>", methods=["GET"])
def admin_show(user_id: int):
    return admin_user_detail(users.admin_detail(current_actor(), user_id))


@json_route(bp, "/admin/users/<int:user_id>", methods=["DELETE"])
def admin_delete(user_id: int):
    users.delete_user(current_actor(), user_id, delete_posts=params().boolean("delete_posts", False))
    return {"deleted": True}


@json_route(bp, "/admin/users/<int:user_id>/activate", methods=["PUT"])
def activate(user_id: int):
    users.activate(current_actor(), user_id)
    return {"success": "OK"}


@json_route(bp, "/admin/users/<int:user_id>/deactivate", methods=["PUT"])
def deactivate(user_id: int):
    users.deactivate(current_actor(), user_id)
    return {"success": "OK"}


@json_route(bp, "/admin/users/<int:user_id>/anonymize", methods=["PUT"])
def anonymize(user_id: int):
    user = users.anonymize(current_actor(), user_id)
    return {"success": "OK", "username": user.username}


@json_route(bp, "/admin/users/<int:user_id>/log_out", methods=["POST"])
def log_out(user_id: int):
    users.log_out(current_actor(), user_id)
    return {"success": "OK"}


@json_route(bp, "/admin/users/<int:user_id>/suspend", methods=["PUT"])
def suspend(user_id: int):
    actor = current_actor()
    values = params()
    user = users.suspend(actor, user_id, until=values.string("suspend_until"), reason=values.string("reason"))
    return suspension(user, actor)


@json_route(bp, "/admin/users/<int:user_id>/silence", methods=["PUT"])
def silence(user_id: int):
    actor, values = current_actor(), params()
    user = users.silence(actor, user_id, until=values.string("silenced_till"), reason=values.string("reason"))
    return silencing(user, actor)


@json_route(bp, "/admin/users/<int:user_id>/unsilence", methods=["PUT"])
def unsilence(user_id: int):
    users.unsilence(current_actor(), user_id)
    return unsilencing()


@json_route(bp, "/admin/users/<int:user_id>/unsuspend", methods=["PUT"])
def unsuspend(user_id: int):
    users.unsuspend(current_actor(), user_id)
    return unsuspension()


@json_route(bp, "/u/<username>/bot-preferences", methods=["GET"])
def bot_preferences(username: str):
    """Our extension: whether bots (summaries, tactic suggestions, digests' quotes) may read the user's posts."""
    user = bot_preferences_service.get_preference(current_actor(), username)
    return {"username": user.username, "bot_opt_out": user.bot_opt_out}


@json_route(bp, "/u/<username>/bot-preferences", methods=["PUT"])
def set_bot_preferences(username: str):
    opt_out = params().boolean("bot_opt_out")
    if opt_out is None:
        raise InvalidParameters("bot_opt_out is required (true or false).")
    user = bot_preferences_service.set_bot_opt_out(current_actor(), username, opt_out)
    return {"username": user.username, "bot_opt_out": user.bot_opt_out}
