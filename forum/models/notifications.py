"""What the forum tells a member about posts that concern them, as Discourse's notifications table keeps it."""
from datetime import datetime
from enum import IntEnum

from sqlalchemy import JSON, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from forum.models.base import Base, utcnow


class NotificationType(IntEnum):
    """The kinds of Discourse's Notification.types this forum sends."""

    MENTIONED = 1
    REPLIED = 2
    LIKED = 5
    PRIVATE_MESSAGE = 6
    INVITED_TO_PRIVATE_MESSAGE = 7
    POSTED = 9
    INVITED_TO_TOPIC = 13
    BOOKMARK_REMINDER = 24


ONE_PER_POST = f"notification_type != {NotificationType.BOOKMARK_REMINDER}"


class Notification(Base):
    __tablename__ = "notifications"
    # One notification per member per post: the most telling kind (a mention, a reply to them, a post in a topic
    # they watch), never all three; on their own post, its likes, in one notification that each new like renews.
    # A bookmark's reminder comes besides.
    __table_args__ = (
        Index("uq_notifications_one_per_post", "user_id", "topic_id", "post_number", unique=True,
              sqlite_where=text(ONE_PER_POST), postgresql_where=text(ONE_PER_POST)),
        Index("ix_notifications_user_id_read", "user_id", "read"),
        # Ids only grow, also on SQLite, which would otherwise give a deleted last row's id to the next one: what a
        # member has seen is "every notification up to this id" (users.seen_notification_id).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    notification_type: Mapped[int]
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    post_number: Mapped[int]
    # What the notification said when it was sent (Discourse's data: who posted, in which topic, which post).
    data: Mapped[dict] = mapped_column(JSON)
    read: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]  # mailed to the member (once), as their email_level asks
