"""Discourse's post endpoints: latest posts, creating (a topic or a reply), reading, editing, deleting,
recovering, replies, revisions, likes, and the raw Markdown export."""
from flask import Blueprint, Response, current_app

from forum.api.auth import current_actor, require_actor
from forum.api.params import params
from forum.api.routing import json_route
from forum.api.serializers.posts import latest_post, post_detail, raw_export, raw_markdown, reply, revision, written_post
from forum.extensions import limiter
from forum.services import post_actions, posts, private_messages, review, topics
from forum.services.errors import InvalidParameters, ServiceError

bp = Blueprint("posts", __name__)


@json_route(bp, "/posts", methods=["GET"])
def latest():
    actor = current_actor()
    before = params().integer("before")
    found = posts.latest_posts(actor, before if before and before > 0 else None)
    context = posts.load_context(actor, found)
    return {"latest_posts": [latest_post(post, context) for post in found]}


@json_route(bp, "/posts", methods=["POST"])
@limiter.limit(lambda: current_app.config["MESSAGE_RATE_LIMIT"], exempt_when=lambda: not _sends_message(),
               override_defaults=False)
def create():
    """A reply when topic_id is given, else a new topic, or a private message (archetype private_message, or
    target_recipients given). Fields only an importer sets in Discourse (user_id, created_at, post_number, ...) are
    ignored."""
    actor = require_actor()
    values = params()
    raw = values.string("raw", required=True)
    auto_track = values.boolean("auto_track", True)
    topic_id = values.integer("topic_id")
    archetype = values.string("archetype")
    recipients = _target_recipients(values)
    if topic_id is not None:
        topic = topics.get_visible_topic(actor, topic_id)
        private_messages.ensure_reply_keeps_audience(topic, archetype, recipients)
        post = posts.create_reply(
            actor, topic, raw=raw, reply_to_post_number=values.integer("reply_to_post_number"), auto_track=auto_track
        )
        return written_post(post, posts.written_context(actor, post))
    category_id = values.integer("category", values.integer("category_id"))
    category = topics.find_category(actor, category_id) if category_id is not None else None
    tag_names = tuple(values.string_list("tags"))
    if private_messages.is_message(archetype, recipients):
        topic = private_messages.send_message(actor, title=values.string("title"), raw=raw, recipients=recipients or [],
                                              category=category, tag_names=tag_names)
    else:
        topic = topics.create_topic(actor, title=values.string("title"), raw=raw, category=category, tag_names=tag_names,
                                    auto_track=auto_track)
    post = posts.first_post(topic)
    return written_post(post, posts.written_context(actor, post))


def _target_recipients(values) -> list[str] | None:
    """target_recipients (or target_usernames, Discourse's older name, still sent by clients): usernames as a comma
    separated string or as a list; None when neither was sent."""
    for name in ("target_recipients", "target_usernames"):
        if values.has(name):
            return [part for value in values.string_list(name) for part in value.split(",")]
    return None


def _sends_message() -> bool:
    """Whether the request would start a private message (the one kind of post whose sending is rate-limited apart:
    each reaches as many people as it names)."""
    try:
        values = params()
        return not values.has("topic_id") and private_messages.is_message(values.string("archetype"), _target_recipients(values))
    except ServiceError:
        return False  # the view refuses it


@json_route(bp, "/posts/<int:post_id>", methods=["GET"])
def show(post_id: int):
    actor = current_actor()
    post = posts.get_visible_post(actor, post_id)
    return post_detail(post, posts.load_context(actor, [post]))


@json_route(bp, "/posts/by_number/<int:topic_id>/<int:post_number>", methods=["GET"])
def show_by_number(topic_id: int, post_number: int):
    actor = current_actor()
    post = posts.get_visible_post_by_number(actor, topic_id, post_number)
    return post_detail(post, posts.load_context(actor, [post]))


