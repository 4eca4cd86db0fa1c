"""Posting, editing, deleting and recovering posts: Discourse's PostCreator and PostRevisor rules.

Post numbers come from one atomic ``UPDATE topics SET highest_post_number = highest_post_number + 1
... RETURNING``: PostgreSQL's row lock (and SQLite's single writer) serialise posters per topic, so
numbers are 1..n without gaps or duplicates; the (topic_id, post_number) unique constraint is the
backstop.
"""
from flask import current_app
from sqlalchemy import select, update

from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import Post, PostRevision, PostType, Topic, User
from forum.models.base import utcnow
from forum.services import audit, guardian, topics
from forum.services.errors import NotFound, ValidationFailed

# Post types that count as a reply in the topic's reply_count.
_REPLY_TYPES = (PostType.REGULAR, PostType.MODERATOR_ACTION)


def validate_raw(raw: str | None) -> str:
    """The post body as written, or ValidationFailed saying what is wrong with it."""
    if raw is None or not raw.strip():
        raise ValidationFailed("Body can't be blank.")
    min_length = current_app.config["MIN_POST_LENGTH"]
    max_length = current_app.config["MAX_POST_LENGTH"]
    length = len(raw.strip())
    if length < min_length:
        raise ValidationFailed(f"Body is too short (minimum is {min_length} characters).")
    if length > max_length:
        raise ValidationFailed(f"Body is too long (maximum is {max_length} characters).")
    return raw


def get_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound("That post does not exist.")
    return post


def append_post(
    topic: Topic,
    author: User,
    *,
    raw: str,
    cooked: str,
    post_type: PostType = PostType.REGULAR,
    action_code: str | None = None,
    reply_to_post_number: int | None = None,
) -> Post:
    """Number and store a post at the end of ``topic``. Call inside a write unit; no permission checks."""
    now = utcnow()
    counts_as_reply = post_type in _REPLY_TYPES and topic.highest_post_number > 0
    bumps = post_type in _REPLY_TYPES
    values = {
        "highest_post_number": Topic.highest_post_number + 1,
        "posts_count": Topic.posts_count + (0 if post_type == PostType.WHISPER else 1),
        "reply_count": Topic.reply_count + (1 if counts_as_reply else 0),
    }
    if bumps:
        values.update(bumped_at=now, last_posted_at=now, last_post_user_id=author.id)
    post_number = db.session.execute(
        update(Topic).where(Topic.id == topic.id).values(**values).returning(Topic.highest_post_number),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    if reply_to_post_number is not None:
        db.session.execute(
            update(Post)
            .where(Post.topic_id == topic.id, Post.post_number == reply_to_post_number)
            .values(reply_count=Post.reply_count + 1),
            execution_options={"synchronize_session": False},
        )
    post = Post(
        topic_id=topic.id,
        user_id=author.id,
        post_number=post_number,
        reply_to_post_number=reply_to_post_number,
        raw=raw,
        cooked=cooked,
        post_type=post_type,
        action_code=action_code,
        created_at=now,
        updated_at=now,
    )
    db.session.add(post)
    db.session.flush()
    db.session.expire(topic)
    return post


def create_reply(author: User, topic: Topic, *, raw: str, reply_to_post_number: int | None = None) -> Post:
    raw = validate_raw(raw)
    cooked = cook(raw)  # before the write unit: the topic row stays locked for as short a time as possible
    with write_unit(db.session):
        # Re-read inside the write unit: the topic may have been closed since the caller loaded it.
        db.session.refresh(topic, with_for_update=True)
        guardian.ensure_can_reply(author, topic)
        if reply_to_post_number is not None:
            _ensure_post_number_exists(topic, reply_to_post_number)
        return append_post(topic, author, raw=raw, cooked=cooked, reply_to_post_number=reply_to_post_number)


def _ensure_post_number_exists(topic: Topic, post_number: int) -> None:
    exists = db.session.scalar(
        select(Post.id).where(Post.topic_id == topic.id, Post.post_number == post_number)
    )
    if exists is None:
        raise ValidationFailed(f"reply_to_post_number {post_number} is not a post of this topic.")


def edit_post(editor: User, post: Post, *, raw: str, edit_reason: str | None = None) -> Post:
    """Change a post's body, keeping what it said before as a revision. An unchanged body is a no-op."""
    raw = validate_raw(raw)
    with write_unit(db.session):
        db.session.refresh(post)
        guardian.ensure_can_edit_post(editor, post)
        if raw == post.raw:
            return post
        post.version += 1
        db.session.add(
            PostRevision(
                post_id=post.id,
                number=post.version,
                user_id=editor.id,
                raw_before=post.raw,
                raw_after=raw,
                edit_reason=edit_reason,
            )
        )
        post.raw = raw
        post.cooked = cook(raw)
        post.edit_reason = edit_reason
        post.updated_at = utcnow()
        if editor.id != post.user_id:
            audit.record(editor, "post.edit", post, after={"version": post.version, "edit_reason": edit_reason})
    return post


def delete_post(actor: User, post: Post) -> Post:
    """Soft-delete a post: its text is kept, hidden, and can be recovered."""
    if post.post_number == 1:
        topics.delete_topic(actor, post.topic)
        return post
    with write_unit(db.session):
        db.session.refresh(post)
        guardian.ensure_can_delete_post(actor, post)
        if post.is_deleted:
            return post
        post.deleted_at = utcnow()
        post.deleted_by_id = actor.id
        _adjust_topic_counts(post, -1)
        audit.record(actor, "post.delete", post)
    return post


def recover_post(actor: User, post: Post) -> Post:
    if post.post_number == 1:
        topics.recover_topic(actor, post.topic)
        return post
    with write_unit(db.session):
        db.session.refresh(post)
        guardian.ensure_can_recover_post(actor, post)
        if not post.is_deleted:
            return post
        post.deleted_at = None
        post.deleted_by_id = None
        _adjust_topic_counts(post, +1)
        audit.record(actor, "post.recover", post)
    return post


def _adjust_topic_counts(post: Post, delta: int) -> None:
    values = {"posts_count": Topic.posts_count + (0 if post.post_type == PostType.WHISPER else delta)}
    if post.post_type in _REPLY_TYPES and post.post_number > 1:
        values["reply_count"] = Topic.reply_count + delta
    db.session.execute(
        update(Topic).where(Topic.id == post.topic_id).values(**values),
        execution_options={"synchronize_session": False},
    )
    db.session.expire(post.topic)
