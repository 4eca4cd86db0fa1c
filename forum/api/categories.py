"""Discourse's categories endpoints: the category list, one category, and creating and changing them (admins)."""
import math

from flask import Blueprint

from forum.api.auth import current_actor
from forum.api.params import Params, params
from forum.api.routing import json_route
from forum.api.serializers.categories import category_detail, list_category
from forum.models import Category, User
from forum.services import categories, groups, guardian
from forum.services.errors import InvalidParameters

bp = Blueprint("categories", __name__)



@json_route(bp, "/categories", methods=["GET"])
def index():
    viewer = current_actor()
    include_subcategories = params().boolean("include_subcategories", False)
    visible = categories.visible_categories(viewer)
    visible_ids = {category.id for category in visible}
    counts = categories.category_counts(viewer, visible_ids)
    children = categories.children_by_parent(visible)
    # Subcategories appear under their parent; one whose parent the viewer may not see stands on its own.
    top_level = [category for category in visible if category.parent_category_id not in visible_ids]
    return {
        "category_list": {
            "can_create_category": guardian.allows(guardian.ensure_admin, viewer),
            "can_create_topic": guardian.allows(guardian.ensure_can_create_topic, viewer),
            "categories": [
                list_category(category, counts, children, viewer, include_subcategories=include_subcategories)
                for category in top_level
            ],
        }
    }


@json_route(bp, "/c/<int:category_id>/show", methods=["GET"])
def show(category_id: int):
    viewer = current_actor()
    return {"category": _detail(categories.get_visible_category(viewer, category_id), viewer)}


@json_route(bp, "/categories", methods=["POST"])
def create():
    actor = current_actor()
    values = params()
    category = categories.create_category(actor, _attributes(values), _permissions(values))
    return {"category": _detail(category, actor)}


@json_route(bp, "/categories/<int:category_id>", methods=["PUT"])
def update(category_id: int):
    actor = current_actor()
    values = params()
    category = categories.update_category(actor, category_id, _attributes(values), _permissions(values))
    return {"success": "OK", "category": _detail(category, actor)}


def _detail(category: Category, viewer: User | None) -> dict:
    counts = categories.category_counts(viewer, [category.id])
    editor = guardian.allows(guardian.ensure_can_edit_categories, viewer)
    return category_detail(
        category,
        counts[category.id],
        categories.visible_child_ids(viewer, category),
        viewer,
        permitted_groups=categories.permitted_groups([category.id])[category.id] if editor else None,
        all_groups=groups.all_groups() if editor else None,
    )


def _attributes(values: Params) -> dict:
    """The category fields the request gives (an empty value clears a field that may be empty)."""
    readers = {
        "name": values.string,
        "slug": values.string,
        "color": values.string,
        "text_color": values.string,
        "description": values.string,
        "parent_category_id": lambda name: values.integer(name, minimum=1),
        "auto_close_hours": lambda name: _hours(values.string(name)),
        "auto_close_based_on_last_post": lambda name: values.boolean(name, False),
    }
    return {name: read(name) for name, read in readers.items() if values.has(name)}


def _hours(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        hours = float(value)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours):
        raise InvalidParameters("auto_close_hours must be a number of hours.")
    return hours


def _permissions(values: Params) -> dict[str, int] | None:
    """Discourse's category permissions, ``permissions[group_name]=type`` (form) or ``{"permissions": {...}}``
    (JSON); None when the request gives none."""
    given = values.mapping("permissions")
    if given is None:
        return None
    return {name: _permission_type(name, value) for name, value in given.items()}


def _permission_type(group_name: str, value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise InvalidParameters(f"permissions[{group_name}] must be a permission type number.") from None
