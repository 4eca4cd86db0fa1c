"""Forgotten passwords, as Discourse handles them: a member names their account, a link is mailed to its address,
and the link sets a new password. Only the newest link works, once, for EMAIL_TOKEN_VALID_HOURS, and only while the
account still has the address it was mailed to."""
from flask import current_app

from forum.database import write_unit
from forum.extensions import db
from forum.models import EmailToken, EmailTokenPurpose, User
from forum.models.base import utcnow
from forum.services import activations, email_tokens, mail, users
from forum.services.errors import NotFound

RESET_PATH = "/u/password-reset/"


def request_reset(login: str) -> bool:
    """Mail a reset link to the account ``login`` names (its username or address, in any case). False when there is
    no such account or it cannot have one; Discourse's answer tells the asker which (its user_found)."""
    user = users.find_by_login(login)
    if user is None or not users.can_be_mailed(user):
        return False
    with write_unit(db.session):
        token = email_tokens.issue(user, EmailTokenPurpose.PASSWORD_RESET, user.email)
        mail.queue(user.email, "password_reset", user=user, link=current_app.config["BASE_URL"] + RESET_PATH + token,
                   valid_hours=current_app.config["EMAIL_TOKEN_VALID_HOURS"])
    return True


def check_link(token: str) -> User:
    """The account a reset link would change, if the link still works; NotFound otherwise."""
    return _usable_link(token).user


def reset_password(token: str, password: str) -> User:
    """Set the password the link's owner chose. A password the rules refuse leaves the link working; the password
    set, the link is used up, every session of the account ends, and an account waiting for its activation by mail is
    activated (the link proved the address)."""
    with write_unit(db.session):
        link = _usable_link(token, lock=True)
        users.set_password(link.user, password, actor=link.user)
        link.used_at = utcnow()
        activations.address_proven(link.user)
    return link.user


def _usable_link(token: str, *, lock: bool = False) -> EmailToken:
    link = email_tokens.find_usable(token, EmailTokenPurpose.PASSWORD_RESET, lock=lock)
    if link.email != link.user.email or not users.can_be_mailed(link.user):
        raise NotFound(email_tokens.INVALID_LINK)
    return link
