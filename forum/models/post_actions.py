"""Likes and flags on posts: Discourse's post actions with its type numbers."""
from datetime import datetime
from enum import IntEnum

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.models.base import Base, utcnow


class PostActionType(IntEnum):
    LIKE = 2
    OFF_TOPIC = 3
    INAPPROPRIATE = 4
    NOTIFY_MODERATORS = 7
    SPAM = 8


FLAG_TYPES = (PostActionType.OFF_TOPIC, PostActionType.INAPPROPRIATE, PostActionType.NOTIFY_MODERATORS, PostActionType.SPAM)


class PostAction(Base):
    __tablename__ = "post_actions"
    __table_args__ = (UniqueConstraint("post_id", "user_id", "post_action_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    post_action_type_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
