"""A member's new email address, as Discourse changes it: a link mailed to the new address confirms it, and the old
address is told once it changed. Until then the account keeps its address (and signs in, and resets its password, by
it); only the newest link works, once, for EMAIL_TOKEN_VALID_HOURS."""
from flask import current_app
from forum.database import write_unit
from forum.extensions import db
from forum.models import EmailToken, EmailTokenPurpose, User
from forum.models.base import utcnow
from forum.services import audit, email_tokens, guardian, mail, users
from forum.services.errors import ValidationFailed, refusing_duplicates

CONFIRM_PATH = "/u/confirm-new-email/"
ALREADY_IN_USE = "That email address is already in use."


def request_change(actor: User | None, username: str, email: str) -> None:
    """Discourse's PUT /u/{username}/preferences/email: mail a confirmation link to ``email``."""
    user = users.get_listed_user(actor, username)
    guardian.ensure_can_change_email(actor, user)
    email = email.strip().lower()
    if email == user.email:
        raise ValidationFailed("That is already the account's email address.")
    if error := users.email_error(email):
        raise ValidationFailed(error)
    with write_unit(db.session):
        token = email_tokens.issue(user, EmailTokenPurpose.EMAIL_CHANGE, email)
        if actor.id != user.id:
            audit.record(actor, "user.request_email_change", user)
        mail.queue(email, "confirm_new_email", user=user, link=current_app.config["BASE_URL"] + CONFIRM_PATH + token,
                   valid_hours=current_app.config["EMAIL_TOKEN_VALID_HOURS"])


def check_link(token: str) -> EmailToken:
    """The change a confirmation link would make, if the link still works; NotFound otherwise."""
    return email_tokens.find_usable(token, EmailTokenPurpose.EMAIL_CHANGE)


def confirm(token: str) -> User:
    """The new address becomes the account's; the old one is told. Refused if another account took the address
    meanwhile (the link then stays usable, should that account let it go)."""
    with refusing_duplicates("That email address"), write_unit(db.session):
        link = email_tokens.find_usable(token, EmailTokenPurpose.EMAIL_CHANGE, lock=True)
        user = link.user
        if users.find_by_email(link.email) is not None:
            raise ValidationFailed(ALREADY_IN_USE)
        old_email, user.email, link.used_at = user.email, link.email, utcnow()
        db.session.flush()  # two accounts confirming one address at once: the unique constraint tells the second
        audit.record(user, "user.change_email", user)
        mail.queue(old_email, "email_changed", user=user)
    return user
