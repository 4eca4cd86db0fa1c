"""Invitations to join the forum (Discourse's POST /invites): a link mailed to one address, or a link to share that makes
up to ``max_redemptions_allowed`` accounts; staff send them (members too with INVITES_BY_MEMBERS). An invitation may
put its new members in groups (an admin's only: a group may open restricted categories) and point them to a topic.

As mailed tokens, an invitation's key is 256 random bits kept as its digest. It works until it expires
(INVITE_EXPIRY_DAYS by default), is used up or withdrawn, and while its inviter may still invite. The inviter gets the
key (to share it, as Discourse's answer has it), so the key alone proves no address: the mailed link carries a second
token (``email_token``, only ever in the mail), and only an account made with it is active at once (unless staff vet
every account and a member invited it). Any other waits for its activation as a sign-up does. A forum that admits
members by invitation only sets INVITE_ONLY, which closes the sign-up form to everyone else.
"""
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import func, insert, select, update

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import Group, Invite, Topic, User, invited_users
from forum.models.base import parse_utc, utcnow
from forum.services import activations, audit, groups, guardian, mail, secret_tokens, topics, users
from forum.services.errors import InvalidParameters, NotAllowed, NotFound, ServiceError, ValidationFailed

INVITE_PATH = "/invites/"
MAX_REDEMPTIONS = 100  # of a shared link
MAX_CUSTOM_MESSAGE_LENGTH = 1000
MAX_EMAILS_AT_ONCE = 50  # POST /invites/create-multiple
INVALID_INVITE = "This invitation has expired, was used up or was withdrawn. Ask whoever invited you for a new one."


@dataclass(frozen=True)
class IssuedInvite:
    invite: Invite
    key: str  # in the link; never stored

    @property
    def link(self) -> str:
        return current_app.config["BASE_URL"] + INVITE_PATH + self.key


@dataclass(frozen=True)
class InviteRequest:
    """What an inviter asks for, checked (``check_request``) before any invitation is made."""

    custom_message: str | None
    max_redemptions_allowed: int
    topic: Topic | None
    groups: list[Group]
    expires_at: datetime


def check_request(actor: User | None, *, custom_message: str | None, max_redemptions_allowed: int | None,
                  topic_id: int | None, group_ids: Iterable[int], group_names: Iterable[str],
                  expires_at: str | None) -> InviteRequest:
    guardian.ensure_can_invite_to_forum(actor)
    if custom_message is not None and len(custom_message) > MAX_CUSTOM_MESSAGE_LENGTH:
        raise ValidationFailed(f"The message must be at most {MAX_CUSTOM_MESSAGE_LENGTH} characters.")
    redemptions = 1 if max_redemptions_allowed is None else max_redemptions_allowed
    if not 1 <= redemptions <= MAX_REDEMPTIONS:
        raise InvalidParameters(f"max_redemptions_allowed must be between 1 and {MAX_REDEMPTIONS}.")
    topic = topics.get_visible_topic(actor, topic_id) if topic_id is not None else None
    if topic is not None and topic.is_private_message:
        raise ValidationFailed("An invitation to the forum cannot open a private message: invite them to it once they "
                               "have an account.")
    return InviteRequest(custom_message or None, redemptions, topic, _groups(actor, group_ids, group_names),
                         _expiry(expires_at))


def invite_by_email(actor: User, request: InviteRequest, email: str | None, *, skip_email: bool = False) -> IssuedInvite:
    """An invitation for ``email`` (mailed unless ``skip_email``), which replaces the inviter's earlier one to that
    address. An address that already has an account is refused: its owner signs in."""
    email = (email or "").strip().lower()
    if not email:
        raise InvalidParameters("param is missing or the value is empty: email")
    if error := users.email_error(email):
        raise ValidationFailed(error)
    with write_unit(db.session):
        db.session.execute(update(Invite).where(Invite.email == email, Invite.invited_by_id == actor.id,
                                                Invite.withdrawn_at.is_(None))
                           .values(withdrawn_at=utcnow()), execution_options={"synchronize_session": False})
        issued = _issue(actor, request, email=email, redemptions=1)
        if not skip_email:
            proof = secret_tokens.new_token()
            issued.invite.email_token_hash = secret_tokens.digest(proof)
            mail.queue(email, "invite", inviter=actor, link=f"{issued.link}?{urlencode({'t': proof})}",
                       custom_message=request.custom_message, topic=request.topic, expires_at=request.expires_at)
    return issued


def invite_many(actor: User, request: InviteRequest, emails: list[str], *, skip_email: bool = False
                ) -> tuple[list[IssuedInvite], list[tuple[str, ServiceError]]]:
    """Discourse's create-multiple: one invitation per address (each in its own write unit, so one refused leaves the
    others), staff only, as each address is mailed (unless ``skip_email``); the invitations made, and the addresses
    refused with why."""
    guardian.ensure_staff(actor)
    unique = list(dict.fromkeys(email.strip().lower() for email in emails if email.strip()))
    if not unique:
        raise InvalidParameters("param is missing or the value is empty: email")
    if len(unique) > MAX_EMAILS_AT_ONCE:
        raise InvalidParameters(f"At most {MAX_EMAILS_AT_ONCE} addresses at once.")
    made, refused = [], []
    for email in unique:
        try:
            made.append(invite_by_email(actor, request, email, skip_email=skip_email))
        except ServiceError as failure:
            refused.append((email, failure))
    return made, refused


