"""Activating a new account by a link mailed to its address, as Discourse does by default (SIGNUP_ACTIVATION "email"),
or by staff alone ("staff": a forum that vets its members; users.activate either way). The link works once, for
EMAIL_TOKEN_VALID_HOURS, while the account keeps that address, and never for an account staff deactivated."""
from flask import current_app

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import EmailTokenPurpose, User
from forum.models.base import utcnow
from forum.services import email_tokens, guardian, mail, users
from forum.services.errors import Conflict, NotAllowed, NotFound

ACTIVATE_PATH = "/u/activate-account/"


def by_email() -> bool:
    return current_app.config["SIGNUP_ACTIVATION"] == "email"


def sign_up(actor: User | None, *, username: str | None, email: str | None, password: str | None, name: str | None,
            active: bool) -> User:
    """users.signup, and the activation link mailed to the new account's address when it waits for one. (Redeeming an
    invitation makes an account too, past INVITE_ONLY: invites.redeem.)"""
    guardian.ensure_can_sign_up(actor)
    with write_unit(db.session):
        user = users.signup(actor, username=username, email=email, password=password, name=name, active=active)
        if not user.active and by_email():
            send_link(user)
    return user


def resend(actor: User | None, login: str, *, session_user_id: int | None) -> None:
    """Discourse's POST /u/action/send_activation_email: a new link for an account waiting for its activation. Only
    for the account this browser session signed up or tried to sign in with (``session_user_id``), or any for staff:
    no one else can have the forum mail an address."""
    user = users.find_by_login(login)
    if user is None:
        raise NotFound("That user does not exist.")
    if user.id != session_user_id and not (actor is not None and actor.is_staff):
        raise NotAllowed("Only the account this browser signed up or signed in with can be sent its activation mail.")
    if not by_email():
        raise NotAllowed("Staff activate new accounts on this forum: there is no activation mail.")
    if user.active:
        raise Conflict("That account is activated already: sign in.")
    if user.deactivated_at is not None:
        raise NotAllowed("Staff deactivated this account: only they can activate it.")
    with write_unit(db.session):
        send_link(user)


def check_link(token: str) -> User:
    """The account an activation link would let in, if the link still works; NotFound otherwise."""
    link = email_tokens.find_usable(token, EmailTokenPurpose.ACTIVATION)
    _ensure_usable(link.email, link.user)
    return link.user


def activate(token: str) -> User:
    """Let the link's account in; the link is used up."""
    with write_unit(db.session):
        link = email_tokens.find_usable(token, EmailTokenPurpose.ACTIVATION, lock=True)
        user = db.session.get(User, link.user_id, with_for_update=ROW_LOCK, populate_existing=True)
        _ensure_usable(link.email, user)
        link.used_at = utcnow()
        users.mark_activated(user, user)
    return user


def address_proven(user: User) -> None:
    """Its owner opened a link mailed to the account's address (a password reset): an account waiting for its
    activation by such a link is activated, as Discourse's EmailToken.confirm does. Call inside the caller's write
    unit."""
    if not user.active and user.deactivated_at is None and by_email():
        users.mark_activated(user, user)


def send_link(user: User) -> None:
    token = email_tokens.issue(user, EmailTokenPurpose.ACTIVATION, user.email)
    mail.queue(user.email, "activate_account", user=user, link=current_app.config["BASE_URL"] + ACTIVATE_PATH + token,
               valid_hours=current_app.config["EMAIL_TOKEN_VALID_HOURS"])


def _ensure_usable(email: str, user: User) -> None:
    """A link activates an account waiting for it by mail: not one active already (a link that would only sign its
    holder in), one staff deactivated, one whose address changed, nor any once staff activate every account."""
    if email != user.email or user.active or user.deactivated_at is not None or not by_email():
        raise NotFound(email_tokens.INVALID_LINK)
