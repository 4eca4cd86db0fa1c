"""Accounts: sign-up, passwords, API keys, profiles, the staff's user lists, activation and suspension."""
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, delete, false, func, select, true, update
from sqlalchemy.exc import IntegrityError

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import (
    ApiKey,
    AuditLogEntry,
    EmailLevel,
    EmailTokenPurpose,
    Post,
    PostAction,
    PostActionType,
    PostType,
    Role,
    Topic,
    TopicUser,
    User,
    UserAuthToken,
)
from forum.models.post_actions import FLAG_TYPES
from forum.models.base import parse_utc, utcnow
from forum.services import activity_summaries, audit, email_tokens, events, groups, guardian, mentions, notifications, reading, secret_tokens, sessions
from forum.services.errors import InvalidParameters, NotAllowed, NotFound, ValidationFailed, refusing_duplicates

# Matched whole (fullmatch: "$" would also take a name ending in a newline). Discourse's rules: no two special
# characters in a row, and no ending that reads as a file (/u/boss.json would show the user "boss").
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{1,18}[A-Za-z0-9_]")
USERNAME_SPECIALS_IN_A_ROW = re.compile(r"[-_.]{2}")
USERNAME_FILE_SUFFIX = re.compile(r"\.(?:js|json|css|html?|xml|jpe?g|png|gif|bmp|ico|tiff?|woff)$", re.IGNORECASE)
# Discourse's reserved_usernames: names a member signing up may not take, as they read as the forum's own voice.
RESERVED_USERNAMES = frozenset("admin moderator administrator mod sys system community info you name username user nickname support".split())
# The address as mailed, nothing a mail server reads otherwise (as Discourse's EmailValidator): ASCII atoms joined by
# single dots, "@", and a host name of two labels or more. "root,x@evil.com" would reach "root" on the relay, and
# "<victim@ex.com" victim@ex.com, each an address taken twice.
_EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_PATTERN = re.compile(rf"{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*@{_HOST_LABEL}(?:\.{_HOST_LABEL})+", re.ASCII)
MIN_PASSWORD_LENGTH = 10
# Discourse's password_unique_characters: ten spaces or "aaaaaa5432" are long enough, and guessed at once.
MIN_PASSWORD_UNIQUE_CHARACTERS = 6
# Discourse's limits; the name and email ones are also the columns' sizes.
MAX_PASSWORD_LENGTH = 200
MAX_NAME_LENGTH = 255
MAX_EMAIL_LENGTH = 254
MAX_SUSPEND_REASON_LENGTH = 300

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_hashers: dict[tuple[int, int], PasswordHasher] = {}


def _password_hasher() -> PasswordHasher:
    """argon2id with the configured cost (argon2-cffi's RFC 9106 defaults unless the config lowers
    them, as the test configuration does so thousands of test users are quick to make)."""
    cost = (current_app.config["PASSWORD_HASH_TIME_COST"], current_app.config["PASSWORD_HASH_MEMORY_KIB"])
    if cost not in _hashers:
        _hashers[cost] = PasswordHasher(time_cost=cost[0], memory_cost=cost[1])
    return _hashers[cost]


def _could_be_stored(text: str) -> bool:
    # PostgreSQL text holds no NUL characters (and refuses queries that compare with one), so no
    # stored username or email address has one.
    return "\x00" not in text


def find_by_username(username: str) -> User | None:
    if not _could_be_stored(username):
        return None
    return db.session.scalar(select(User).where(User.username_lower == username.lower()))


def find_by_email(email: str) -> User | None:
    if not _could_be_stored(email):
        return None
    return db.session.scalar(select(User).where(User.email == email.lower()))


def find_by_login(login: str) -> User | None:
    """The user a sign-in names: by username or by email address, in any case."""
    return find_by_username(login) or find_by_email(login)


def get_by_username(username: str) -> User:
    user = find_by_username(username)
    if user is None:
        raise NotFound(f"There is no user named {username!r}.")
    return user


def _get_for_update(user_id: int) -> User:
    """The user with that id, locked for the rest of the write unit."""
    user = db.session.get(User, user_id, with_for_update=ROW_LOCK, populate_existing=True)
    if user is None:
        raise NotFound("That user does not exist.")
    return user


def create_user(
    username: str,
    *,
    email: str | None,
    password: str | None,
    name: str | None = None,
    role: str = Role.MEMBER,
    is_bot: bool = False,
    active: bool = True,
    created_by: User | None = None,
) -> User:
    errors = _validate_new_user(username, email, password, name, role, is_bot)
    if errors:
        raise ValidationFailed(*errors)
    with refusing_duplicates("That username or email address"), write_unit(db.session):
        user = User(
            username=username,
            email=email.lower() if email else None,
            name=name,
            role=role,
            is_bot=is_bot,
            active=active,
            password_hash=_password_hasher().hash(password) if password else None,
        )
        db.session.add(user)
        db.session.flush()
        audit.record(created_by, "user.create", user, after={"username": username, "role": role, "active": active})
    return user


