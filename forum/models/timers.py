"""Topic timers (Discourse's close/open/delete timers) and dialogue schedules built from them.

A timer is a row, not a Celery ETA: beat only nudges a scan that claims due rows, so a timer survives
restarts, fires after downtime, and keeps a record of when it fired and what happened.
"""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, utcnow
from forum.models.topics import Topic
from forum.models.users import User


class TimerType(StrEnum):
    CLOSE = "close"
    OPEN = "open"
    SILENT_CLOSE = "silent_close"
    DELETE = "delete"


class TimerState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # taken by a scan; its fire task is queued
    FIRED = "fired"
    SKIPPED = "skipped"  # due, but no longer applicable (topic gone, creator no longer staff, ...)
    CANCELLED = "cancelled"


class DialogueSchedule(Base):
    """Open/close windows for a dialogue ("open Tuesday 18:00, close Thursday 18:00, for four weeks")."""

    __tablename__ = "dialogue_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    windows: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    timers: Mapped[list["TopicTimer"]] = relationship(back_populates="schedule", order_by="TopicTimer.execute_at")


class TopicTimer(Base):
    __tablename__ = "topic_timers"
    __table_args__ = (
        CheckConstraint("status_type IN ('close', 'open', 'silent_close', 'delete')", name="status_type"),
        CheckConstraint("state IN ('pending', 'claimed', 'fired', 'skipped', 'cancelled')", name="state"),
        Index("ix_topic_timers_state_execute_at", "state", "execute_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status_type: Mapped[str] = mapped_column(String(20))
    execute_at: Mapped[datetime]
    based_on_last_post: Mapped[bool] = mapped_column(default=False)
    duration_minutes: Mapped[int | None]
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("dialogue_schedules.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=TimerState.PENDING)
    claimed_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    topic: Mapped[Topic] = relationship()
    user: Mapped[User] = relationship()
    schedule: Mapped[DialogueSchedule | None] = relationship(back_populates="timers")
