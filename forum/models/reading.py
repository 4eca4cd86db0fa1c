"""What each user has read of each topic, as Discourse's topic_users keeps it."""
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from forum.models.base import Base, utcnow


class TopicUser(Base):
    __tablename__ = "topic_users"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True)
    last_read_post_number: Mapped[int] = mapped_column(default=0)
    total_msecs_viewed: Mapped[int] = mapped_column(default=0)
    first_visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_visited_at: Mapped[datetime] = mapped_column(default=utcnow)
