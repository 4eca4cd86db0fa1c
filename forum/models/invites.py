"""Invitations to join the forum (Discourse's invites): a link mailed to an address, or one to share, that makes an
account; it may also put the new member in groups and point them to a topic."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.models.base import Base, UTCDateTime, utcnow
from forum.models.groups import Group
from forum.models.users import User

if TYPE_CHECKING:
    from forum.models.topics import Topic

# The groups an invitation's new members join (only admins attach any: a group may open restricted categories).
invite_groups = Table(
    "invite_groups",
    Base.metadata,
    Column("invite_id", ForeignKey("invites.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

# Who joined by each invitation.
invited_users = Table(
    "invited_users",
    Base.metadata,
    Column("invite_id", ForeignKey("invites.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, unique=True),
    Column("created_at", UTCDateTime(), nullable=False, default=utcnow),
)


class Invite(Base):
    """An invitation; only a digest of its key is stored (the key is in the link). It makes at most
    ``max_redemptions_allowed`` accounts (one for an invitation to an address; those made are its invited_users),
    before ``expires_at``, unless withdrawn."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)  # None: a link to share
    # The digest of the second token only the mailed link carries (set when it is mailed): the key alone, which the
    # inviter holds, proves no address.
    email_token_hash: Mapped[str | None] = mapped_column(String(64))
    custom_message: Mapped[str | None] = mapped_column(String(1000))
    max_redemptions_allowed: Mapped[int] = mapped_column(default=1)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]

    invited_by: Mapped[User] = relationship()
    topic: Mapped["Topic | None"] = relationship()
    groups: Mapped[list[Group]] = relationship(secondary=invite_groups, order_by="Group.name")

    @property
    def emailed(self) -> bool:
        return self.email_token_hash is not None
