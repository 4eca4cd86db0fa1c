"""Sign-in sessions: each is a server-side token, so ending it works wherever the cookie was copied.

Only a digest of the token is stored, so the table cannot be replayed if it leaks. A session ends
when its user signs out, when staff suspend the user, or after ``MAX_SESSION_AGE``.
"""
import logging
from datetime import timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import OperationalError

from forum.database import write_unit
from forum.extensions import db
from forum.models import User, UserAuthToken
from forum.models.base import utcnow
from forum.services import secret_tokens

logger = logging.getLogger(__name__)

# Discourse's default maximum_session_age (1440 hours): after it, the user signs in again.
MAX_SESSION_AGE = timedelta(days=60)
# A member's last_seen_at is kept to within this: a write per member per span, not one per request (Discourse's is a
# minute). Activity summaries go to members away, so a session kept open for weeks must still count as being there.
SEEN_PRECISION = timedelta(minutes=5)


def _live() -> ColumnElement[bool]:
    """A condition on UserAuthToken: sessions that have not ended."""
    return UserAuthToken.revoked_at.is_(None) & (UserAuthToken.created_at > utcnow() - MAX_SESSION_AGE)


def open_session(user: User, *, client_ip: str | None, user_agent: str | None) -> str:
    """A new session for ``user``; returns its token (kept in the cookie, never stored). The user is seen now."""
    token = secret_tokens.new_token()
    with write_unit(db.session):
        user.last_seen_at = utcnow()
        db.session.add(
            UserAuthToken(
                user_id=user.id, token_hash=secret_tokens.digest(token), client_ip=client_ip, user_agent=(user_agent or "")[:300]
            )
        )
    return token


def find_live(token: str) -> UserAuthToken | None:
    """The session ``token`` opened, if it has not ended."""
    return db.session.scalar(select(UserAuthToken).where(UserAuthToken.token_hash == secret_tokens.digest(token), _live()))


def user_for_token(token: str) -> User | None:
    """The session's user, seen now. (Flask-Login counts a suspended or deactivated user as not authenticated.)"""
    auth_token = find_live(token)
    if auth_token is None:
        return None
    if auth_token.user.is_active:
        _mark_seen(auth_token.user)
    return auth_token.user


def _mark_seen(user: User) -> None:
    """Best effort: a request is not refused because the database was too busy to note it (the next one will)."""
    now = utcnow()
    if user.last_seen_at is not None and user.last_seen_at > now - SEEN_PRECISION:
        return
    try:
        with write_unit(db.session):
            # Conditional, so two requests at once write it once.
            db.session.execute(
                update(User).where(User.id == user.id, User.last_seen_at.is_(None) | (User.last_seen_at <= now - SEEN_PRECISION))
                .values(last_seen_at=now), execution_options={"synchronize_session": False})
    except OperationalError:
        logger.warning("Could not note that user %s was seen", user.id, exc_info=True)


def live_sessions(user: User) -> list[UserAuthToken]:
    """``user``'s sessions that have not ended, newest first."""
    return list(
        db.session.scalars(
            select(UserAuthToken).where(UserAuthToken.user_id == user.id, _live()).order_by(UserAuthToken.id.desc())
        )
    )


def sign_out(token: str) -> None:
    with write_unit(db.session):
        auth_token = db.session.scalar(select(UserAuthToken).where(UserAuthToken.token_hash == secret_tokens.digest(token)))
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
