"""Tactics (our extension): the "Tactics" tag group's tags with what the bot knows of each. Admins add,
rename and retire tactics through the tag-group and tag endpoints, and describe them here."""
from flask import Blueprint

from forum.api.auth import current_actor, require_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.models import Tag
from forum.services import guardian, tactics

bp = Blueprint("tactics", __name__)


def _tactic(tag: Tag, examples: list[str]) -> dict:
    return {"id": tag.id, "name": tag.name, "description": tag.description or "", "examples": examples}


@json_route(bp, "/tactics", methods=["GET"])
def index():
    guardian.ensure_staff(current_actor())
    group = tactics.tactics_group()
    tags = tactics.tactic_tags()
    examples = tactics.tactic_examples(tags)
    return {"tag_group_id": group.id, "tactics": [_tactic(tag, examples.get(tag.id, [])) for tag in tags]}


@json_route(bp, "/tactics/<name>", methods=["PUT"])
def update(name: str):
    values = params()
    examples = values.string_list("examples") if values.has("examples") or values.has("examples[]") else None
    tag = tactics.update_tactic(require_actor(), name, description=values.string("description"), examples=examples)
    return {"tactic": _tactic(tag, tactics.tactic_examples([tag]).get(tag.id, []))}
