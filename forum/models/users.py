"""Users and their API keys."""
from datetime import datetime
from enum import IntEnum, StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, String, event, false, true
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    MEMBER = "member"


STAFF_ROLES = (Role.ADMIN, Role.MODERATOR)


class EmailLevel(IntEnum):
    """Discourse's user option email_level: when a member is mailed their notifications."""

    ALWAYS = 0
    ONLY_WHEN_AWAY = 1  # the ones still unread a while later (NOTIFICATION_EMAIL_DELAY)
    NEVER = 2


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'moderator', 'member')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    # Discourse's approach to case-insensitive uniqueness: a lowercased copy with a plain unique
    # constraint works identically on SQLite and PostgreSQL.
    username_lower: Mapped[str] = mapped_column(String(60), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.MEMBER)
    active: Mapped[bool] = mapped_column(default=True)
    is_bot: Mapped[bool] = mapped_column(default=False)
    suspended_at: Mapped[datetime | None]
    suspended_till: Mapped[datetime | None]
    suspend_reason: Mapped[str | None] = mapped_column(String(300))
    # Silenced by staff (Discourse's silencing): signed in and reading, but posting and editing nothing till then.
    silenced_at: Mapped[datetime | None]
    silenced_till: Mapped[datetime | None]
    silence_reason: Mapped[str | None] = mapped_column(String(300))
    # When staff deactivated the account (cleared when they activate it): no mailed link activates it meanwhile.
    deactivated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    # The user's choice that no bot reads their posts (summaries, tactic suggestions, digests quote nothing).
    bot_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    email_level: Mapped[int] = mapped_column(default=EmailLevel.ONLY_WHEN_AWAY, server_default="1")
    # Discourse's digest options: a member away this long is mailed a summary of what they missed (activity_summaries),
    # at most this often; digest_attempted_at is when the forum last looked for something to tell them.
    email_digests: Mapped[bool] = mapped_column(default=True, server_default=true())
    digest_after_minutes: Mapped[int] = mapped_column(default=10080, server_default="10080")
    digest_attempted_at: Mapped[datetime | None]
    # The newest notification the user has seen in their notifications menu (Discourse's seen_notification_id).
    seen_notification_id: Mapped[int] = mapped_column(default=0, server_default="0")

    api_keys: Mapped[list["ApiKey"]] = relationship(back_populates="user", foreign_keys="ApiKey.user_id")

    # Each rule once, for a loaded user and in queries alike (hybrid properties).

    @hybrid_property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @is_staff.inplace.expression
    @classmethod
    def _is_staff_expression(cls) -> ColumnElement[bool]:
        return cls.role.in_(STAFF_ROLES)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @hybrid_property
    def is_suspended(self) -> bool:
        return self.suspended_till is not None and self.suspended_till > utcnow()

    @is_suspended.inplace.expression
    @classmethod
    def _is_suspended_expression(cls) -> ColumnElement[bool]:
        return cls.suspended_till.is_not(None) & (cls.suspended_till > utcnow())

    @hybrid_property
    def is_silenced(self) -> bool:
        return self.silenced_till is not None and self.silenced_till > utcnow()

    @is_silenced.inplace.expression
    @classmethod
    def _is_silenced_expression(cls) -> ColumnElement[bool]:
        return cls.silenced_till.is_not(None) & (cls.silenced_till > utcnow())

    @hybrid_property
    def is_active(self) -> bool:  # Flask-Login: suspended or deactivated users cannot sign in
        return self.active and not self.is_suspended

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls) -> ColumnElement[bool]:
        return (cls.active == true()) & ~cls.is_suspended

    def __repr__(self) -> str:
        return f"<User {self.username}>"


@event.listens_for(User.username, "set", retval=False)
def _keep_username_lower(target: User, value: str, oldvalue, initiator) -> None:
    target.username_lower = value.lower() if value is not None else None


class ApiKey(Base):
    """An API key as Discourse has them: for one user, or (user_id NULL) for acting as any user."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a SHA-256 digest is stored: keys are 256-bit random, so a slow hash adds nothing.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    truncated_key: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    description: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship(back_populates="api_keys", foreign_keys=[user_id])

    @property
    def is_all_users(self) -> bool:
        return self.user_id is None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
