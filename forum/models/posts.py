"""Posts and their revisions."""
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.content.text import plain_text
from forum.models.base import Base, utcnow
from forum.models.topics import Topic
from forum.models.users import User

if TYPE_CHECKING:
    from forum.models.tags import Tag


class PostType(IntEnum):
    """Discourse's post type numbers, which its clients rely on."""

    REGULAR = 1
    MODERATOR_ACTION = 2
    SMALL_ACTION = 3
    WHISPER = 4


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("topic_id", "post_number"),
        # A reply names a post of the same topic: enforced by the database, not only by the service.
        ForeignKeyConstraint(
            ["topic_id", "reply_to_post_number"],
            ["posts.topic_id", "posts.post_number"],
            name="fk_posts_reply_to_post",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    post_number: Mapped[int]
    reply_to_post_number: Mapped[int | None]
    raw: Mapped[str] = mapped_column(Text)
    cooked: Mapped[str] = mapped_column(Text)
    # The plain text of ``cooked``, made whenever it is set (parse once, on save): what search indexes and
    # quotes in its blurbs, as Discourse's search reads the rendered post, not its Markdown.
    search_text: Mapped[str] = mapped_column(Text, default="")
    post_type: Mapped[int] = mapped_column(default=PostType.REGULAR)
    action_code: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    edit_reason: Mapped[str | None] = mapped_column(String(255))
    reply_count: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Hidden by flags (Discourse's hidden posts): staff and the author still see it.
    hidden_at: Mapped[datetime | None]
    # Locked by staff (Discourse's locked posts): only staff may edit it. Who locked it is in the audit log.
    locked_at: Mapped[datetime | None]

    topic: Mapped[Topic] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    tags: Mapped[list["Tag"]] = relationship(secondary="post_tags", order_by="Tag.name")

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<Post {self.topic_id}#{self.post_number}>"


@event.listens_for(Post.cooked, "set", retval=False)
def _keep_search_text(target: Post, value: str, oldvalue, initiator) -> None:
    target.search_text = plain_text(value) if value else ""


class PostRevision(Base):
    """What an edit changed. Numbered from 2, as Discourse numbers revisions (1 is the original)."""

    __tablename__ = "post_revisions"
    __table_args__ = (UniqueConstraint("post_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    number: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    raw_before: Mapped[str] = mapped_column(Text)
    raw_after: Mapped[str] = mapped_column(Text)
    edit_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[Post] = relationship()
    user: Mapped[User] = relationship()
