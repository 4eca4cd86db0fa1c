"""Discourse's site endpoints: what the site is and holds, as far as the caller may see."""
from flask import Blueprint, current_app

from forum.api.auth import current_actor
from forum.api.routing import json_route
from forum.api.serializers.site import about as about_shape
from forum.api.serializers.site import basic_info as basic_info_shape
from forum.api.serializers.site import site as site_shape
from forum.services import categories, groups, guardian, tags

bp = Blueprint("site", __name__)


@json_route(bp, "/site", methods=["GET"])
def site():
    viewer = current_actor()
    visible = categories.visible_categories(viewer)
    return site_shape(
        viewer,
        categories=visible,
        counts=categories.category_counts(viewer, [category.id for category in visible]),
        children=categories.children_by_parent(visible),
        groups=groups.all_groups(),
        top_tags=tags.top_tags(viewer),
        # Topics take tags from anyone who may create them (forum.services.topics).
        can_tag_topics=guardian.allows(guardian.ensure_can_create_topic, viewer),
        can_create_tag=guardian.can_create_tag(viewer),
        likes_used=categories.likes_given(),
    )


@json_route(bp, "/site/basic-info", methods=["GET"])
def basic_info():
    return basic_info_shape(title=_title(), description=_description())


@json_route(bp, "/site/statistics", methods=["GET"])
def statistics():
    return categories.site_statistics(current_actor())


@json_route(bp, "/about", methods=["GET"])
def about():
    admins, moderators = groups.staff_members()
    return about_shape(
        title=_title(),
        description=_description(),
        https=current_app.config["BASE_URL"].startswith("https://"),
        created_at=categories.site_created_at(),
        stats=categories.site_statistics(current_actor()),
        admins=admins,
        moderators=moderators,
    )


def _title() -> str:
    return current_app.config["SITE_TITLE"]


def _description() -> str:
    return current_app.config.get("SITE_DESCRIPTION") or ""


