"""Likes: Discourse's post action type 2. Liking twice or unliking what is not liked changes nothing.

A like and the counters it moves (posts.like_count, and topics.like_count, which counts likes of live posts but
whispers) are written in one unit, with
the post's row locked first so that two requests from the same user cannot both count.
"""
from sqlalchemy import delete, select, update

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import Post, PostAction, PostActionType, PostType, Topic, User
from forum.models.post_actions import FLAG_TYPES
from forum.services import events, guardian, notifications
from forum.services.errors import InvalidParameters

SUPPORTED_TYPES = (PostActionType.LIKE,)


def ensure_supported(post_action_type_id: int) -> None:
    """Likes are kept here; flags go to the review queue (forum.services.review); other types are refused."""
    if post_action_type_id not in SUPPORTED_TYPES:
        raise InvalidParameters(
            f"post_action_type_id {post_action_type_id} is not supported: likes ({PostActionType.LIKE}) and flags "
            f"({', '.join(str(int(flag)) for flag in FLAG_TYPES)}) only; flags cannot be taken back."
        )


def like(user: User, post: Post) -> Post:
    with write_unit(db.session):
        db.session.refresh(post, with_for_update=ROW_LOCK)
        guardian.ensure_can_like(user, post)
        if _find_like(user, post) is not None:
            return post
        db.session.add(PostAction(post_id=post.id, user_id=user.id, post_action_type_id=PostActionType.LIKE))
        _count(post, +1)
        notifications.notify_liked(post, user)
        events.publish_topic_changed(post.topic_id)
    return post


def unlike(user: User, post: Post) -> Post:
    with write_unit(db.session):
        db.session.refresh(post, with_for_update=ROW_LOCK)
        guardian.ensure_can_like(user, post)
        like_id = _find_like(user, post)
        if like_id is None:
            return post
        db.session.execute(delete(PostAction).where(PostAction.id == like_id))
        _count(post, -1)
        notifications.withdraw_like(post, user)
        events.publish_topic_changed(post.topic_id)
    return post


def liked_post_ids(user: User, post_ids: list[int]) -> frozenset[int]:
    """Which of ``post_ids`` ``user`` has liked: one query."""
    if not post_ids:
        return frozenset()
    return frozenset(
        db.session.scalars(
            select(PostAction.post_id).where(
                PostAction.user_id == user.id,
                PostAction.post_action_type_id == PostActionType.LIKE,
                PostAction.post_id.in_(post_ids),
            )
        )
    )


def _find_like(user: User, post: Post) -> int | None:
    return db.session.scalar(
        select(PostAction.id).where(
            PostAction.post_id == post.id,
            PostAction.user_id == user.id,
            PostAction.post_action_type_id == PostActionType.LIKE,
        )
    )


def _count(post: Post, delta: int) -> None:
    """The post's likes, and its topic's unless it is a whisper: a topic's likes are what everyone can see."""
    counters = [(Post, post.id)] + ([(Topic, post.topic_id)] if post.post_type != PostType.WHISPER else [])
    for model, row_id in counters:
        db.session.execute(
            update(model).where(model.id == row_id).values(like_count=model.like_count + delta),
            execution_options={"synchronize_session": False},
        )
    db.session.expire(post, ["like_count"])
    db.session.expire(post.topic, ["like_count"])
