"""Topics: a thread of posts."""
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, utcnow
from forum.models.categories import Category
from forum.models.users import User

if TYPE_CHECKING:
    from forum.models.tags import Tag


class Archetype(StrEnum):
    """Discourse's topic archetypes: a topic of the forum, or a private message among the users it names."""

    REGULAR = "regular"
    PRIVATE_MESSAGE = "private_message"


# The people a private message is among (Discourse's topic_allowed_users): its author and those it was sent to.
topic_allowed_users = Table(
    "topic_allowed_users",
    Base.metadata,
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255))
    archetype: Mapped[str] = mapped_column(String(20), default=Archetype.REGULAR, server_default=Archetype.REGULAR.value)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    closed: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)
    visible: Mapped[bool] = mapped_column(default=True)
    pinned_at: Mapped[datetime | None]
    pinned_globally: Mapped[bool] = mapped_column(default=False)
    pinned_until: Mapped[datetime | None]
    # The counter that hands out post numbers, bumped with an atomic UPDATE (see services.posts); it never goes back, so
    # no number is given twice, not even a deleted post's.
    highest_assigned_post_number: Mapped[int] = mapped_column(default=0)
    # Discourse's highest_post_number: the number of the last live post that is not a whisper, what lists and read
    # tracking count to (a deleted or staff-only last post is nobody's to read).
    highest_post_number: Mapped[int] = mapped_column(default=0)
    posts_count: Mapped[int] = mapped_column(default=0)
    reply_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    views: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    bumped_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_posted_at: Mapped[datetime | None]
    last_post_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    category: Mapped[Category | None] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    tags: Mapped[list["Tag"]] = relationship(secondary="topic_tags", order_by="Tag.name")

    @property
    def is_private_message(self) -> bool:
        return self.archetype == Archetype.PRIVATE_MESSAGE

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<Topic {self.id} {self.title!r}>"
