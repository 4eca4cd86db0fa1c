"""Stored topic summaries (Discourse AI's topic summary): one per topic."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.models.base import Base, utcnow


class TopicSummary(Base):
    __tablename__ = "topic_summaries"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(80))
    # [{"text": ..., "post_numbers": [...]}, ...], in thread order.
    key_points: Mapped[list] = mapped_column(JSON)
    summarized_text: Mapped[str] = mapped_column(Text)
    highest_post_number: Mapped[int]  # the last post the summary read
    content_hash: Mapped[str] = mapped_column(String(64))  # of what it read: unchanged input, no new summary
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
