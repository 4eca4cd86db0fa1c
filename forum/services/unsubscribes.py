"""Stopping notification emails from the mail itself (Discourse's unsubscribe link). The link is signed with the
forum's secret key and names the member, so it needs no sign-in and keeps working (unlike mailed tokens, it proves no
address and changes nothing but the member's email_level)."""
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import EmailLevel, User
from forum.services.errors import NotFound

UNSUBSCRIBE_PATH = "/email/unsubscribe/"
_SALT = "forum.unsubscribe"


def link_for(user: User) -> str:
    """The member's id and when the account was made: an id a deleted account leaves free names the next one too."""
    return current_app.config["BASE_URL"] + UNSUBSCRIBE_PATH + _signer().dumps([user.id, user.created_at.isoformat()])


def member_of(key: str) -> User:
    """The member an unsubscribe link names; NotFound for a key the forum did not sign, or a member gone since."""
    try:
        user_id, created_at = _signer().loads(key)
    except (BadSignature, TypeError, ValueError):
        user_id = created_at = None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.created_at.isoformat() != created_at:
        raise NotFound("This unsubscribe link is not one the forum sent.")
    return user


def unsubscribe(key: str) -> User:
    """No more notification emails for the member the link names (email_level never)."""
    user_id = member_of(key).id
    with write_unit(db.session):
        user = db.session.get(User, user_id, with_for_update=ROW_LOCK, populate_existing=True)
        user.email_level = EmailLevel.NEVER
    return user


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)