def _validate_new_user(username, email, password, name, role, is_bot) -> list[str]:
    errors = []
    if error := username_error(username):
        errors.append(error)
    if email is None and not is_bot:
        errors.append("Email is required.")
    elif email is not None and (error := email_error(email)):
        errors.append(error)
    if password is not None and (password_error := _password_error(password, username, email)):
        errors.append(password_error)
    if name is not None and (name_error := _name_error(name)):
        errors.append(name_error)
    if role not in tuple(Role):
        errors.append(f"Role must be one of {', '.join(Role)}.")
    return errors


def username_error(username: str | None, *, renaming: User | None = None) -> str | None:
    """Why ``username`` cannot be an account's (``renaming``'s, whose own name it may be in another case)."""
    if not USERNAME_PATTERN.fullmatch(username or ""):
        return ("Username must be 3 to 20 characters of letters, digits, '_', '.' or '-', "
                "starting and ending with a letter, digit or '_'.")
    if USERNAME_SPECIALS_IN_A_ROW.search(username):
        return "Username must not have two of '_', '.' and '-' in a row."
    if USERNAME_FILE_SUFFIX.search(username):
        return "Username must not end like a file name (.json, .png, ...)."
    if _username_taken(username) and not (renaming is not None and username.lower() == renaming.username_lower):
        return f"Username {username!r} is already taken."
    return None


def email_error(email: str) -> str | None:
    """Why ``email`` cannot be an account's address: malformed, or another account's (in any case)."""
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.fullmatch(email):
        return f"{email!r} is not a valid email address."
    if find_by_email(email) is not None:
        return "That email address is already in use."
    return None


def _name_error(name: str) -> str | None:
    if len(name) > MAX_NAME_LENGTH:
        return f"Name must be at most {MAX_NAME_LENGTH} characters."
    if not _could_be_stored(name):
        return "Name must not contain NUL characters."
    return None


def update_profile(actor: User | None, username: str, *, name: str | None, email_level: int | None = None,
                   email_digests: bool | None = None, digest_after_minutes: int | None = None) -> User:
    """Discourse's PUT /u/{username}: the display name (blank clears it), by the user or staff, and the email preferences
    (the user options email_level, email_digests and digest_after_minutes; a digest_after_minutes of 0 stops the
    summaries, as Discourse's "never"), preferences like the bots' (the member's own, or anyone's for admins); changing
    someone else's leaves an audit record. None changes nothing."""
    user = get_listed_user(actor, username)
    guardian.ensure_can_edit_user(actor, user)
    preferences = {"email_level": email_level, "email_digests": email_digests, "digest_after_minutes": digest_after_minutes}
    if any(value is not None for value in preferences.values()):
        guardian.ensure_can_change_preferences(actor, user)
    if email_level is not None and email_level not in tuple(EmailLevel):
        raise InvalidParameters("email_level must be 0 (always), 1 (only when away) or 2 (never).")
    if digest_after_minutes == 0:
        preferences.update(email_digests=False, digest_after_minutes=None)
    elif digest_after_minutes is not None:
        activity_summaries.check_frequency(digest_after_minutes)
    wanted = {column: value for column, value in preferences.items() if value is not None}
    if name is not None:
        wanted["name"] = " ".join(name.split()) or None
        if wanted["name"] is not None and (error := _name_error(wanted["name"])):
            raise ValidationFailed(error)
    changed = {column: value for column, value in wanted.items() if getattr(user, column) != value}
    if not changed:
        return user
    with write_unit(db.session):
        if "name" in changed:
            events.publish_site_changed()  # pages kept for visitors name them
        before = {column: getattr(user, column) for column in changed}
        for column, value in changed.items():
            setattr(user, column, value)
        if actor.id != user.id:
            audit.record(actor, "user.edit", user, before=before, after=changed)
    return user


def _username_taken(username: str) -> bool:
    """Discourse's username_exists?: a user or a group has the name, an automatic group's included, whatever its case
    (an @-mention of it would not say which it meant)."""
    return (username.lower() in groups.RESERVED_NAMES or find_by_username(username) is not None
            or groups.find_by_name(username) is not None)


