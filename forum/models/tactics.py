"""Tactics are tags of the "Tactics" tag group; what the bot needs beyond a tag lives here."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, utcnow
from forum.models.tags import Tag


class TacticProfile(Base):
    """Example phrases for a tactic (its description is the tag's). A tag of the group without one is a
    tactic with no examples yet."""

    __tablename__ = "tactic_profiles"

    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    examples: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    tag: Mapped[Tag] = relationship()


class TacticModel(Base):
    """A fitted tactics model. The newest row is the one the bot scores with; older ones stay as the
    record of which model made which suggestion."""

    __tablename__ = "tactic_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(80), unique=True)
    parameters: Mapped[dict] = mapped_column(JSON)
    decisions_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TacticScoring(Base):
    """The version of a post the tactics bot last read, and the model it read it with. A post whose current
    version has no row was never read as it stands: its task was lost (the broker was down when it was written)
    or it was written before the bot. The backfill finds those."""

    __tablename__ = "tactic_scorings"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    post_version: Mapped[int]
    model_version: Mapped[str] = mapped_column(String(80))
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
