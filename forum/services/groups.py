"""Groups of users: their members are who may see a read-restricted category.

As in Discourse, admins create groups and manage their members; names are unique whatever their case.
"""
import re
from collections.abc import Iterable

from sqlalchemy import func, select

from forum.database import write_unit
from forum.extensions import db
from forum.models import Group, Role, User, group_users
from forum.services import audit, events, guardian
from forum.services.errors import ValidationFailed

# Discourse's group name rule: 3 to 20 letters, digits, '_', '.' or '-', starting and ending with a letter,
# digit or '_'.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{1,18}[A-Za-z0-9_]$")
# Discourse's automatic groups: their names mean roles, never a group of ours.
RESERVED_NAMES = frozenset(
    {"everyone", "staff", "admins", "moderators", *(f"trust_level_{level}" for level in range(5))}
)
MAX_FULL_NAME_LENGTH = 100


def find_by_name(name: str) -> Group | None:
    return db.session.scalar(select(Group).where(func.lower(Group.name) == name.lower()))


def find_by_names(names: Iterable[str]) -> dict[str, Group]:
    """The groups named in ``names``, keyed by lowercased name (names match whatever their case)."""
    lowered = {name.lower() for name in names}
    if not lowered:
        return {}
    found = db.session.scalars(select(Group).where(func.lower(Group.name).in_(lowered)))
    return {group.name.lower(): group for group in found}


def all_groups() -> list[Group]:
    return list(db.session.scalars(select(Group).order_by(Group.name)))


def staff_members() -> tuple[list[User], list[User]]:
    """Discourse's automatic admins and moderators groups: the people (not bots) in each, most recently seen
    first."""
    staff = db.session.scalars(
        select(User)
        .where(User.role.in_((Role.ADMIN, Role.MODERATOR)), User.is_bot.is_(False))
        .order_by(User.last_seen_at.desc().nulls_last(), User.id)
    ).all()
    return [user for user in staff if user.is_admin], [user for user in staff if not user.is_admin]


def create_group(actor: User, name: str, *, full_name: str | None = None) -> Group:
    guardian.ensure_admin(actor)
    name = (name or "").strip()
    full_name = (full_name or "").strip() or None
    with write_unit(db.session):
        events.publish_site_changed()
        errors = _name_errors(name)
        if full_name is not None and len(full_name) > MAX_FULL_NAME_LENGTH:
            errors.append(f"Full name is too long (maximum is {MAX_FULL_NAME_LENGTH} characters).")
        if errors:
            raise ValidationFailed(*errors)
        group = Group(name=name, full_name=full_name)
        db.session.add(group)
        db.session.flush()
        audit.record(actor, "group.create", group, after={"name": name, "full_name": full_name})
    return group


def _name_errors(name: str) -> list[str]:
    if not NAME_PATTERN.match(name):
        return [
            "Group name must be 3 to 20 characters of letters, digits, '_', '.' or '-', "
            "starting and ending with a letter, digit or '_'."
        ]
    if name.lower() in RESERVED_NAMES:
        return [f"Group name {name!r} is reserved."]
    # As Discourse's name_format_validator: a user's name is taken too, or an @-mention would not say which it meant.
    username_exists = db.session.scalar(select(User.id).where(User.username_lower == name.lower())) is not None
    if username_exists or find_by_name(name) is not None:
        return [f"Group name {name!r} has already been taken."]
    return []


def add_members(actor: User, group: Group, members: Iterable[User]) -> None:
    """Add ``members`` to ``group``; those already in it stay as they are."""
    guardian.ensure_admin(actor)
    wanted = {user.id for user in members}
    with write_unit(db.session):
        events.publish_site_changed()
        added = sorted(wanted - _members_among(group, wanted))
        if added:
            db.session.execute(group_users.insert(), [{"group_id": group.id, "user_id": user_id} for user_id in added])
            audit.record(actor, "group.add_members", group, after={"user_ids": added})
    db.session.expire(group, ["users"])


def _members_among(group: Group, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(group_users.c.user_id).where(group_users.c.group_id == group.id, group_users.c.user_id.in_(user_ids))
        )
    )
