"""Categories as Discourse shows them: in GET /categories.json, in GET /site.json, and alone (show, create,
update). The fields every shape has are defined once, in ``_core``."""
from collections.abc import Mapping

from forum.content import excerpt, plain_text
from forum.models import Category, Group, User
from forum.services import guardian
from forum.services.categories import PERMISSION_FULL, CategoryCounts

# Discourse's CategoryGroup permission type for reading only: what a visitor who cannot post gets.
PERMISSION_READONLY = 3
EVERYONE_GROUP_ID = 0  # Discourse's id for its automatic "everyone" group
NOTIFICATION_LEVEL_REGULAR = 1  # Discourse's default category notification level
DESCRIPTION_EXCERPT_LENGTH = 300


def _core(category: Category, counts: CategoryCounts, child_ids: list[int], viewer: User | None) -> dict:
    description = category.description
    return {
        "id": category.id,
        "name": category.name,
        "color": category.color,
        "text_color": category.text_color,
        "style_type": "square",
        "emoji": None,
        "icon": None,
        "slug": category.slug,
        "topic_count": counts.topic_count,
        "post_count": counts.post_count,
        "position": category.position,
        "description": description,
        "description_text": plain_text(description) if description else None,
        "description_excerpt": excerpt(description, DESCRIPTION_EXCERPT_LENGTH) if description else None,
        # Discourse links a category's "About" topic here; this forum has none, and /site.json's schema
        # allows only a string.
        "topic_url": "",
        "read_restricted": category.read_restricted,
        "permission": _permission(viewer),
        "notification_level": NOTIFICATION_LEVEL_REGULAR,
        "can_edit": guardian.allows(guardian.ensure_can_edit_categories, viewer),
        "topic_template": None,
        "topic_title_placeholder": None,
        "has_children": bool(child_ids),
        "subcategory_count": len(child_ids),
        "sort_order": None,
        "sort_ascending": None,
        "show_subcategory_list": False,
        "num_featured_topics": 3,  # Discourse's default
        "default_view": None,
        "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": "all",
        "default_list_filter": "all",
        "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False,
        "uploaded_logo": None,
        "uploaded_logo_dark": None,
        "uploaded_background": None,
        "uploaded_background_dark": None,
    }


def _permission(viewer: User | None) -> int:
    """Discourse's permission the viewer has in the category: anyone who may post has full access here;
    anonymous and suspended visitors may only read."""
    return PERMISSION_FULL if viewer is not None and viewer.is_active else PERMISSION_READONLY


def list_category(
    category: Category,
    counts: Mapping[int, CategoryCounts],
    children: Mapping[int, list[Category]],
    viewer: User | None,
    *,
    include_subcategories: bool = False,
) -> dict:
    """A category in GET /categories.json's category_list, its visible subcategories listed by id (and in
    full with include_subcategories, as Discourse's subcategory_list, each with its parent_category_id)."""
    kids = children.get(category.id, [])
    own = counts.get(category.id, CategoryCounts())
    body = {
        **_core(category, own, [kid.id for kid in kids], viewer),
        "topics_day": own.topics_day,
        "topics_week": own.topics_week,
        "topics_month": own.topics_month,
        "topics_year": own.topics_year,
        "topics_all_time": own.topic_count,
        "subcategory_ids": [kid.id for kid in kids],
    }
    if include_subcategories:
        body["subcategory_list"] = [
            {
                **list_category(kid, counts, children, viewer, include_subcategories=True),
                "parent_category_id": category.id,
            }
            for kid in kids
        ]
    return body


def site_category(category: Category, counts: CategoryCounts, child_ids: list[int], viewer: User | None) -> dict:
    """A category in GET /site.json's categories (Discourse's SiteCategorySerializer)."""
    body = {
        **_core(category, counts, child_ids, viewer),
        "allow_global_tags": False,
        "required_tag_groups": [],
        "read_only_banner": None,
        "custom_fields": {},
        "form_template_ids": [],
    }
    if category.parent_category_id is not None:
        body["parent_category_id"] = category.parent_category_id
    return body


def category_detail(
    category: Category,
    counts: CategoryCounts,
    child_ids: list[int],
    viewer: User | None,
    *,
    permitted_groups: list[Group] | None,
    all_groups: list[Group] | None,
) -> dict:
    """One category, as GET /c/{id}/show.json, POST /categories.json and PUT /categories/{id}.json answer.

    Who may see it (group_permissions, available_groups) is shown to those who may edit it, as in Discourse:
    the groups are None for others (and never loaded). The spec's schema has no parent_category_id, so it is
    not sent here."""
    editor = permitted_groups is not None and all_groups is not None
    return {
        **_core(category, counts, child_ids, viewer),
        "form_template_ids": [],
        "custom_fields": {},
        "required_tag_groups": [],
        "read_only_banner": None,
        "available_groups": _available_groups(category, permitted_groups, all_groups) if editor else [],
        # The spec types it as a string (Discourse sends a number).
        "auto_close_hours": f"{category.auto_close_hours:g}" if category.auto_close_hours is not None else None,
        "auto_close_based_on_last_post": category.auto_close_based_on_last_post,
        "allow_unlimited_owner_edits_on_first_post": False,
        "default_slow_mode_seconds": None,
        "group_permissions": _group_permissions(category, permitted_groups) if editor else [],
        "email_in": None,
        "email_in_allow_strangers": False,
        "mailinglist_mirror": False,
        "all_topics_wiki": False,
        "can_delete": False,  # this forum has no way to delete a category
        "allow_badges": False,
        "topic_featured_link_allowed": False,
        "search_priority": 0,
        "topic_posting_review_group_ids": [],
        "reply_posting_review_group_ids": [],
    }


def _group_permissions(category: Category, permitted_groups: list[Group]) -> list[dict]:
    if not category.read_restricted:
        return [{"permission_type": PERMISSION_FULL, "group_name": "everyone", "group_id": EVERYONE_GROUP_ID}]
    return [{"permission_type": PERMISSION_FULL, "group_name": group.name, "group_id": group.id} for group in permitted_groups]


def _available_groups(category: Category, permitted_groups: list[Group], all_groups: list[Group]) -> list[str]:
    granted = {group.id for group in permitted_groups} if category.read_restricted else set()
    return [group.name for group in all_groups if group.id not in granted]