def invite_by_link(actor: User, request: InviteRequest) -> IssuedInvite:
    """A link to share, good for ``request.max_redemptions_allowed`` accounts."""
    with write_unit(db.session):
        return _issue(actor, request, email=None, redemptions=request.max_redemptions_allowed)


def _issue(actor: User, request: InviteRequest, *, email: str | None, redemptions: int) -> IssuedInvite:
    key = secret_tokens.new_token()
    invite = Invite(key_hash=secret_tokens.digest(key), email=email, custom_message=request.custom_message,
                    max_redemptions_allowed=redemptions, invited_by_id=actor.id,
                    topic_id=request.topic.id if request.topic else None, expires_at=request.expires_at,
                    groups=request.groups)
    db.session.add(invite)
    db.session.flush()
    audit.record(actor, "invite.create", invite, after={"email": email, "max_redemptions_allowed": redemptions,
                                                        "group_ids": [group.id for group in request.groups]})
    return IssuedInvite(invite, key)


def find_usable(key: str, *, lock: bool = False) -> Invite:
    """The invitation ``key`` opens, if it still works (locked for the caller's write unit with ``lock``): not expired,
    used up or withdrawn, and its inviter may still invite (not demoted, silenced or gone since)."""
    query = select(Invite).where(Invite.key_hash == secret_tokens.digest(key), Invite.withdrawn_at.is_(None),
                                 Invite.expires_at > utcnow())
    found = db.session.scalar(query.with_for_update(**ROW_LOCK) if lock else query)
    # Counted after the lock, by a statement of its own: it sees every account a redeemer who held the lock made.
    if (found is None or _redemptions(found) >= found.max_redemptions_allowed
            or not guardian.allows(guardian.ensure_can_invite_to_forum, found.invited_by)):
        raise NotFound(INVALID_INVITE)
    return found


def _redemptions(invite: Invite) -> int:
    return db.session.scalar(select(func.count()).select_from(invited_users).where(invited_users.c.invite_id == invite.id))


def destination(invite: Invite) -> Topic | None:
    """The topic the invitation points to, while it is still one its inviter may see (not deleted, restricted or made
    private since)."""
    topic = invite.topic
    if topic is None or topic.is_private_message or not guardian.allows(guardian.ensure_can_see_topic, invite.invited_by, topic):
        return None
    return topic


def redeem(key: str, *, username: str | None, email: str | None, password: str | None, name: str | None,
           email_token: str | None = None) -> tuple[User, Invite]:
    """Make the account an invitation opens, and put it where the invitation says (its groups). ``email_token``: the
    mailed link's second token, which proves the invited address."""
    with write_unit(db.session):
        invite = find_usable(key, lock=True)  # locked: two redeeming the last place cannot both take it
        if invite.email is None and not email:
            raise ValidationFailed("Email is required.")
        if invite.email is not None and email and email.strip().lower() != invite.email:
            raise ValidationFailed("This invitation is for another address.")
        user = users.signup(None, username=username, email=invite.email or email, password=password, name=name,
                            active=False)
        inviter = invite.invited_by
        if _proves_address(invite, email_token) and (inviter.is_staff or activations.by_email()):
            users.mark_activated(None, user)
        elif activations.by_email():
            activations.send_link(user)
        db.session.execute(insert(invited_users).values(invite_id=invite.id, user_id=user.id, created_at=utcnow()))
        for group in invite.groups if guardian.allows(guardian.ensure_admin, inviter) else []:
            groups.add_members(inviter, group, [user])
        audit.record(user, "invite.redeem", invite)
    return user, invite


def _proves_address(invite: Invite, email_token: str | None) -> bool:
    return bool(invite.email_token_hash and email_token
                and secrets.compare_digest(invite.email_token_hash, secret_tokens.digest(email_token)))


def withdraw(actor: User | None, invite_id: int | None) -> None:
    """Discourse's DELETE /invites: its inviter (or an admin) withdraws an invitation."""
    guardian.ensure_can_act(actor)
    invite = db.session.get(Invite, invite_id) if invite_id is not None else None
    if invite is None or not (invite.invited_by_id == actor.id or actor.is_admin):
        raise NotFound("That invitation does not exist.")
    with write_unit(db.session):
        db.session.execute(update(Invite).where(Invite.id == invite.id, Invite.withdrawn_at.is_(None))
                           .values(withdrawn_at=utcnow()), execution_options={"synchronize_session": False})
        audit.record(actor, "invite.withdraw", invite)


def _groups(actor: User, group_ids: Iterable[int], group_names: Iterable[str]) -> list[Group]:
    group_ids, group_names = list(group_ids), [name for name in group_names if name]
    if not (group_ids or group_names):
        return []
    if not actor.is_admin:
        raise NotAllowed("Only admins may invite into groups.")
    found = {group.id: group for group in db.session.scalars(select(Group).where(Group.id.in_(group_ids)))}
    named = groups.find_by_names(group_names)
    if missing := [str(group_id) for group_id in group_ids if group_id not in found] + [
            name for name in group_names if name.lower() not in named]:
        raise ValidationFailed(f"There is no group {', '.join(missing)}.")
    return sorted({**found, **{group.id: group for group in named.values()}}.values(), key=lambda group: group.name)


def _expiry(expires_at: str | None) -> datetime:
    if expires_at is None or not expires_at.strip():
        return utcnow() + timedelta(days=current_app.config["INVITE_EXPIRY_DAYS"])
    try:
        moment = parse_utc(expires_at)
    except ValueError:
        raise InvalidParameters("expires_at must be an ISO 8601 date and time.") from None
    if moment <= utcnow():
        raise ValidationFailed("An invitation must expire in the future.")
    return moment
