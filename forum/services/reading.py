"""What each user has read of each topic and how closely they follow it (Discourse's topic_users), and what lists
derive from it.

POST /topics/timings feeds it. The read position only ever moves forward, with one atomic upsert
per request, so retries change nothing and concurrent requests lose no update on either backend.

Notification levels follow Discourse's rules: the author of a topic watches it, a replier tracks it, and a reader
tracks it after reading it for AUTO_TRACK_AFTER_MSECS, each only while nobody has set a level for a reason (a level
someone chose, muted or regular included, stays). Only tracked and watched topics count as unread; muted ones leave
the caller's lists.
"""
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import ColumnElement, bindparam, case, false, true

from forum.database import upsert_insert, write_unit
from forum.extensions import db
from forum.models import NotificationLevel, NotificationReason, Topic, TopicUser, User
from forum.models.base import utcnow
from forum.services import guardian, topics
from forum.services.errors import InvalidParameters

# Discourse's default for "new": topics created within the last two days.
DEFAULT_NEW_TOPIC_DURATION_MINUTES = 2880
# Discourse caps the reading time one batch of timings may add (PostTiming::MAX_READ_TIME_PER_BATCH).
MAX_READ_TIME_PER_BATCH_MS = 60_000
# total_msecs_viewed is a 32-bit integer column: it saturates instead of overflowing.
MAX_TOTAL_MSECS = 2_147_483_647
# Discourse's default_other_auto_track_topics_after_msecs: a topic read this long is tracked.
AUTO_TRACK_AFTER_MSECS = 240_000
# Discourse's default_other_notification_level_when_replying.
LEVEL_WHEN_REPLYING = NotificationLevel.TRACKING


def record_timings(user: User | None, topic_id: int, topic_time: int, timings: dict[int, int]) -> None:
    """Record that ``user`` read the posts numbered in ``timings`` (post number -> msecs) for ``topic_time`` msecs.

    Post numbers beyond the topic's last post are clamped to it. Validates everything before writing.
    """
    guardian.ensure_can_act(user)
    if not timings:
        raise InvalidParameters("param is missing or the value is empty: timings")
    if any(post_number < 1 for post_number in timings):
        raise InvalidParameters("timings: post numbers must be at least 1.")
    if any(msecs < 0 for msecs in timings.values()) or topic_time < 0:
        raise InvalidParameters("Reading times must not be negative.")
    topic = topics.get_visible_topic(user, topic_id)
    # Posts are never removed, only hidden, so the highest number can only have grown since.
    highest_read = min(max(timings), topic.highest_post_number)
    with write_unit(db.session):
        advance_read_position(user.id, topic.id, highest_read, min(topic_time, MAX_READ_TIME_PER_BATCH_MS), utcnow())


def advance_read_position(
    user_id: int, topic_id: int, post_number: int, msecs: int, now: datetime,
    *, level: NotificationLevel = NotificationLevel.REGULAR, reason: NotificationReason | None = None,
) -> None:
    """Move the read position forward to ``post_number`` (never back) and add ``msecs``: one atomic upsert.

    ``level`` and ``reason``: what the user's action makes of their notification level (their topic: watching; their
    reply: tracking), taken only while no reason is stored; else reading time alone may start tracking."""
    db.session.execute(
        _read_position_upsert(db.session.get_bind().dialect.name),
        {"user_id": user_id, "topic_id": topic_id, "post_number": post_number, "msecs": msecs, "now": now,
         "level": level, "reason": reason},
    )


def auto_level(level: NotificationLevel, reason: NotificationReason, auto_track: bool) -> dict:
    """The ``level`` and ``reason`` arguments of advance_read_position for what an author did: none when they asked
    not to follow the topic (``auto_track`` false)."""
    return {"level": level, "reason": reason} if auto_track else {}


def set_notification_level(user: User | None, topic_id: int, level: int) -> None:
    """Discourse's POST /t/{id}/notifications: ``user`` chooses how to follow the topic (0 muted .. 3 watching). The
    choice stands until they choose again: no later reply or reading changes it."""
    guardian.ensure_can_act(user)
    if level not in set(NotificationLevel):
        raise InvalidParameters("notification_level must be 0 (muted), 1 (regular), 2 (tracking) or 3 (watching).")
    topic = topics.get_visible_topic(user, topic_id)
    insert = upsert_insert(db.session.get_bind().dialect.name)
    now = utcnow()
    chosen = {"notification_level": level, "notifications_reason_id": NotificationReason.USER_CHANGED}
    stmt = insert(TopicUser).values(user_id=user.id, topic_id=topic.id, first_visited_at=now, last_visited_at=now, **chosen)
    with write_unit(db.session):
        db.session.execute(stmt.on_conflict_do_update(index_elements=[TopicUser.user_id, TopicUser.topic_id], set_=chosen))


