"""Discourse's topic endpoints: the topic view, a topic's posts, editing, status, deleting, recovering and invitations."""
from datetime import datetime

from flask import Blueprint

from forum.api import anonymous_cache
from forum.api.auth import current_actor, require_actor
from forum.api.invites import invitation_limit
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.posts import stream_post
from forum.api.serializers.topics import basic_topic, topic_view
from forum.api.serializers.users import basic_user
from forum.models.base import parse_utc
from forum.services import posts, private_messages, topic_invites, topics
from forum.services.views import topic_views
from forum.services.errors import InvalidParameters

bp = Blueprint("topics", __name__)

# Our bound on the post_ids of one /t/{id}/posts.json request (Discourse's own client asks for 20 at a time).
MAX_POST_IDS = 1000


# /t/{id}/{post_number} and /t/{slug}/{id}: Werkzeug tries the all-integer rule first, as Discourse's
# routes do, so a numeric first segment is a topic id.
@json_route(bp, "/t/<int:topic_id>", methods=["GET"])
@json_route(bp, "/t/<int:topic_id>/<int:post_number>", methods=["GET"])
@json_route(bp, "/t/<slug>/<int:topic_id>", methods=["GET"])
@json_route(bp, "/t/<slug>/<int:topic_id>/<int:post_number>", methods=["GET"])
def show(topic_id: int, post_number: int | None = None, slug: str | None = None):
    response = _topic_page(topic_id=topic_id, post_number=post_number)
    # Counted for cached answers too (in memory, written in batches by a worker: no database write here);
    # after the page, so a topic that does not exist is not counted.
    topic_views.record(topic_id)
    return response


@anonymous_cache.cached(anonymous_cache.topic_dependencies)
def _topic_page(topic_id: int, post_number: int | None) -> dict:
    return topic_view(topics.topic_view(current_actor(), topic_id, post_number))


@json_route(bp, "/t/<int:topic_id>/posts", methods=["GET"])
def topic_posts(topic_id: int):
    values = params()
    post_ids = values.integer_list("post_ids")
    if len(post_ids) > MAX_POST_IDS:
        raise InvalidParameters(f"post_ids: at most {MAX_POST_IDS} at a time.")
    actor = current_actor()
    chunk = topics.topic_posts(
        actor,
        topic_id,
        post_ids=post_ids,
        post_number=values.integer("post_number", minimum=0),
        asc=values.boolean("asc", default=True),
    )
    context = posts.load_context(actor, chunk)
    return {"post_stream": {"posts": [stream_post(post, context) for post in chunk]}, "id": topic_id}


@json_route(bp, "/t/<slug>/<int:topic_id>", methods=["PUT"])
@json_route(bp, "/t/<int:topic_id>", methods=["PUT"])
def update(topic_id: int, slug: str | None = None):
    actor = require_actor()
    values = params()
    topic = topics.get_visible_topic(actor, topic_id)
    topic = topics.update_topic(
        actor,
        topic,
        title=values.nested("topic", "title"),
        category_id=values.nested_integer("topic", "category_id"),
        # Discourse's clients send every tag the topic keeps; tags[] with one empty value (or []) takes them all off.
        tag_names=None if (sent := values.sent_string_list("tags")) is None else tuple(sent),
    )
    return basic_topic(topic)


@json_route(bp, "/t/<int:topic_id>/status", methods=["PUT"])
def update_status(topic_id: int):
    actor = require_actor()
    values = params()
    status = values.string("status", required=True)
    enabled = values.boolean("enabled")
    if enabled is None:
        raise InvalidParameters("param is missing or the value is empty: enabled")
    until = _moment(values.string("until"), "until")
    topic = topics.get_visible_topic(actor, topic_id)
    topics.set_status(actor, topic, status, enabled, until=until)
    return {"success": "OK", "topic_status_update": None}


@json_route(bp, "/t/<int:topic_id>/change-timestamp", methods=["PUT"])
def change_timestamp(topic_id: int):
    actor = require_actor()
    timestamp = params().string("timestamp", required=True)
    topics.change_timestamp(actor, topics.get_visible_topic(actor, topic_id), timestamp)
    return {"success": "OK"}


@json_route(bp, "/t/<int:topic_id>", methods=["DELETE"])
def delete(topic_id: int):
    actor = require_actor()
    topics.delete_topic(actor, topics.get_visible_topic(actor, topic_id))
    return "", 200  # as Discourse: an empty body


@json_route(bp, "/t/<int:topic_id>/recover", methods=["PUT"])
def recover(topic_id: int):
    actor = require_actor()
    topics.recover_topic(actor, topics.get_visible_topic(actor, topic_id))
    return "", 200


def _moment(text: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or time (a date alone means its midnight, UTC; a time without zone is UTC)."""
    if text is None:
        return None
    try:
        return parse_utc(text)
    except ValueError:
        raise InvalidParameters(f"{name} must be an ISO 8601 date or time.") from None


@json_route(bp, "/t/<int:topic_id>/invite", methods=["POST"])
@invitation_limit()
def invite(topic_id: int):
    """A member (``user``), or someone without an account by their address (``email``: an invitation to join)."""
    values = params()
    username, email = values.string("user"), values.string("email")
    if email and not username:
        topic_invites.invite_to_join(current_actor(), topic_id, email)
        return {"success": "OK"}
    return {"user": basic_user(topic_invites.invite(current_actor(), topic_id, username))}


@json_route(bp, "/t/<int:topic_id>/remove-allowed-user", methods=["PUT"])
def remove_allowed_user(topic_id: int):
    """Discourse's route for leaving a private message, or taking someone out of it."""
    private_messages.remove_person(current_actor(), topic_id, params().string("username", required=True))
    return {"success": "OK"}
