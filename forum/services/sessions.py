"""Sign-in sessions: each is a server-side token, so ending it works wherever the cookie was copied.

Only a digest of the token is stored, so the table cannot be replayed if it leaks. A session ends
when its user signs out, when staff suspend the user, or after ``MAX_SESSION_AGE``.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import ColumnElement, select, update

from forum.database import write_unit
from forum.extensions import db
from forum.models import User, UserAuthToken
from forum.models.base import utcnow

# Discourse's default maximum_session_age (1440 hours): after it, the user signs in again.
MAX_SESSION_AGE = timedelta(days=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live() -> ColumnElement[bool]:
    """A condition on UserAuthToken: sessions that have not ended."""
    return UserAuthToken.revoked_at.is_(None) & (UserAuthToken.created_at > utcnow() - MAX_SESSION_AGE)


def open_session(user: User, *, client_ip: str | None, user_agent: str | None) -> str:
    """A new session for ``user``; returns its token (kept in the cookie, never stored). Signing in is
    when a user is last seen: recording every request instead would put a write on every read."""
    token = secrets.token_urlsafe(32)
    with write_unit(db.session):
        user.last_seen_at = utcnow()
        db.session.add(
            UserAuthToken(
                user_id=user.id, token_hash=_digest(token), client_ip=client_ip, user_agent=(user_agent or "")[:300]
            )
        )
    return token


def find_live(token: str) -> UserAuthToken | None:
    """The session ``token`` opened, if it has not ended."""
    return db.session.scalar(select(UserAuthToken).where(UserAuthToken.token_hash == _digest(token), _live()))


def user_for_token(token: str) -> User | None:
    """The session's user. (Flask-Login counts a suspended or deactivated user as not authenticated.)"""
    auth_token = find_live(token)
    return auth_token.user if auth_token is not None else None


def live_sessions(user: User) -> list[UserAuthToken]:
    """``user``'s sessions that have not ended, newest first."""
    return list(
        db.session.scalars(
            select(UserAuthToken).where(UserAuthToken.user_id == user.id, _live()).order_by(UserAuthToken.id.desc())
        )
    )


def sign_out(token: str) -> None:
    with write_unit(db.session):
        auth_token = db.session.scalar(select(UserAuthToken).where(UserAuthToken.token_hash == _digest(token)))
        if auth_token is not None and auth_token.revoked_at is None:
            auth_token.revoked_at = utcnow()


def end_all_sessions(user: User) -> None:
    """Sign ``user`` out everywhere. Call inside the caller's write unit."""
    db.session.execute(
        update(UserAuthToken)
        .where(UserAuthToken.user_id == user.id, UserAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