@cache
def _read_position_upsert(dialect: str):
    """Built once per dialect: every reply runs it, and building the statement costs more than running it."""
    insert = upsert_insert(dialect)
    stmt = insert(TopicUser).values(
        user_id=bindparam("user_id"),
        topic_id=bindparam("topic_id"),
        last_read_post_number=bindparam("post_number"),
        total_msecs_viewed=bindparam("msecs"),
        first_visited_at=bindparam("now"),
        last_visited_at=bindparam("now"),
        notification_level=bindparam("level"),
        notifications_reason_id=bindparam("reason"),
    )
    stored, sent = TopicUser.__table__.c, stmt.excluded
    undecided = stored.notifications_reason_id.is_(None)
    return stmt.on_conflict_do_update(
        index_elements=[stored.user_id, stored.topic_id],
        set_={
            "last_read_post_number": case(
                (stored.last_read_post_number < sent.last_read_post_number, sent.last_read_post_number),
                else_=stored.last_read_post_number,
            ),
            "total_msecs_viewed": case(
                (stored.total_msecs_viewed > MAX_TOTAL_MSECS - sent.total_msecs_viewed, MAX_TOTAL_MSECS),
                else_=stored.total_msecs_viewed + sent.total_msecs_viewed,
            ),
            "last_visited_at": case(
                (stored.last_visited_at < sent.last_visited_at, sent.last_visited_at), else_=stored.last_visited_at
            ),
            "notification_level": case(
                (undecided & sent.notifications_reason_id.is_not(None), sent.notification_level),
                (
                    undecided
                    & (stored.notification_level == NotificationLevel.REGULAR)
                    # Not the sum: it may pass the 32-bit column's range, where it saturates.
                    & (stored.total_msecs_viewed >= AUTO_TRACK_AFTER_MSECS - sent.total_msecs_viewed),
                    NotificationLevel.TRACKING,
                ),
                else_=stored.notification_level,
            ),
            "notifications_reason_id": case((undecided, sent.notifications_reason_id), else_=stored.notifications_reason_id),
        },
    )


# Read state in lists. Lists outer-join the caller's TopicUser row (``read_state_join``), as
# Discourse's TopicQuery joins ``topic_users AS tu``; the conditions below refer to that join.


def read_state_join(user: User | None) -> ColumnElement[bool]:
    """The ON clause joining each topic to ``user``'s TopicUser row (no row for anonymous callers)."""
    if user is None:
        return false()
    return (TopicUser.topic_id == Topic.id) & (TopicUser.user_id == user.id)


def new_topic_duration_minutes() -> int:
    return current_app.config.get("NEW_TOPIC_DURATION_MINUTES", DEFAULT_NEW_TOPIC_DURATION_MINUTES)


def new_topic_start(user: User) -> datetime:
    """Topics created since then, and never opened, are new to ``user`` (never before the user joined)."""
    return max(utcnow() - timedelta(minutes=new_topic_duration_minutes()), user.created_at)


def opened() -> ColumnElement[bool]:
    """The joined user has read the topic (a row may exist only because they chose a notification level)."""
    return TopicUser.last_read_post_number > 0


def new_topics(user: User) -> ColumnElement[bool]:
    """Discourse's /new: topics ``user`` has never opened, created within the new-topic duration."""
    return (TopicUser.user_id.is_(None) | ~opened()) & (Topic.created_at >= new_topic_start(user))


def unread_topics() -> ColumnElement[bool]:
    """Discourse's /unread: topics the joined user has opened, tracks or watches, and that have posts beyond their
    read position."""
    return (
        opened()
        & (TopicUser.last_read_post_number < Topic.highest_post_number)
        & (TopicUser.notification_level >= NotificationLevel.TRACKING)
    )


def not_muted(user: User | None) -> ColumnElement[bool]:
    """Topics ``user`` has not muted (Discourse's remove_muted_topics): everything for anonymous callers."""
    if user is None:
        return true()
    return TopicUser.notification_level.is_(None) | (TopicUser.notification_level != NotificationLevel.MUTED)


def has_opened(state: TopicUser | None) -> bool:
    return state is not None and state.last_read_post_number > 0


def unread_posts(topic: Topic, state: TopicUser) -> int:
    return max(topic.highest_post_number - state.last_read_post_number, 0)


def is_unseen(topic: Topic, state: TopicUser | None, new_since: datetime | None) -> bool:
    """Discourse's ``unseen``: new to a signed-in caller (``new_since`` is None for anonymous callers)."""
    return new_since is not None and not has_opened(state) and topic.created_at >= new_since
