"""Accounts, passwords and API keys."""
import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from forum.database import write_unit
from forum.extensions import db
from forum.models import ApiKey, Role, User
from forum.models.base import utcnow
from forum.services import audit
from forum.services.errors import NotFound, ValidationFailed

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{1,18}[A-Za-z0-9_]$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_password_hasher = PasswordHasher()


def find_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username_lower == username.lower()))


def get_by_username(username: str) -> User:
    user = find_by_username(username)
    if user is None:
        raise NotFound(f"There is no user named {username!r}.")
    return user


def create_user(
    username: str,
    *,
    email: str | None,
    password: str | None,
    name: str | None = None,
    role: str = Role.MEMBER,
    is_bot: bool = False,
    created_by: User | None = None,
) -> User:
    errors = _validate_new_user(username, email, password, role, is_bot)
    if errors:
        raise ValidationFailed(*errors)
    with write_unit(db.session):
        user = User(
            username=username,
            email=email.lower() if email else None,
            name=name,
            role=role,
            is_bot=is_bot,
            password_hash=_password_hasher.hash(password) if password else None,
        )
        db.session.add(user)
        db.session.flush()
        audit.record(created_by, "user.create", user, after={"username": username, "role": role})
    return user


def _validate_new_user(username, email, password, role, is_bot) -> list[str]:
    errors = []
    if not USERNAME_PATTERN.match(username or ""):
        errors.append(
            "Username must be 3 to 20 characters of letters, digits, '_', '.' or '-', "
            "starting and ending with a letter, digit or '_'."
        )
    elif find_by_username(username):
        errors.append(f"Username {username!r} is already taken.")
    if email is None and not is_bot:
        errors.append("Email is required.")
    elif email is not None:
        if not EMAIL_PATTERN.match(email):
            errors.append(f"{email!r} is not a valid email address.")
        elif db.session.scalar(select(func.count()).where(User.email == email.lower())):
            errors.append("That email address is already in use.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors.append(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    if role not in tuple(Role):
        errors.append(f"Role must be one of {', '.join(Role)}.")
    return errors


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        _password_hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _password_hasher.check_needs_rehash(user.password_hash):
        with write_unit(db.session):
            user.password_hash = _password_hasher.hash(password)
    return True


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(user: User | None, *, created_by: User | None, description: str | None = None) -> tuple[ApiKey, str]:
    """A new key for ``user``, or for acting as any user when ``user`` is None. The plain key is
    returned once and never stored."""
    if user is None and created_by is not None and not created_by.is_admin:
        raise ValidationFailed("Only admins can create keys that act for all users.")
    plain = secrets.token_hex(32)
    with write_unit(db.session):
        api_key = ApiKey(
            key_hash=_digest(plain),
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


def find_api_key(plain: str) -> ApiKey | None:
    """The live key matching ``plain``, or None for an unknown or revoked one."""
    api_key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(plain)))
    if api_key is None or api_key.is_revoked:
        return None
    return api_key
