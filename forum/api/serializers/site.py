"""The site as Discourse describes it: GET /site.json, GET /site/basic-info.json and GET /about.json.

Discourse's constants (notification types, trust levels, list filters) are sent as Discourse defines them,
since clients rely on them; settings for features this forum lacks carry their neutral value.
"""
from collections.abc import Mapping
from datetime import datetime

from forum.api.serializers import iso
from forum.api.serializers.categories import site_category
from forum.api.serializers.tags import tag_reference
from forum.api.serializers.users import basic_user
from forum.models import Category, Group, PostActionType, PostType, Tag, User
from forum.services.categories import CategoryCounts
from forum.services.tags import TAGS_FILTER_PATTERN

LOCALE = "en"

# Discourse's Notification.types.
NOTIFICATION_TYPES = {
    "mentioned": 1,
    "replied": 2,
    "quoted": 3,
    "edited": 4,
    "liked": 5,
    "private_message": 6,
    "invited_to_private_message": 7,
    "invitee_accepted": 8,
    "posted": 9,
    "moved_post": 10,
    "linked": 11,
    "granted_badge": 12,
    "invited_to_topic": 13,
    "custom": 14,
    "group_mentioned": 15,
    "group_message_summary": 16,
    "watching_first_post": 17,
    "topic_reminder": 18,
    "liked_consolidated": 19,
    "post_approved": 20,
    "code_review_commit_approved": 21,
    "membership_request_accepted": 22,
    "membership_request_consolidated": 23,
    "bookmark_reminder": 24,
    "reaction": 25,
    "votes_released": 26,
    "event_reminder": 27,
    "event_invitation": 28,
    "chat_mention": 29,
    "chat_message": 30,
    "chat_invitation": 31,
    "chat_group_mention": 32,
    "chat_quoted": 33,
    "assigned": 34,
    "question_answer_user_commented": 35,
    "watching_category_or_tag": 36,
    "new_features": 37,
    "admin_problems": 38,
    "linked_consolidated": 39,
    "chat_watched_thread": 40,
    "upcoming_change_available": 41,
    "upcoming_change_automatically_promoted": 42,
    "boost": 43,
    "suggested_edit_created": 44,
    "suggested_edit_accepted": 45,
    "following": 800,
    "following_created_topic": 801,
    "following_replied": 802,
    "circles_activity": 900,
}
TRUST_LEVELS = {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4}
# Discourse.filters, TopTopic.periods, and the top menus built from them.
FILTERS = ["latest", "unread", "new", "unseen", "top", "read", "posted", "bookmarks", "hot"]
PERIODS = ["all", "yearly", "quarterly", "monthly", "weekly", "daily"]
TOP_MENU_ITEMS = [*FILTERS, "categories"]
ANONYMOUS_TOP_MENU_ITEMS = ["latest", "top", "categories", "hot"]
# Discourse has an "Uncategorized" category for topics without one; here such topics have no category, so
# no category id means it (the schema asks for an integer).
UNCATEGORIZED_CATEGORY_ID = 0


def site(
    viewer: User | None,
    *,
    categories: list[Category],
    counts: Mapping[int, CategoryCounts],
    children: Mapping[int, list[Category]],
    groups: list[Group],
    top_tags: list[Tag],
    can_tag_topics: bool,
    can_create_tag: bool,
    likes_used: bool,
) -> dict:
    """GET /site.json: the categories and groups ``viewer`` may see, and Discourse's constants."""
    return {
        "default_archetype": "regular",
        "notification_types": NOTIFICATION_TYPES,
        "post_types": {kind.name.lower(): kind.value for kind in PostType},
        "trust_levels": TRUST_LEVELS,
        "groups": [_group(group) for group in groups],
        "filters": FILTERS,
        "homepage_choices": [],
        "periods": PERIODS,
        "top_menu_items": TOP_MENU_ITEMS,
        "anonymous_top_menu_items": ANONYMOUS_TOP_MENU_ITEMS,
        "uncategorized_category_id": UNCATEGORIZED_CATEGORY_ID,
        "user_field_max_length": 0,
        "post_action_types": [_like_action_type(likes_used)],
        "topic_flag_types": [],
        "can_create_tag": can_create_tag,
        "can_tag_topics": can_tag_topics,
        "can_tag_pms": False,
        "tags_filter_regexp": TAGS_FILTER_PATTERN,
        "top_tags": [tag_reference(tag) for tag in top_tags],
        "email_configured": False,
        "topic_featured_link_allowed_category_ids": [],
        "user_themes": [],
        "user_color_schemes": [],
        "default_light_color_scheme": None,
        "default_dark_color_scheme": None,
        "censored_regexp": [],
        "custom_emoji_translation": {},
        "watched_words_replace": None,
        "watched_words_link": None,
        "categories": [
            site_category(category, counts.get(category.id, CategoryCounts()), [kid.id for kid in children.get(category.id, [])], viewer)
            for category in categories
        ],
        "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []},
                       {"id": "private_message", "name": "Private Message", "options": []}],
        "user_fields": [],
        "auth_providers": [],
        "full_name_required_for_signup": False,
        "full_name_visible_in_signup": True,
    }


def _group(group: Group) -> dict:
    return {"id": group.id, "name": group.name, "flair_url": None, "flair_bg_color": None, "flair_color": None, "automatic": False}


def _like_action_type(used: bool) -> dict:
    """Likes, the one post action this forum has (flags it has not)."""
    return {
        "id": PostActionType.LIKE.value,
        "name_key": "like",
        "name": "Like",
        "description": "Like this post",
        "short_description": "Like this post",
        "is_flag": False,
        "require_message": False,
        "enabled": True,
        "applies_to": ["Post"],
        "is_used": used,
        "auto_action_type": False,
    }


def basic_info(*, title: str, description: str) -> dict:
    """GET /site/basic-info.json. The forum has no logos or theme colours: their values are empty."""
    return {
        "logo_url": "",
        "logo_small_url": "",
        "apple_touch_icon_url": "",
        "favicon_url": "",
        "title": title,
        "description": description,
        "header_primary_color": "",
        "header_background_color": "",
        "login_required": False,
        "locale": LOCALE,
        "include_in_discourse_discover": False,
        "mobile_logo_url": "",
    }


def about(
    *,
    title: str,
    description: str,
    https: bool,
    created_at: datetime | None,
    stats: dict[str, int],
    admins: list[User],
    moderators: list[User],
) -> dict:
    """GET /about.json as Discourse answers it: the about record, with its staff sideloaded as ``users``.
    The spec does not document this endpoint."""
    return {
        "users": [_about_user(user) for user in [*admins, *moderators]],
        "categories": [],  # Discourse sideloads the categories of category moderators; there are none here
        "about": {
            "stats": stats,
            "description": description,
            "extended_site_description": "",
            "banner_image": None,
            "site_creation_date": iso(created_at),
            "title": title,
            "locale": LOCALE,
            "version": "",
            "https": https,
            "can_see_about_stats": True,
            "contact_url": "",
            "contact_email": "",
            "moderator_ids": [user.id for user in moderators],
            "admin_ids": [user.id for user in admins],
            "category_moderators": [],
        },
    }


def _about_user(user: User) -> dict:
    return {**basic_user(user), "title": None, "last_seen_at": iso(user.last_seen_at)}