def _password_error(password: str, username: str | None, email: str | None) -> str | None:
    """Discourse's PasswordValidator, whose first failing rule is the one reported; the username and email
    address are compared whatever their case."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters."
    if username and password.lower() == username.lower():
        return "Password is the same as your username. Please use a more secure password."
    if email and password.lower() == email.lower():
        return "Password is the same as your email. Please use a more secure password."
    if len(set(password)) < MIN_PASSWORD_UNIQUE_CHARACTERS:
        return "Password has too many repeated characters. Please use a more secure password."
    return None


def signup(
    actor: User | None, *, username: str | None, email: str | None, password: str | None, name: str | None, active: bool
) -> User:
    """Discourse's POST /users: a member's account (never staff, whatever the caller sends), active at once only when
    an admin asks for it (as Discourse's ``active`` parameter requires); otherwise it waits for its activation
    (activations.sign_up mails the link)."""
    if not password:
        raise ValidationFailed(
            "Password is required.", *_validate_new_user(username, email, None, name, Role.MEMBER, False)
        )
    if (username or "").lower() in RESERVED_USERNAMES:
        raise ValidationFailed(f"Username {username!r} is reserved.")
    return create_user(
        username,
        email=email,
        password=password,
        name=name,
        active=active and actor is not None and actor.is_admin,
        created_by=actor,
    )


def activate(actor: User | None, user_id: int) -> User:
    """Staff let a signed-up (or deactivated) account in. Activating an active account changes nothing."""
    guardian.ensure_staff(actor)
    with write_unit(db.session):
        user = _get_for_update(user_id)
        if not user.active:
            mark_activated(actor, user)
    return user


def mark_activated(actor: User | None, user: User) -> None:
    """Let ``user`` in: activated by staff (``actor``), or by its own activation link (the user). Its other activation
    links stop working: none may sign anyone in later. Call inside the caller's write unit, with the user's row locked."""
    user.active, user.deactivated_at = True, None
    email_tokens.withdraw(user, EmailTokenPurpose.ACTIVATION)
    audit.record(actor, "user.activate", user, before={"active": False}, after={"active": True})


# Passwords.


@cache
def _decoy_hash() -> str:
    return _password_hasher().hash(secrets.token_hex(16))


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        _password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _password_hasher().check_needs_rehash(user.password_hash):
        with write_unit(db.session):
            user.password_hash = _password_hasher().hash(password)
    return True


def set_password(user: User, password: str, *, actor: User | None = None) -> None:
    """A new password for ``user``, by the rules a new account's follows: set by its owner from a reset link
    (``actor``: the user), or server-side with ``flask forum set-password``. Every session of theirs ends and every
    mailed link stops working: whoever knew the old password, or used a session of theirs to ask for a new address,
    is shut out."""
    if user.is_bot:
        raise ValidationFailed(f"{user.username} is a bot: bots do not sign in with a password.")
    if error := _password_error(password, user.username, user.email):
        raise ValidationFailed(error)
    with write_unit(db.session):
        user.password_hash = _password_hasher().hash(password)
        sessions.end_all_sessions(user)
        email_tokens.withdraw(user)
        audit.record(actor, "user.set_password", user)


def authenticate(login: str, password: str) -> User | None:
    """The user whose username or email address (in any case) is ``login``, if ``password`` is theirs.

    An unknown login costs the same hashing time as a known one, so timing does not tell which
    accounts exist.
    """
    user = find_by_login(login)
    if user is None:
        try:
            _password_hasher().verify(_decoy_hash(), password)
        except VerificationError:
            pass
        return None
    return user if check_password(user, password) else None


# API keys.


def create_api_key(user: User | None, *, created_by: User | None, description: str | None = None) -> tuple[ApiKey, str]:
    """A new key for ``user``, or for acting as any user when ``user`` is None. The plain key is
    returned once and never stored."""
    if user is None and created_by is not None and not created_by.is_admin:
        raise ValidationFailed("Only admins can create keys that act for all users.")
    plain = secrets.token_hex(32)
    with write_unit(db.session):
        api_key = ApiKey(
            key_hash=secret_tokens.digest(plain),
            truncated_key=plain[:4],
            user_id=user.id if user else None,
            created_by_id=created_by.id if created_by else None,
            description=description,
        )
        db.session.add(api_key)
        db.session.flush()
        audit.record(created_by, "api_key.create", api_key, after={"user_id": api_key.user_id})
    return api_key, plain


def revoke_api_key(api_key: ApiKey, *, revoked_by: User | None) -> None:
    with write_unit(db.session):
        api_key.revoked_at = utcnow()
        audit.record(revoked_by, "api_key.revoke", api_key)


def find_api_key(plain: str, username: str | None) -> tuple[ApiKey | None, User | None]:
    """The live key matching ``plain`` (None for an unknown or revoked one) and, in the same query, the user it
    would act as: its own user, or for an all-users key the user named ``username`` (None if there is none)."""
    by_name = bool(username) and _could_be_stored(username)
    row = db.session.execute(
        _api_key_lookup(by_name), {"key_hash": secret_tokens.digest(plain), "username": username.lower() if by_name else None}
    ).first()
    if row is None or row.ApiKey.is_revoked:
        return None, None
    return row.ApiKey, row.User


@cache
def _api_key_lookup(by_name: bool):
    """Built once: every request with an API key runs it, and building it took about 3% of a reply's time (py-spy)."""
    named = ApiKey.user_id.is_(None) & (User.username_lower == bindparam("username")) if by_name else false()
    return (
        select(ApiKey, User)
        .outerjoin(User, (User.id == ApiKey.user_id) | named)
        .where(ApiKey.key_hash == bindparam("key_hash"))
    )


# Suspension. A suspended user's sessions end, and neither a session nor an API key acts as them
# until the suspension ends (User.is_active).


def _parse_until(text: str | None, name: str) -> datetime:
    """Parameter ``name``: an ISO 8601 date (midnight UTC) or date and time (UTC when it names no offset), in the
    future."""
    if not (text or "").strip():
        raise InvalidParameters(f"param is missing or the value is empty: {name}")
    try:
        until = parse_utc(text)
    except ValueError:
        raise InvalidParameters(f"{name} must be an ISO 8601 date or time, such as 2121-02-22.") from None
    if until <= utcnow():
        raise InvalidParameters(f"{name} must be in the future.")
    return until


def _parse_reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise InvalidParameters("param is missing or the value is empty: reason")
    if len(reason) > MAX_SUSPEND_REASON_LENGTH:
        raise InvalidParameters(f"reason must be at most {MAX_SUSPEND_REASON_LENGTH} characters.")
    if not _could_be_stored(reason):
        raise InvalidParameters("reason must not contain NUL characters.")
    return reason


def log_out(actor: User | None, user_id: int) -> User:
    """Discourse's admin "log out": every session of the user ends (a lost phone, a shared computer); staff only,
    audited. API keys are not sessions and stay: revoke them on their own."""
    guardian.ensure_staff(actor)
    with write_unit(db.session):
        user = _get_for_update(user_id)
        sessions.end_all_sessions(user)
        audit.record(actor, "user.log_out", user)
    return user


def deactivate(actor: User | None, user_id: int) -> User:
    """Staff close an account until they activate it again: its sessions end, it cannot sign in, and no activation
    link lets it in meanwhile (one waiting for its activation, deactivated, waits for staff). Deactivating a
    deactivated account changes nothing."""
    guardian.ensure_staff(actor)
    with write_unit(db.session):
        user = _get_for_update(user_id)
        guardian.ensure_can_deactivate(actor, user)
        if user.deactivated_at is None:
            before = {"active": user.active}
            user.active, user.deactivated_at = False, utcnow()
            sessions.end_all_sessions(user)
            email_tokens.withdraw(user)
            audit.record(actor, "user.deactivate", user, before=before, after={"active": False})
    return user


# The domain of an anonymized account's placeholder address (Discourse's): reserved, so no mail can reach it.
ANONYMIZED_EMAIL_DOMAIN = "anonymized.invalid"


def anonymize(actor: User | None, user_id: int) -> User:
    """Discourse's anonymize: the account keeps its posts, which nothing a member wrote may lose, but nothing that
    names the person: a random username ("anon" and 8 hex digits), also where others @mentioned them, no name, a
    placeholder address, no password, no sessions, no API keys, no mailed link that works. The audit log, which cannot
    be changed, still holds what earlier entries recorded (the username the account was created with, names it was
    given)."""
    guardian.ensure_staff(actor)
    with write_unit(db.session):
        user = _get_for_update(user_id)
        guardian.ensure_can_anonymize(actor, user)
        _rename(user, _unused_anonymous_username())
        email_tokens.withdraw(user)  # a link mailed before would give the account an address again
        user.email = f"{user.username}@{ANONYMIZED_EMAIL_DOMAIN}"
        user.name = None
        user.password_hash = None
        sessions.end_all_sessions(user)
        db.session.execute(update(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow()))
        audit.record(actor, "user.anonymize", user)
    return user


def delete_user(actor: User | None, user_id: int, *, delete_posts: bool = False) -> None:
    """Delete an account that has left nothing behind (spam sign-ups, mistakes). One whose member wrote a post, even a
    deleted one, is refused, ``delete_posts`` or not: nothing a member wrote is lost, and anonymize() takes the person
    out of it instead. So is one that other records still name (the audit log's entries of what it did, review
    decisions, timers it set): the database's foreign keys say which, and the refusal stores nothing. The rows that
    belong to the account (sessions, API keys, likes, bookmarks, notifications, reading state) go with it."""
    guardian.ensure_staff(actor)
    username = None
    try:
        with write_unit(db.session):
            user = _get_for_update(user_id)
            guardian.ensure_can_delete_user(actor, user)
            username = user.username
            if delete_posts or _has_posts(user):
                raise NotAllowed(f"{username} has written posts, which are kept: anonymize the account instead.")
            # A statement, not the session's delete: the database's ON DELETE rules apply, where the session would set
            # the API keys' user_id to NULL, which would make them keys for acting as anyone.
            db.session.execute(delete(User).where(User.id == user.id), execution_options={"synchronize_session": False})
            audit.record(actor, "user.delete", user)
    except IntegrityError:
        raise NotAllowed(f"{username}'s actions are on record: anonymize the account instead.") from None


def can_be_mailed(user: User) -> bool:
    """Whether ``user``'s address reaches a person: bots have none, and an anonymized account's reaches nobody."""
    return not user.is_bot and bool(user.email) and not user.email.endswith("@" + ANONYMIZED_EMAIL_DOMAIN)


def change_username(actor: User | None, username: str, new_username: str) -> User:
    """Discourse's PUT /u/{username}/preferences/username. The old name is free at once for anyone to take; the
    @mentions of it are rewritten, so they keep naming this member (see mentions.rename)."""
    user = get_listed_user(actor, username)
    guardian.ensure_can_change_username(actor, user, _settled(user))
    if error := username_error(new_username, renaming=user):
        raise ValidationFailed(error)
    if new_username.lower() in RESERVED_USERNAMES and not actor.is_staff:
        raise ValidationFailed(f"Username {new_username!r} is reserved.")
    if new_username == user.username:
        return user
    with refusing_duplicates("That username"), write_unit(db.session):
        user = _get_for_update(user.id)
        before = {"username": user.username}
        renamed = _rename(user, new_username)
        db.session.flush()
        audit.record(actor, "user.change_username", user, before=before, after={"username": new_username},
                     context={"posts_whose_mentions_were_renamed": renamed})
    return user


def _settled(user: User) -> bool:
    """Whether others know ``user`` by their name: the account is past USERNAME_CHANGE_PERIOD_DAYS and has posts."""
    return user.created_at < utcnow() - timedelta(days=current_app.config["USERNAME_CHANGE_PERIOD_DAYS"]) and _has_posts(user)


def _has_posts(user: User) -> bool:
    """Whether ``user`` wrote a post, even one deleted since."""
    return db.session.scalar(select(Post.id).where(Post.user_id == user.id).limit(1)) is not None


def _rename(user: User, new_username: str) -> int:
    """Give ``user`` a new name, and the places others wrote the old one too (@mentions, notifications); returns how
    many posts changed. Call inside the caller's write unit."""
    old = user.username
    notifications.rename_member(old, new_username)
    user.username = new_username
    events.publish_site_changed()  # every cached page that shows the old name
    return mentions.rename(old, new_username)


def _unused_anonymous_username() -> str:
    while True:
        username = f"anon{secrets.token_hex(4)}"
        if find_by_username(username) is None:
            return username


@dataclass(frozen=True)
class Penalty:
    """A restriction staff put on a user until a date, for a reason: its name in the audit log and its three columns."""

    action: str  # "suspend": audited as user.suspend and user.unsuspend
    done: str  # "suspended", in "... is already suspended."
    until_param: str  # the request's parameter for the end
    at: str
    till: str
    reason: str
    in_force: str  # the User property that says whether it lasts (User.is_suspended)
    ensure_can_impose: Callable[[User | None, User], None]
    ensure_can_lift: Callable[[User | None, User], None]

    def is_on(self, user: User) -> bool:
        return getattr(user, self.in_force)


SUSPENSION = Penalty("suspend", "suspended", "suspend_until", "suspended_at", "suspended_till", "suspend_reason",
                     "is_suspended", guardian.ensure_can_suspend, guardian.ensure_can_unsuspend)
SILENCE = Penalty("silence", "silenced", "silenced_till", "silenced_at", "silenced_till", "silence_reason",
                  "is_silenced", guardian.ensure_can_silence, guardian.ensure_can_unsilence)


def suspend(actor: User | None, user_id: int, *, until: str | None, reason: str | None) -> User:
    """Suspend a user until ``until`` (ISO 8601), for ``reason``; their sessions end at once."""
    return _impose(actor, user_id, SUSPENSION, until, reason)


def unsuspend(actor: User | None, user_id: int) -> User:
    """End a suspension early. Unsuspending a user who is not suspended changes nothing."""
    return _lift(actor, user_id, SUSPENSION)


def silence(actor: User | None, user_id: int, *, until: str | None, reason: str | None) -> User:
    """Silence a user until ``until`` (ISO 8601), for ``reason``: they stay signed in and read, but post and edit
    nothing (guardian)."""
    return _impose(actor, user_id, SILENCE, until, reason)


def unsilence(actor: User | None, user_id: int) -> User:
    """End a silence early. Unsilencing a user who is not silenced changes nothing."""
    return _lift(actor, user_id, SILENCE)


def _impose(actor: User | None, user_id: int, penalty: Penalty, until: str | None, reason: str | None) -> User:
    """Imposing it again while it lasts is refused: lift it first (a second moderator does not quietly move the end)."""
    guardian.ensure_staff(actor)
    till, why = _parse_until(until, penalty.until_param), _parse_reason(reason)
    with write_unit(db.session):
        user = _get_for_update(user_id)
        penalty.ensure_can_impose(actor, user)
        if penalty.is_on(user):
            raise ValidationFailed(f"{user.username} is already {penalty.done}.")
        setattr(user, penalty.at, utcnow())
        setattr(user, penalty.till, till)
        setattr(user, penalty.reason, why)
        if penalty is SUSPENSION:
            sessions.end_all_sessions(user)
        audit.record(actor, f"user.{penalty.action}", user, before={penalty.till: None},
                     after={penalty.till: till.isoformat(), penalty.reason: why})
    return user


def _lift(actor: User | None, user_id: int, penalty: Penalty) -> User:
    guardian.ensure_staff(actor)
    with write_unit(db.session):
        user = _get_for_update(user_id)
        penalty.ensure_can_lift(actor, user)
        if penalty.is_on(user):
            before = {penalty.till: getattr(user, penalty.till).isoformat(), penalty.reason: getattr(user, penalty.reason)}
            for column in (penalty.at, penalty.till, penalty.reason):
                setattr(user, column, None)
            audit.record(actor, f"user.un{penalty.action}", user, before=before, after={penalty.till: None})
    return user


# Reading: profiles and the staff's lists. Counts cover only what the viewer may see, so a user's
# page never reveals restricted, unlisted or deleted content.


@dataclass(frozen=True)
class Activity:
    post_count: int
    last_posted_at: datetime | None
    topic_count: int
    topics_entered: int
    msecs_read: int


def counted_posts(viewer: User | None) -> Select:
    """The count of a user's posts ``viewer`` may see, correlated to User."""
    return (
        select(func.count())
        .select_from(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(Post.user_id == User.id, Post.deleted_at.is_(None), Post.post_type == PostType.REGULAR,
               guardian.listed_topics(viewer))
    )


def counted_topics(viewer: User | None) -> Select:
    """The count of the topics a user started that ``viewer`` may see, correlated to User."""
    return select(func.count()).select_from(Topic).where(Topic.user_id == User.id, guardian.listed_topics(viewer))


def counted_opened_topics(viewer: User | None) -> Select:
    """The count of the topics a user has read that ``viewer`` may see, correlated to User."""
    return (
        select(func.count())
        .select_from(TopicUser)
        .join(Topic, Topic.id == TopicUser.topic_id)
        .where(TopicUser.user_id == User.id, reading.opened(), guardian.listed_topics(viewer))
    )


def last_posted_at_column(viewer: User | None) -> ScalarSelect:
    """When a user last wrote a post ``viewer`` may see, correlated to User."""
    return counted_posts(viewer).with_only_columns(func.max(Post.created_at)).scalar_subquery()


def activity_columns(viewer: User | None) -> tuple[ScalarSelect, ...]:
    """Per-user columns, correlated to User, in Activity's field order."""
    opened_topics = counted_opened_topics(viewer)
    return (
        counted_posts(viewer).scalar_subquery(),
        last_posted_at_column(viewer),
        counted_topics(viewer).scalar_subquery(),
        opened_topics.scalar_subquery(),
        opened_topics.with_only_columns(func.coalesce(func.sum(TopicUser.total_msecs_viewed), 0)).scalar_subquery(),
    )


@dataclass(frozen=True)
class PrivateDetails:
    """What only the user and staff see on a profile."""

    sessions: list[UserAuthToken]
    current_session_id: int | None
    groups: list["groups.ShownGroup"]  # the user's groups, as the viewer sees them (their sizes among them)


@dataclass(frozen=True)
class ProfilePermissions:
    """What the viewer may change of the user (Discourse's can_edit_* flags), by the rules that decide it."""

    can_edit: bool
    can_edit_username: bool
    can_edit_email: bool
    can_send_private_messages: bool
    can_send_private_message_to_user: bool


@dataclass(frozen=True)
class Profile:
    user: User
    activity: Activity
    private: PrivateDetails | None
    permissions: ProfilePermissions


def can_see_private(viewer: User | None, user: User) -> bool:
    """Sessions and group memberships: for the user themself and for staff (email addresses: ``emails``)."""
    return viewer is not None and (viewer.id == user.id or viewer.is_staff)


def get_listed_user(viewer: User | None, username: str) -> User:
    """The user named ``username``, as ``viewer`` may look them up (may_look_up)."""
    user = get_by_username(username)
    if not may_look_up(viewer, user):
        raise NotFound(f"There is no user named {username!r}.")
    return user


def may_look_up(viewer: User | None, user: User) -> bool:
    """An account waiting for activation (or deactivated) is staff's to see only, as in Discourse (its name is not yet,
    or no longer, the forum's to show)."""
    return user.active or (viewer is not None and viewer.is_staff)


def profile(viewer: User | None, username: str, *, session_token: str | None = None) -> Profile:
    """``username``'s page as ``viewer`` sees it (get_listed_user); ``session_token`` marks the viewer's own session."""
    user = get_listed_user(viewer, username)
    counts = db.session.execute(select(*activity_columns(viewer)).where(User.id == user.id)).one()
    can_send_private_messages = guardian.allows(guardian.ensure_can_create_topic, viewer)
    permissions = ProfilePermissions(
        can_edit=guardian.allows(guardian.ensure_can_edit_user, viewer, user),
        can_edit_username=guardian.allows(guardian.ensure_can_change_username, viewer, user, _settled(user)),
        can_edit_email=guardian.allows(guardian.ensure_can_change_email, viewer, user),
        can_send_private_messages=can_send_private_messages,
        can_send_private_message_to_user=can_send_private_messages and guardian.allows(guardian.ensure_can_be_written_to, viewer, user),
    )
    return Profile(
        user, Activity(*counts), _private_details(viewer, user, session_token) if can_see_private(viewer, user) else None,
        permissions,
    )


def _private_details(viewer: User, user: User, session_token: str | None) -> PrivateDetails:
    current = sessions.find_live(session_token) if session_token else None
    return PrivateDetails(
        sessions=sessions.live_sessions(user),
        current_session_id=current.id if current is not None and current.user_id == user.id else None,
        groups=groups.as_seen_by(viewer, groups.memberships(user)),
    )


@dataclass(frozen=True)
class AdminDetail:
    """An account as staff review it (Discourse's GET /admin/users/{id}.json)."""

    user: User
    activity: Activity
    likes_given: int
    likes_received: int
    flags_given: int
    flags_received: int
    api_keys: int
    groups: list["groups.ShownGroup"]
    suspended_by: User | None  # who suspended or silenced it, while it is
    silenced_by: User | None
    can_activate: bool
    can_deactivate: bool
    can_be_anonymized: bool


def admin_detail(actor: User | None, user_id: int) -> AdminDetail:
    guardian.ensure_staff(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("That user does not exist.")
    # On posts the viewing staff member may read: a moderator counts nothing in messages they may not open.
    on_readable_posts = (select(func.count()).select_from(PostAction).join(Post, Post.id == PostAction.post_id)
                         .join(Topic, Topic.id == Post.topic_id).where(guardian.readable_topics(actor)))
    given = on_readable_posts.where(PostAction.user_id == user.id)
    received = on_readable_posts.where(Post.user_id == user.id, PostAction.user_id != user.id)
    counts = db.session.execute(select(
        *activity_columns(actor),
        given.where(PostAction.post_action_type_id == PostActionType.LIKE).scalar_subquery(),
        received.where(PostAction.post_action_type_id == PostActionType.LIKE).scalar_subquery(),
        given.where(PostAction.post_action_type_id.in_(FLAG_TYPES)).scalar_subquery(),
        received.where(PostAction.post_action_type_id.in_(FLAG_TYPES)).scalar_subquery(),
        select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)).scalar_subquery(),
    ).where(User.id == user.id)).one()
    return AdminDetail(
        user, Activity(*counts[:5]), *counts[5:],
        groups=groups.as_seen_by(actor, groups.memberships(user)),
        suspended_by=_restricted_by(user, "user.suspend") if user.is_suspended else None,
        silenced_by=_restricted_by(user, "user.silence") if user.is_silenced else None,
        can_activate=not user.active,
        can_deactivate=user.deactivated_at is None and guardian.allows(guardian.ensure_can_deactivate, actor, user),
        can_be_anonymized=guardian.allows(guardian.ensure_can_anonymize, actor, user),
    )


def _restricted_by(user: User, action: str) -> User | None:
    """Who last did ``action`` (a suspension, a silence) to ``user``, as the audit log says."""
    return db.session.scalar(
        select(User).join(AuditLogEntry, AuditLogEntry.actor_id == User.id)
        .where(AuditLogEntry.action == action, AuditLogEntry.subject_type == "user", AuditLogEntry.subject_id == user.id)
        .order_by(AuditLogEntry.id.desc()).limit(1))


def emails(viewer: User | None, username: str) -> User:
    """Whose email address ``viewer`` asks for; reading someone else's leaves an audit record."""
    guardian.ensure_can_act(viewer)
    user = get_by_username(username)
    guardian.ensure_can_check_email(viewer, user)
    if viewer.id != user.id:
        with write_unit(db.session):
            audit.record(viewer, "user.check_email", user)
    return user


LIST_PAGE_SIZE = 100
# Discourse's list flags (plus "all", which Discourse clients also use): "blocked" lists the silenced, Discourse's old
# name for them. Spam heuristics ("suspect") are not a feature of this forum: that list is empty.
LIST_FLAGS = ("active", "new", "staff", "suspended", "blocked", "suspect", "all")
LIST_ORDERS = (
    "created",
    "last_emailed",
    "seen",
    "username",
    "email",
    "trust_level",
    "days_visited",
    "posts_read",
    "topics_viewed",
    "posts",
    "read_time",
)


@dataclass(frozen=True)
class ListedUser:
    user: User
    activity: Activity


@dataclass(frozen=True)
class UserList:
    users: list[ListedUser]
    with_emails: bool  # asked for (show_emails) and allowed (guardian.can_see_emails)


def _flag_condition(flag: str) -> ColumnElement[bool]:
    return {
        "active": User.is_active,
        "new": User.active == false(),  # waiting for their activation (by mail or by staff), or deactivated
        "staff": User.is_staff,
        "suspended": User.is_suspended,
        "blocked": User.is_silenced,
        "suspect": false(),
        "all": true(),
    }[flag]


def list_users(
    actor: User | None,
    flag: str,
    *,
    order: str | None = None,
    ascending: bool = False,
    page: int = 1,
    email: str | None = None,
    ip: str | None = None,
    filter_text: str | None = None,
    show_emails: bool = False,
) -> UserList:
    """A page of Discourse's admin user list, staff only. Email addresses are shown only to those who may see
    them (a moderator asking gets the list without), and showing them is audited."""
    guardian.ensure_staff(actor)
    if flag not in LIST_FLAGS:
        raise InvalidParameters(f"flag must be one of {', '.join(LIST_FLAGS)}.")
    if order is not None and order not in LIST_ORDERS:
        raise InvalidParameters(f"order must be one of {', '.join(LIST_ORDERS)}.")
    may_see_emails = guardian.can_see_emails(actor)
    if (email or order == "email") and not may_see_emails:
        # Looking an address up, or ordering by addresses, would tell what the addresses are.
        raise NotAllowed("Only those who may read email addresses can look users up or order them by email.")
    with_emails = show_emails and may_see_emails
    if with_emails:
        with write_unit(db.session):
            context = {"flag": flag, "page": page, "email": email, "ip": ip, "filter": filter_text}
            audit.record(actor, "user.show_emails", actor, context=context)
    activity = activity_columns(actor)
    query = select(User, *activity).where(_flag_condition(flag))
    if email:
        query = query.where(User.email == email.lower())
    if ip:
        query = query.where(User.id.in_(select(UserAuthToken.user_id).where(UserAuthToken.client_ip == ip)))
    if term := (filter_text or "").strip().lower():
        query = query.where(_filter_condition(term, by_email=may_see_emails))
    query = query.order_by(*_list_order(flag, order, ascending, activity)).limit(LIST_PAGE_SIZE)
    query = query.offset((max(page, 1) - 1) * LIST_PAGE_SIZE)
    listed = [ListedUser(user, Activity(*counts)) for user, *counts in db.session.execute(query)]
    return UserList(listed, with_emails)


def _filter_condition(term: str, *, by_email: bool) -> ColumnElement[bool]:
    """Discourse's filter_by_username_or_email: ``term`` (lowercase) anywhere in the username, or in the email
    address when the viewer may see addresses (else the filter would reveal them a letter at a time). Both
    columns are stored lowercase; '%' and '_' match only themselves."""
    condition = User.username_lower.contains(term, autoescape=True)
    if by_email:
        condition = condition | User.email.contains(term, autoescape=True)
    return condition


def _list_order(flag: str, order: str | None, ascending: bool, activity: tuple[ScalarSelect, ...]) -> list:
    """Discourse's ordering: the ``order`` column (descending unless ``ascending``), else the most
    recently seen first on the active list and the newest first on the others; ties by username."""
    post_count, _, _, topics_entered, msecs_read = activity
    columns = {
        "created": User.created_at,
        "seen": User.last_seen_at,
        "username": User.username_lower,
        "email": User.email,
        "trust_level": User.is_staff,  # trust level follows the role
        "posts": post_count,
        "topics_viewed": topics_entered,
        "read_time": msecs_read,
    }  # last_emailed, days_visited and posts_read are not tracked: every user ties on them
    if order is None:
        order, ascending = ("seen" if flag == "active" else "created"), False
    column = columns.get(order)
    # As Discourse, a missing value counts as the lowest.
    ordering = [] if column is None else [column.asc().nulls_first() if ascending else column.desc().nulls_last()]
    return [*ordering, User.username_lower]
