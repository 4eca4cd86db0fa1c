"""A member's bookmarks of posts and topics, as Discourse's polymorphic bookmarks table keeps them."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.models.base import Base, utcnow


class BookmarkableType(StrEnum):
    POST = "Post"
    TOPIC = "Topic"


class Bookmark(Base):
    __tablename__ = "bookmarks"
    __table_args__ = (
        UniqueConstraint("user_id", "bookmarkable_type", "bookmarkable_id"),
        CheckConstraint("bookmarkable_type IN ('Post', 'Topic')", name="bookmarkable_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    bookmarkable_type: Mapped[str] = mapped_column(String(10))
    bookmarkable_id: Mapped[int]
    # The topic of the bookmarked post or topic: a topic's bookmarks are found, and go with it, in one step.
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    # When to remind the member (a bookmark_reminder notification), and when that was done: a reminder moved since
    # is due again.
    reminder_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
