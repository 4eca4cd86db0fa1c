"""Categories: where topics live, with Discourse's default auto-close settings."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, utcnow


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    color: Mapped[str] = mapped_column(String(6), default="0088CC")
    text_color: Mapped[str] = mapped_column(String(6), default="FFFFFF")
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    parent_category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    # Discourse's category defaults for new topics' close timers.
    auto_close_hours: Mapped[float | None]
    auto_close_based_on_last_post: Mapped[bool] = mapped_column(default=False)
    # Only staff and the groups in category_groups see a read-restricted category.
    read_restricted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped["Category | None"] = relationship(remote_side=[id])
