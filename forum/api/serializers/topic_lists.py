"""Discourse's topic list: ``{"users", "primary_groups", "topic_list": {..., "topics": [...]}}``.

Discourse serialises every list with one TopicListSerializer, but its OpenAPI file documents each
list path with a schema of its own, and the schemas disagree on a few fields. ``ListShape`` names
those differences, so each field is still defined once below and every path's response validates.
"""
from dataclasses import dataclass

from forum.api.serializers import fancy_title, iso
from forum.api.serializers.posts import category_id
from forum.api.serializers.tags import tag_reference
from forum.api.serializers.users import basic_user
from forum.models import Tag, Topic, User
from forum.services.topic_lists import TopicList, TopicListItem


@dataclass(frozen=True)
class ListShape:
    # The caller's read position, unread count and notification level, on topics the caller has
    # opened (Discourse sends them only then). /c/{slug}/{id}.json's schema has none of them.
    read_state: bool = True
    # The topic's tag names: /c/{slug}/{id}.json's schema forbids them.
    tags: bool = True
    # The opening post's excerpt: /c/{slug}/{id}.json's schema requires it; Discourse sends it there.
    excerpt: bool = False
    # /c/{slug}/{id}.json's schema has no more_topics_url (clients page there with ?page=).
    more_topics_url: bool = True
    # No topic images: null, except that /latest.json's schema types image_url as a string only.
    image_url: str | None = None
    # No per-user unpinning: null, except that /top.json's schema types unpinned as a boolean.
    unpinned: bool | None = None
    # /c/{slug}/{id}.json's schema types liked and bookmarked as string|null; the others as booleans.
    user_flags_as_null: bool = False
    # A private message has no category: null, as the message lists' schemas have it (the others require an integer).
    category_as_null: bool = False


LATEST = ListShape(image_url="")
TOP = ListShape(unpinned=False)
TAG = ListShape()
CATEGORY = ListShape(read_state=False, tags=False, excerpt=True, more_topics_url=False, user_flags_as_null=True)
MESSAGES = ListShape(category_as_null=True)


def topic_list(result: TopicList, shape: ListShape, *, more_topics_url: str | None = None, **extra) -> dict:
    """The whole response. ``extra``: fields of this list only (``for_period`` on /top, ``tags`` on /tag)."""
    listing = {"can_create_topic": result.can_create_topic}
    if shape.more_topics_url and result.has_more and more_topics_url:
        listing["more_topics_url"] = more_topics_url
    listing.update(extra)
    listing["per_page"] = result.per_page
    listing["top_tags"] = [tag_reference(tag) for tag in result.top_tags]
    listing["topics"] = [topic_list_item(item, result.users, shape) for item in result.items]
    return {
        "users": [basic_user(user) for user in result.users.values()],
        "primary_groups": [],
        "topic_list": listing,
    }


def tag_summary(tag: Tag, topic_count: int) -> dict:
    """The tag a /tag/{name} list is about, as its ``topic_list.tags`` shows it."""
    return {"id": tag.id, "name": tag.name, "topic_count": topic_count, "staff": False}


def topic_list_item(item: TopicListItem, users: dict[int, User], shape: ListShape) -> dict:
    topic = item.topic
    fields = {
        "id": topic.id,
        "title": topic.title,
        "fancy_title": fancy_title(topic.title),
        "slug": topic.slug,
        "posts_count": topic.posts_count,
        "reply_count": topic.reply_count,
        "highest_post_number": topic.highest_post_number,
        "image_url": shape.image_url,
        "created_at": iso(topic.created_at),
        "last_posted_at": iso(topic.last_posted_at or topic.created_at),
        "bumped": topic.created_at < topic.bumped_at,
        "bumped_at": iso(topic.bumped_at),
        "archetype": topic.archetype,
        "unseen": item.unseen,
        "pinned": item.pinned,
        "unpinned": shape.unpinned,
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "bookmarked": None if shape.user_flags_as_null else False,
        "liked": None if shape.user_flags_as_null else item.liked,
        "views": topic.views,
        "like_count": topic.like_count,
        "has_summary": False,
        "last_poster_username": users[topic.last_post_user_id or topic.user_id].username,
        "category_id": None if shape.category_as_null else category_id(topic),
        "pinned_globally": topic.pinned_globally,
        "featured_link": None,
        "posters": posters(topic),
    }
    if shape.read_state and item.last_read_post_number is not None:
        fields["last_read_post_number"] = item.last_read_post_number
        fields["unread_posts"] = item.unread_posts
    if shape.read_state and item.notification_level is not None:
        fields["notification_level"] = item.notification_level
    if shape.excerpt:
        fields["excerpt"] = item.excerpt
    if shape.tags:
        fields["tags"] = item.tag_names
    return fields


def posters(topic: Topic) -> list[dict]:
    """Discourse's posters summary, from the author and the last poster (both in the list's ``users``)."""
    last_poster_id = topic.last_post_user_id or topic.user_id
    if last_poster_id == topic.user_id:
        return [_poster(topic.user_id, "Original Poster, Most Recent Poster", "latest single")]
    # Discourse sends extras null for all but the latest poster; the schemas require a string.
    return [_poster(topic.user_id, "Original Poster", ""), _poster(last_poster_id, "Most Recent Poster", "latest")]


def _poster(user_id: int, description: str, extras: str) -> dict:
    return {"extras": extras, "description": description, "user_id": user_id, "primary_group_id": None}
