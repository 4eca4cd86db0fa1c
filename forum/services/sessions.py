"""Signing in and out: each sign-in is a server-side token, so signing out ends it everywhere it was copied."""
import hashlib
import secrets

from sqlalchemy import select

from forum.database import write_unit
from forum.extensions import db
from forum.models import User, UserAuthToken
from forum.models.base import utcnow
from forum.services import users
from forum.services.errors import NotAllowed

INCORRECT_LOGIN = "Incorrect username, email or password"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(login: str, password: str, *, client_ip: str | None, user_agent: str | None) -> tuple[User, str]:
    """Check the credentials and open a session; returns the user and the session token (kept in the cookie)."""
    user = users.find_by_username(login) or db.session.scalar(select(User).where(User.email == login.lower()))
    if user is None or not users.check_password(user, password):
        raise NotAllowed(INCORRECT_LOGIN)
    if not user.is_active:
        raise NotAllowed("Your account is suspended or inactive.")
    token = secrets.token_urlsafe(32)
    with write_unit(db.session):
        db.session.add(
            UserAuthToken(user_id=user.id, token_hash=_digest(token), client_ip=client_ip, user_agent=(user_agent or "")[:300])
        )
    return user, token


def user_for_token(token: str) -> User | None:
    auth_token = db.session.scalar(select(UserAuthToken).where(UserAuthToken.token_hash == _digest(token)))
    if auth_token is None or auth_token.revoked_at is not None:
        return None
    return auth_token.user


def sign_out(token: str) -> None:
    with write_unit(db.session):
        auth_token = db.session.scalar(select(UserAuthToken).where(UserAuthToken.token_hash == _digest(token)))
        if auth_token is not None and auth_token.revoked_at is None:
            auth_token.revoked_at = utcnow()
