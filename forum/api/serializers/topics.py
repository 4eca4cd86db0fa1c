"""A topic as Discourse's topic view shows it (GET /t/{id}.json), and its basic shape (PUT /t/-/{id}.json)."""
from forum.api.serializers import avatar_template, fancy_title, iso
from forum.api.serializers.posts import category_id, stream_post
from forum.api.serializers.tags import tag_reference
from forum.api.serializers.timers import topic_timer
from forum.api.serializers.users import basic_user, display_name, trust_level
from forum.models import Bookmark, Role, Topic, User
from forum.services import guardian, topics
from forum.services.topics import CHUNK_SIZE, TopicView


def topic_bookmark(bookmark: Bookmark) -> dict:
    """One of the viewer's bookmarks in the topic, as Discourse's topic view lists them."""
    return {
        "id": bookmark.id,
        "bookmarkable_id": bookmark.bookmarkable_id,
        "bookmarkable_type": bookmark.bookmarkable_type,
        "name": bookmark.name,
        "reminder_at": iso(bookmark.reminder_at),
    }


def topic_view(view: TopicView) -> dict:
    topic, context = view.topic, view.context
    fields = {
        "post_stream": {
            "posts": [stream_post(post, context) for post in view.posts],
            "stream": view.stream,
        },
        "timeline_lookup": view.timeline_lookup,
        "suggested_topics": [],
        "tags": [tag_reference(tag) for tag in view.tags],
        # The schema allows no keys here; Discourse would send tag descriptions.
        "tags_descriptions": {},
        "id": topic.id,
        "title": topic.title,
        "fancy_title": fancy_title(topic.title),
        "posts_count": topic.posts_count,
        "created_at": iso(topic.created_at),
        "views": topic.views,
        "reply_count": topic.reply_count,
        "like_count": topic.like_count,
        "last_posted_at": iso(topic.last_posted_at),
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "has_summary": False,
        "archetype": topic.archetype,
        "slug": topic.slug,
        "category_id": category_id(topic),
        "word_count": None,
        "deleted_at": iso(topic.deleted_at),
        "user_id": topic.user_id,
        "featured_link": None,
        "pinned_globally": topic.pinned_globally,
        "pinned_at": iso(topic.pinned_at),
        "pinned_until": iso(topic.pinned_until),
        "image_url": None,
        "slow_mode_seconds": 0,
        "draft": None,
        "draft_key": f"topic_{topic.id}",
        "draft_sequence": 0,
        "unpinned": None,
        "pinned": topics.is_pinned(topic),
        "highest_post_number": view.highest_post_number,
        # Discourse sends the deleting user as an object; the schema types deleted_by as string|null.
        "deleted_by": context.users[topic.deleted_by_id].username if topic.deleted_by_id else None,
        "has_deleted": view.has_deleted,
        "actions_summary": [],
        "chunk_size": CHUNK_SIZE,
        "bookmarked": topic.id in context.bookmarks.by_topic,
        "bookmarks": [topic_bookmark(b) for b in context.bookmarks.by_topic.get(topic.id, [])],
        # Discourse sends an object here; the OpenAPI file types it string|null (see README).
        "topic_timer": topic_timer(view.timer),
        "message_bus_last_id": 0,
        "participant_count": view.participant_count,
        "show_read_indicator": False,
        "thumbnails": None,
        "slow_mode_enabled_until": None,
        "details": _details(view),
    }
    if view.current_post_number is not None:
        fields["current_post_number"] = view.current_post_number
    return fields


def _details(view: TopicView) -> dict:
    topic, viewer, users = view.topic, view.context.viewer, view.context.users
    may_moderate = guardian.allows(guardian.ensure_staff, viewer)
    may_change_status = guardian.allows(guardian.ensure_can_change_topic_status, viewer)
    return {
        "can_edit": guardian.allows(guardian.ensure_can_edit_topic, viewer, topic),
        "notification_level": view.notification_level,
        "can_move_posts": False,
        "can_delete": not topic.is_deleted and guardian.allows(guardian.ensure_can_delete_topic, viewer, topic),
        "can_remove_allowed_users": guardian.can_take_others_out(viewer, topic),
        "can_create_post": guardian.allows(guardian.ensure_can_reply, viewer, topic),
        "can_reply_as_new_topic": False,
        "can_convert_topic": False,
        "can_review_topic": may_moderate,
        "can_close_topic": may_change_status,
        "can_archive_topic": may_change_status,
        "can_split_merge_topic": False,
        "can_edit_staff_notes": False,
        "can_toggle_topic_visibility": may_change_status,
        "can_pin_unpin_topic": may_change_status,
        "can_moderate_category": may_moderate,
        # A private message's "leave it": the viewer's id when they are among its people (the schema requires an integer).
        "can_remove_self_id": viewer.id if viewer is not None and topic.is_private_message and guardian.is_among(viewer, topic) else 0,
        "participants": [_participant(users[user_id], post_count) for user_id, post_count in view.participants],
        "created_by": basic_user(users[topic.user_id]),
        "last_poster": basic_user(users[topic.last_post_user_id or topic.user_id]),
    }


def _participant(user: User, post_count: int) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "name": display_name(user),
        "avatar_template": avatar_template(user),
        "post_count": post_count,
        "primary_group_name": None,
        "flair_name": None,
        "flair_url": None,
        "flair_color": None,
        "flair_bg_color": None,
        "admin": user.is_admin,
        "moderator": user.role == Role.MODERATOR,
        "trust_level": trust_level(user),
    }


def basic_topic(topic: Topic) -> dict:
    """PUT /t/-/{id}.json's answer."""
    return {
        "basic_topic": {
            "id": topic.id,
            "title": topic.title,
            "fancy_title": fancy_title(topic.title),
            "slug": topic.slug,
            "posts_count": topic.posts_count,
        }
    }
