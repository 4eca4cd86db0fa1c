"""Discourse's groups endpoints: the groups (public), a group's members (staff and the group's own members), and
creating, changing and deleting groups and who is in them (admins)."""
import re

from flask import Blueprint

from forum.api.auth import current_actor
from forum.api.params import MAX_INTEGER, Params, params
from forum.api.routing import json_route
from forum.api.serializers.groups import basic_group, group_detail, group_members, group_page
from forum.models import Group, User
from forum.services import groups
from forum.services.errors import InvalidParameters, NotFound

bp = Blueprint("groups", __name__)


@json_route(bp, "/admin/groups", methods=["POST"])
def create():
    actor, values = current_actor(), params()
    members = groups.find_users(actor, usernames=_usernames(values.sent_nested("group", "usernames")))
    group = groups.create_group(
        actor,
        values.sent_nested("group", "name") or "",
        full_name=values.sent_nested("group", "full_name"),
        members=members,
        bio=values.sent_nested("group", "bio_raw"),
    )
    return {"basic_group": basic_group(groups.as_seen_by(actor, [group])[0])}


@json_route(bp, "/admin/groups/<int:group_id>", methods=["DELETE"])
def delete(group_id: int):
    groups.delete_group(current_actor(), group_id)
    return {"success": "OK"}


@json_route(bp, "/groups", methods=["GET"])
def index():
    values = params()
    found = groups.list_groups(current_actor(), page=values.integer("page", 0), type_filter=values.string("type"))
    return group_page(found)


@json_route(bp, "/groups/<name>", methods=["GET"])
def show(name: str):
    return _detail(groups.get_group_named(name))


@json_route(bp, "/groups/by-id/<int:group_id>", methods=["GET"])
def show_by_id(group_id: int):
    return _detail(groups.get_group(group_id))


@json_route(bp, "/groups/<group_id>", methods=["PUT"])
def update(group_id: str):
    actor, values = current_actor(), params()
    groups.update_group(
        actor,
        _id(group_id),
        name=values.sent_nested("group", "name"),
        full_name=values.sent_nested("group", "full_name"),
        bio=values.sent_nested("group", "bio_raw"),
    )
    return {"success": "OK"}


@json_route(bp, "/groups/<name>/members", methods=["GET"])
def members(name: str):
    values = params()
    group = groups.get_group_named(name)
    page = groups.member_page(
        current_actor(),
        group,
        offset=values.integer("offset", 0),
        limit=values.integer("limit", groups.MEMBERS_PAGE_SIZE),
    )
    return group_members(page)


@json_route(bp, "/groups/<group_id>/members", methods=["PUT"])
def add_members(group_id: str):
    actor, group = current_actor(), groups.get_group(_id(group_id))
    users = _members(actor, params())
    groups.add_members(actor, group, users)
    return {"success": "OK", "usernames": [user.username for user in users], "emails": []}


@json_route(bp, "/groups/<group_id>/members", methods=["DELETE"])
def remove_members(group_id: str):
    actor, group = current_actor(), groups.get_group(_id(group_id))
    removed, skipped = groups.remove_members(actor, group, _members(actor, params()))
    return {
        "success": "OK",
        "usernames": [user.username for user in removed],
        "skipped_usernames": [user.username for user in skipped],
    }


def _detail(group: Group) -> dict:
    viewer = current_actor()
    return group_detail(groups.as_seen_by(viewer, [group])[0], groups.group_names())


def _id(text: str) -> int:
    """A group's id where the path also takes a name for GET (``/groups/{name}``): one that is not a number names no
    group, a 404 as Discourse's Group.find, rather than a 405 for a method the name's route does not take."""
    if not re.fullmatch(r"[0-9]+", text) or int(text) > MAX_INTEGER:
        raise NotFound(f"There is no group with id {text!r}.")
    return int(text)


def _usernames(text: str | None) -> list[str]:
    """Discourse's comma-separated usernames."""
    return [name for name in (part.strip() for part in (text or "").split(",")) if name]


def _members(actor: User | None, values: Params) -> list[User]:
    """Whose membership a request changes (Discourse's users_from_params): ``usernames``, else ``user_id``."""
    user_id = values.integer("user_id")
    found = groups.find_users(
        actor, usernames=_usernames(values.string("usernames")), user_ids=[] if user_id is None else [user_id]
    )
    if not found:
        raise InvalidParameters("usernames or user_id must be present.")
    return found
