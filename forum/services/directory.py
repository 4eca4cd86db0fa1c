"""Discourse's user directory (GET /directory_items.json): the members and what they did in a period, counted over
what the viewer may read, as their profiles are. Counted when asked (Discourse refreshes a table daily), so always
current. The forum keeps no daily visits: posts read and days visited are 0, as on profiles."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ScalarSelect, func, literal, select, true
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.models import Post, PostAction, PostActionType, PostType, Topic, TopicUser, User
from forum.models.base import utcnow
from forum.services import guardian, users
from forum.services.errors import InvalidParameters

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(weeks=1), "monthly": timedelta(days=30),
           "quarterly": timedelta(days=91), "yearly": timedelta(days=365), "all": None}
ORDERS = ("likes_received", "likes_given", "topic_count", "post_count", "topics_entered", "posts_read", "days_visited")
# Discourse's directory page size.
PAGE_SIZE = 50


@dataclass(frozen=True)
class DirectoryItem:
    user: User
    counts: dict[str, int]  # by ORDERS' names


@dataclass(frozen=True)
class DirectoryPage:
    items: list[DirectoryItem]
    total: int
    period: str
    order: str
    ascending: bool
    page: int
    counted_at: datetime


def directory(viewer: User | None, *, period: str, order: str | None, ascending: bool, page: int) -> DirectoryPage:
    """Page ``page`` (from 0) of the members who may sign in (not bots), by ``order``, the most first unless
    ``ascending``; ties by username."""
    if period not in PERIODS:
        raise InvalidParameters(f"period must be one of {', '.join(PERIODS)}.")
    order = order or ORDERS[0]
    if order not in ORDERS:
        raise InvalidParameters(f"order must be one of {', '.join(ORDERS)}.")
    now = utcnow()
    since = now - PERIODS[period] if PERIODS[period] else None
    columns = _count_columns(viewer, since)
    listed = User.is_active & User.is_bot.is_(False)
    total = db.session.scalar(select(func.count()).select_from(User).where(listed))
    sort = columns[order].asc() if ascending else columns[order].desc()
    rows = db.session.execute(select(User, *columns.values()).where(listed).order_by(sort, User.username_lower)
                              .limit(PAGE_SIZE).offset(max(page, 0) * PAGE_SIZE))
    items = [DirectoryItem(user, dict(zip(columns, counts))) for user, *counts in rows]
    return DirectoryPage(items, total, period, order, ascending, page, now)


def _count_columns(viewer: User | None, since: datetime | None) -> dict[str, ScalarSelect | ColumnElement]:
    """Each count, correlated to User, over the posts and topics ``viewer`` may read (as on profiles), done since
    ``since``."""

    def recent(column) -> ColumnElement[bool]:
        return column >= since if since is not None else true()

    liked = aliased(Post)
    likes = select(func.count()).select_from(PostAction).join(liked, liked.id == PostAction.post_id).join(Topic, Topic.id == liked.topic_id).where(
        PostAction.post_action_type_id == PostActionType.LIKE, liked.deleted_at.is_(None), liked.post_type == PostType.REGULAR,
        guardian.listed_topics(viewer), recent(PostAction.created_at))
    return {
        "likes_received": likes.where(liked.user_id == User.id).scalar_subquery(),
        "likes_given": likes.where(PostAction.user_id == User.id).scalar_subquery(),
        "topic_count": users.counted_topics(viewer).where(recent(Topic.created_at)).scalar_subquery(),
        # Discourse's "replies": the posts that answer a topic, not the ones that open it.
        "post_count": users.counted_posts(viewer).where(Post.post_number > 1, recent(Post.created_at)).scalar_subquery(),
        "topics_entered": users.counted_opened_topics(viewer).where(recent(TopicUser.first_visited_at)).scalar_subquery(),
        "posts_read": literal(0),
        "days_visited": literal(0),
    }
