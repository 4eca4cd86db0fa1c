"""Bookmarks: POST /bookmarks.json, PUT and DELETE /bookmarks/{id}.json, PUT /t/{id}/bookmark.json and
/t/{id}/remove_bookmarks.json, GET /u/{username}/bookmarks.json, as Discourse's."""
from flask import Blueprint

from forum.api.auth import require_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.bookmarks import bookmark_page
from forum.models import BookmarkableType
from forum.services import bookmarks

bp = Blueprint("bookmarks", __name__)


@json_route(bp, "/bookmarks", methods=["POST"])
def create():
    actor, values = require_actor(), params()
    bookmark = bookmarks.create(
        actor,
        bookmarks.parse_type(values.string("bookmarkable_type")),
        values.integer("bookmarkable_id", required=True, minimum=1),
        name=values.string("name"),
        reminder_at=values.string("reminder_at"),
    )
    return {"success": "OK", "id": bookmark.id}


@json_route(bp, "/bookmarks/<int:bookmark_id>", methods=["PUT"])
def update(bookmark_id: int):
    actor, values = require_actor(), params()
    # Sent empty (or null), a name or reminder is cleared; not sent, it stays.
    bookmarks.update(actor, bookmark_id, name=values.sent_string("name"), reminder_at=values.sent_string("reminder_at"))
    return {"success": "OK"}


@json_route(bp, "/bookmarks/<int:bookmark_id>", methods=["DELETE"])
def remove(bookmark_id: int):
    return {"success": "OK", "topic_bookmarked": bookmarks.remove(require_actor(), bookmark_id)}


@json_route(bp, "/t/<int:topic_id>/bookmark", methods=["PUT"])
def bookmark_topic(topic_id: int):
    bookmarks.create(require_actor(), BookmarkableType.TOPIC, topic_id)
    return {"success": "OK"}


@json_route(bp, "/t/<int:topic_id>/remove_bookmarks", methods=["PUT"])
def remove_topic_bookmarks(topic_id: int):
    bookmarks.remove_from_topic(require_actor(), topic_id)
    return {"success": "OK"}


@json_route(bp, "/u/<username>/bookmarks", methods=["GET"])
def user_bookmarks(username: str):
    actor = require_actor()
    return bookmark_page(bookmarks.list_bookmarks(actor, username, page=params().integer("page", 0, minimum=0)))
