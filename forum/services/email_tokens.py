"""Links mailed to a member (forum.models.EmailToken): issued with a random token, kept as its digest (secret_tokens),
redeemed once."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from forum.database import ROW_LOCK
from forum.extensions import db
from forum.models import EmailToken, EmailTokenPurpose, User
from forum.models.base import utcnow
from forum.services import secret_tokens
from forum.services.errors import NotFound


def issue(user: User, purpose: EmailTokenPurpose, email: str) -> str:
    """A new token proving ``email`` for ``purpose``; returns it (for the mail, never stored). Call inside the
    caller's write unit. Earlier unused tokens of the same purpose stop working: only the newest mail's link works
    (the user's row is locked first, so that two requests at once leave one)."""
    db.session.get(User, user.id, with_for_update=ROW_LOCK, populate_existing=True)
    withdraw(user, purpose)
    token = secret_tokens.new_token()
    valid_for = timedelta(hours=current_app.config["EMAIL_TOKEN_VALID_HOURS"])
    db.session.add(EmailToken(user_id=user.id, purpose=purpose, token_hash=secret_tokens.digest(token), email=email,
                              expires_at=utcnow() + valid_for))
    return token


def withdraw(user: User, purpose: EmailTokenPurpose | None = None) -> None:
    """Void ``user``'s unused tokens for ``purpose`` (None: for any). Call inside the caller's write unit."""
    query = update(EmailToken).where(EmailToken.user_id == user.id, EmailToken.used_at.is_(None))
    if purpose is not None:
        query = query.where(EmailToken.purpose == purpose)
    db.session.execute(query.values(used_at=utcnow()), execution_options={"synchronize_session": False})


INVALID_LINK = "This link has expired, was used already, or was replaced by a newer one. Ask for a new one."


def find_usable(token: str, purpose: EmailTokenPurpose, *, lock: bool = False) -> EmailToken:
    """The unused, unexpired token for ``purpose`` (locked for the caller's write unit with ``lock``), else NotFound."""
    query = select(EmailToken).where(
        EmailToken.token_hash == secret_tokens.digest(token), EmailToken.purpose == purpose,
        EmailToken.used_at.is_(None), EmailToken.expires_at > utcnow(),
    )
    found = db.session.scalar(query.with_for_update(**ROW_LOCK) if lock else query)
    if found is None:
        raise NotFound(INVALID_LINK)
    return found
