"""Stopping email from the mail itself (Discourse's unsubscribe link). The link is signed with the forum's secret key
and names the member and the kind of mail it came with, so it needs no sign-in and keeps working (unlike mailed
tokens, it proves no address and changes nothing but that one preference)."""
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import EmailLevel, User
from forum.services.errors import NotFound

UNSUBSCRIBE_PATH = "/email/unsubscribe/"
_SALT = "forum.unsubscribe"


class MailKind(StrEnum):
    NOTIFICATIONS = "notifications"  # stopped by email_level never
    ACTIVITY_SUMMARIES = "activity_summaries"  # stopped by email_digests false

    @property
    def description(self) -> str:
        """As a page names it to the member."""
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Unsubscription:
    user: User
    kind: MailKind


def link_for(user: User, kind: MailKind = MailKind.NOTIFICATIONS) -> str:
    """The member's id and when the account was made: an id a deleted account leaves free names the next one too."""
    key = _signer().dumps([user.id, user.created_at.isoformat(), kind.value])
    return current_app.config["BASE_URL"] + UNSUBSCRIBE_PATH + key


def headers_for(link: str) -> dict[str, str]:
    """RFC 2369's link, and RFC 8058's one-click POST to it, which mail providers offer beside the message."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def unsubscription_of(key: str) -> Unsubscription:
    """The member and the mail an unsubscribe link names; NotFound for a key the forum did not sign, or a member gone
    since. Keys of two items, from before summaries were mailed, came with notifications."""
    try:
        user_id, created_at, *named = _signer().loads(key)
        (kind_name,) = named or [MailKind.NOTIFICATIONS]
        kind = MailKind(kind_name)
    except (BadSignature, TypeError, ValueError):
        user_id = created_at = kind = None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.created_at.isoformat() != created_at:
        raise NotFound("This unsubscribe link is not one the forum sent.")
    return Unsubscription(user, kind)


def unsubscribe(key: str) -> Unsubscription:
    """No more of the mail the link came with for the member it names."""
    unsubscription = unsubscription_of(key)
    with write_unit(db.session):
        user = db.session.get(User, unsubscription.user.id, with_for_update=ROW_LOCK, populate_existing=True)
        if unsubscription.kind is MailKind.NOTIFICATIONS:
            user.email_level = EmailLevel.NEVER
        else:
            user.email_digests = False
    return Unsubscription(user, unsubscription.kind)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
