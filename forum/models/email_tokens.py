"""Tokens mailed to a member to prove they read that address: a password reset, a new address to confirm, a new
account to activate."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, utcnow
from forum.models.users import User


class EmailTokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"
    ACTIVATION = "activation"


class EmailToken(Base):
    """One link mailed to ``email``; only a digest of its token is stored. It works once, before ``expires_at``, and
    only while ``email`` is still the one it proves: the account's address for a reset or an activation, the new one for
    a change."""

    __tablename__ = "email_tokens"
    __table_args__ = (CheckConstraint("purpose IN ('password_reset', 'email_change', 'activation')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
