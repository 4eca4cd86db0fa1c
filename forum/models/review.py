"""The review queue (Discourse's reviewables): bot suggestions and flags waiting for a moderator.

An item targets a post. ``dedupe_key`` makes each target one item (a post's flags gather on one item;
one item per post and tactic), so a bot or a flag that runs twice never files a second item.
``version`` grows on every change: a moderator acting on what they saw sends it back, and a stale one
is refused.
"""
from datetime import datetime
from enum import IntEnum, StrEnum

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, utcnow
from forum.models.posts import Post
from forum.models.tags import Tag
from forum.models.users import User


class ReviewableType(StrEnum):
    TACTIC_TAG = "ReviewableTacticTag"
    FLAGGED_POST = "ReviewableFlaggedPost"


class ReviewableStatus(IntEnum):
    """Discourse's numbering: clients send the names, responses carry the numbers."""

    PENDING = 0
    APPROVED = 1
    REJECTED = 2
    IGNORED = 3
    DELETED = 4  # withdrawn: the bot no longer suggests it, or its post is gone


class Reviewable(Base):
    __tablename__ = "reviewables"
    __table_args__ = (
        CheckConstraint("status BETWEEN 0 AND 4", name="status"),
        Index("ix_reviewables_status_score", "status", "score"),
        Index("ix_reviewables_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[int] = mapped_column(default=ReviewableStatus.PENDING)
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    # Tactic items: {tactic, score, evidence: [...], model_version}; flag items: {}.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[Post] = relationship()
    tag: Mapped[Tag | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    history: Mapped[list["ReviewableHistory"]] = relationship(
        back_populates="reviewable", order_by="ReviewableHistory.id", cascade="all, delete-orphan"
    )
    scores: Mapped[list["ReviewableScore"]] = relationship(
        back_populates="reviewable", order_by="ReviewableScore.id", cascade="all, delete-orphan"
    )


class ReviewableHistory(Base):
    """Every transition of an item: who, when, what, from which status to which, and why."""

    __tablename__ = "reviewable_histories"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewable_id: Mapped[int] = mapped_column(ForeignKey("reviewables.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))  # created, updated, approve_tag, reject_tag, ignore, reopen, withdrawn, ...
    status_before: Mapped[int | None]
    status_after: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewable: Mapped[Reviewable] = relationship(back_populates="history")
    user: Mapped[User] = relationship()


class ReviewableScore(Base):
    """One reason an item is in the queue (Discourse's reviewable_scores): a flag, or the bot's suggestion."""

    __tablename__ = "reviewable_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewable_id: Mapped[int] = mapped_column(ForeignKey("reviewables.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    post_action_type_id: Mapped[int | None]
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewable: Mapped[Reviewable] = relationship(back_populates="scores")
    user: Mapped[User] = relationship()
