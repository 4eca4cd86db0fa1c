"""What each user has read of each topic, and how closely they follow it, as Discourse's topic_users keeps it."""
from datetime import datetime
from enum import IntEnum

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from forum.models.base import Base, utcnow


class NotificationLevel(IntEnum):
    """Discourse's TopicUser.notification_levels."""

    MUTED = 0
    REGULAR = 1
    TRACKING = 2
    WATCHING = 3


class NotificationReason(IntEnum):
    """Discourse's TopicUser.notification_reasons: why a level was set. A level with no reason was never set by a
    person or for what they did (only reading time may still raise it)."""

    CREATED_TOPIC = 1
    USER_CHANGED = 2
    CREATED_POST = 4


class TopicUser(Base):
    __tablename__ = "topic_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True)
    # 0 until the user reads the topic: a row may exist first because they set how to follow it.
    last_read_post_number: Mapped[int] = mapped_column(default=0)
    total_msecs_viewed: Mapped[int] = mapped_column(default=0)
    first_visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    notification_level: Mapped[int] = mapped_column(default=NotificationLevel.REGULAR)
    notifications_reason_id: Mapped[int | None]