@json_route(bp, "/posts/<int:post_id>", methods=["PUT"])
def update(post_id: int):
    actor = require_actor()
    values = params()
    raw = values.nested("post", "raw")
    if raw is None:
        raise InvalidParameters("param is missing or the value is empty: post[raw]")
    post = posts.get_visible_post(actor, post_id)
    post = posts.edit_post(
        actor,
        post,
        raw=raw,
        edit_reason=values.nested("post", "edit_reason"),
        # Discourse's composer sends the body it started from as original_text (raw_old before).
        original_text=values.nested("post", "original_text") or values.nested("post", "raw_old"),
        bump=not (values.boolean("bypass_bump", False) or values.boolean("post[bypass_bump]", False)),
    )
    return {"post": written_post(post, posts.load_context(actor, [post]))}


@json_route(bp, "/posts/<int:post_id>", methods=["DELETE"])
def delete(post_id: int):
    actor = require_actor()
    posts.delete_post(actor, posts.get_visible_post(actor, post_id))
    return "", 200  # as Discourse: an empty body


@json_route(bp, "/posts/<int:post_id>/recover", methods=["PUT"])
def recover(post_id: int):
    actor = require_actor()
    post = posts.recover_post(actor, posts.get_visible_post(actor, post_id))
    return post_detail(post, posts.load_context(actor, [post]))


@json_route(bp, "/posts/<int:post_id>/locked", methods=["PUT"])
def lock(post_id: int):
    actor = require_actor()
    locked = params().boolean("locked")
    if locked is None:
        raise InvalidParameters("locked is required: true or false.")
    post = posts.set_locked(actor, posts.get_visible_post(actor, post_id), locked)
    return {"locked": post.locked_at is not None}


@json_route(bp, "/posts/<int:post_id>/replies", methods=["GET"])
def replies(post_id: int):
    actor = current_actor()
    # As Discourse, which reads any number below 1 as "from the start".
    parent, found = posts.direct_replies(actor, post_id, after=max(params().integer("after", 0), 0))
    context = posts.load_context(actor, found, user_ids=(parent.user_id,))
    return [reply(post, parent, context) for post in found]


@json_route(bp, "/posts/<int:post_id>/revisions/<int:number>", methods=["GET"])
@json_route(bp, "/posts/<int:post_id>/revisions/latest", methods=["GET"])
def show_revision(post_id: int, number: int | None = None):
    actor = current_actor()
    return revision(posts.get_revision(actor, post_id, number), actor)


@json_route(bp, "/post_actions", methods=["POST"])
def act():
    """A like (type 2), or a flag (3 off-topic, 4 inappropriate, 7 notify moderators, 8 spam) that goes to
    the review queue."""
    actor = require_actor()
    values = params()
    post = posts.get_visible_post(actor, values.integer("id", required=True))
    action_type = values.integer("post_action_type_id", required=True)
    if action_type in review.FLAG_NAMES:
        review.flag_post(actor, post, action_type, message=values.string("message"))
    else:
        post_actions.ensure_supported(action_type)
        post = post_actions.like(actor, post)
    return post_detail(post, posts.load_context(actor, [post]))


@json_route(bp, "/post_actions/<int:post_id>", methods=["DELETE"])
def unlike(post_id: int):
    actor = require_actor()
    post_actions.ensure_supported(params().integer("post_action_type_id", required=True))
    post = post_actions.unlike(actor, posts.get_visible_post(actor, post_id))
    return post_detail(post, posts.load_context(actor, [post]))


@bp.get("/raw/<int:topic_id>")
def raw_topic(topic_id: int):
    viewer = current_actor()
    exported = posts.raw_export(viewer, topic_id, params().integer("page", 1, minimum=1))
    return Response(raw_export(exported, posts.users_by_id({post.user_id for post in exported}), viewer), mimetype="text/plain")


@bp.get("/raw/<int:topic_id>/<int:post_number>")
def raw_post(topic_id: int, post_number: int):
    viewer = current_actor()
    post = posts.get_visible_post_by_number(viewer, topic_id, post_number)
    return Response(raw_markdown(post, viewer), mimetype="text/plain")
