"""Discourse's tags endpoints: tags with their visible topic counts, and tag groups (staff)."""
from flask import Blueprint

from forum.api.auth import current_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.tags import tag_group, tag_group_detail, tag_with_count
from forum.services import tags

bp = Blueprint("tags", __name__)


@json_route(bp, "/tags", methods=["GET"])
def index():
    counts = tags.tag_counts(current_actor())
    # Discourse's extras.categories lists tags limited to categories; this forum has no such limits.
    return {"tags": [tag_with_count(tag, count) for tag, count in counts], "extras": {"categories": []}}


@json_route(bp, "/tag/<name>", methods=["PUT"])
def rename(name: str):
    """Discourse's tag rename: ``tag[id]=<new name>`` (or ``{"tag": {"id": ...}}``)."""
    tag = tags.rename_tag(current_actor(), name, params().nested("tag", "id"))
    return {"tag": {"id": tag.name, "name": tag.name, "description": tag.description}}


@json_route(bp, "/tag_groups", methods=["GET"])
def tag_groups():
    return {"tag_groups": [tag_group(group) for group in tags.all_tag_groups(current_actor())]}


@json_route(bp, "/tag_groups", methods=["POST"])
def create_tag_group():
    values = params()
    group = tags.create_tag_group(
        current_actor(),
        name=values.string("name"),
        tag_names=values.string_list("tag_names"),
        one_per_topic=values.boolean("one_per_topic", False),
    )
    return {"tag_group": tag_group(group)}


@json_route(bp, "/tag_groups/<int:tag_group_id>", methods=["GET"])
def show_tag_group(tag_group_id: int):
    return {"tag_group": tag_group_detail(tags.get_tag_group(current_actor(), tag_group_id))}


@json_route(bp, "/tag_groups/<int:tag_group_id>", methods=["PUT"])
def update_tag_group(tag_group_id: int):
    actor = current_actor()
    values = params()
    group = tags.update_tag_group(
        actor,
        tags.get_tag_group(actor, tag_group_id),
        name=values.string("name", "") if values.has("name") else None,
        tag_names=values.string_list("tag_names") if values.has("tag_names") else None,
        one_per_topic=values.boolean("one_per_topic"),
    )
    return {"success": "OK", "tag_group": tag_group_detail(group)}
