"""Groups of users: their members are who may see a read-restricted category.

As in Discourse, admins create, change and delete groups and manage their members; names are unique whatever their
case. A group's name is public (GET /site.json lists it); who is in it is not: only staff and the group's own members
see its members (Discourse's members_visibility_level "members"), since membership can tell who works on what.
Every change is audited and announced, as who may read a category depends on it.
"""
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, true

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import Category, Group, User, category_groups, group_users
from forum.services import audit, events, guardian, users
from forum.services.errors import InvalidParameters, NotAllowed, NotFound, ValidationFailed, refusing_duplicates

# Discourse's group name rule: 3 to 20 letters, digits, '_', '.' or '-', starting and ending with a letter,
# digit or '_'.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{1,18}[A-Za-z0-9_]$")
# Discourse's automatic groups: their names mean roles, never a group of ours.
RESERVED_NAMES = frozenset(
    {"everyone", "staff", "admins", "moderators", *(f"trust_level_{level}" for level in range(5))}
)
MAX_FULL_NAME_LENGTH = 100
GROUPS_PAGE_SIZE = 36  # Discourse's page of GET /groups.json
MEMBERS_PAGE_SIZE, MAX_MEMBERS_PAGE_SIZE = 50, 1000  # Discourse's default and largest limit of a members page
# Discourse's type filters of GET /groups.json that can select something here: every group is "close" (admins decide
# who is in it), and "my" is the signed-in viewer's own. No group has owners, public admission or automatic members.
MY, CLOSE = "my", "close"


def find_by_name(name: str) -> Group | None:
    return db.session.scalar(select(Group).where(func.lower(Group.name) == name.lower()))


def find_by_names(names: Iterable[str]) -> dict[str, Group]:
    """The groups named in ``names``, keyed by lowercased name (names match whatever their case)."""
    lowered = {name.lower() for name in names}
    if not lowered:
        return {}
    found = db.session.scalars(select(Group).where(func.lower(Group.name).in_(lowered)))
    return {group.name.lower(): group for group in found}


def group_names() -> list[str]:
    return list(db.session.scalars(select(Group.name).order_by(Group.name)))


def all_groups() -> list[Group]:
    return list(db.session.scalars(select(Group).order_by(Group.name)))


def get_group(group_id: int, *, lock: dict | bool | None = None) -> Group:
    """The group; with ``lock``, its row locked until the write unit ends: changes to one group's members queue behind
    each other (two adding the same user cannot both insert them) and behind its deletion (``lock=True``, which takes
    the key)."""
    group = db.session.get(Group, group_id, with_for_update=lock, populate_existing=lock is not None)
    if group is None:
        raise NotFound(f"There is no group with id {group_id}.")
    return group


def get_group_named(name: str) -> Group:
    group = find_by_name(name)
    if group is None:
        raise NotFound(f"There is no group named {name!r}.")
    return group


def staff_members() -> tuple[list[User], list[User]]:
    """Discourse's automatic admins and moderators groups: the people (not bots) in each, most recently seen
    first."""
    staff = db.session.scalars(
        select(User)
        .where(User.is_staff, User.is_bot.is_(False))
        .order_by(User.last_seen_at.desc().nulls_last(), User.id)
    ).all()
    return [user for user in staff if user.is_admin], [user for user in staff if not user.is_admin]


def create_group(
    actor: User, name: str, *, full_name: str | None = None, members: Iterable[User] = (), bio: str | None = None
) -> Group:
    """A new group with ``members`` in it, or nothing at all. ``bio`` is Discourse's bio_raw, which this forum does
    not keep: one that is not empty is refused rather than dropped."""
    guardian.ensure_admin(actor)
    name = (name or "").strip()
    with refusing_duplicates("That group name"), write_unit(db.session):
        events.publish_site_changed()
        errors = _name_errors(name)
        full_name = _checked_full_name(full_name, errors)
        _check_no_bio(bio, errors)
        if errors:
            raise ValidationFailed(*errors)
        group = Group(name=name, full_name=full_name)
        db.session.add(group)
        db.session.flush()
        audit.record(actor, "group.create", group, after={"name": name, "full_name": full_name})
        if members := list(members):
            add_members(actor, group, members)
    return group


def update_group(
    actor: User | None, group_id: int, *, name: str | None = None, full_name: str | None = None, bio: str | None = None
) -> Group:
    """Rename the group or set its full name (empty clears it); what is None stays. ``bio`` as in ``create_group``."""
    guardian.ensure_admin(actor)
    with refusing_duplicates("That group name"), write_unit(db.session):
        group = get_group(group_id, lock=ROW_LOCK)
        events.publish_site_changed()
        before = {"name": group.name, "full_name": group.full_name}
        errors: list[str] = []
        if name is not None and name.strip() != group.name:
            name = name.strip()
            errors += _name_errors(name, current=group)
            group.name = name
        if full_name is not None:
            group.full_name = _checked_full_name(full_name, errors)
        _check_no_bio(bio, errors)
        if errors:
            raise ValidationFailed(*errors)
        after = {"name": group.name, "full_name": group.full_name}
        if after != before:
            audit.record(actor, "group.update", group, before=before, after=after)
    return group


def delete_group(actor: User | None, group_id: int) -> None:
    """Delete the group; its members lose nothing but their membership (posts and topics are theirs, not the group's),
    and the audit log keeps who they were.

    A group that still grants access to a category is refused, naming the categories, rather than taken off them:
    taken off, a category restricted to it alone would silently become staff-only, and its readers would lose what
    they and others wrote there. Who may read a category is decided on the category, where it is audited, on purpose.
    """
    guardian.ensure_admin(actor)
    with write_unit(db.session):
        group = get_group(group_id, lock=True)  # a category naming it meanwhile waits, then is refused: it is gone
        granting = db.session.scalars(
            select(Category.name)
            .join(category_groups, category_groups.c.category_id == Category.id)
            .where(category_groups.c.group_id == group.id)
            .order_by(Category.name)
        ).all()
        if granting:
            raise ValidationFailed(
                f"Group {group.name!r} still grants access to {', '.join(map(repr, granting))}: change who may read "
                f"{'that category' if len(granting) == 1 else 'those categories'} first."
            )
        events.publish_site_changed()
        member_ids = sorted(db.session.scalars(select(group_users.c.user_id).where(group_users.c.group_id == group.id)))
        before = {"name": group.name, "full_name": group.full_name, "user_ids": member_ids}
        audit.record(actor, "group.delete", group, before=before)
        db.session.execute(delete(group_users).where(group_users.c.group_id == group.id))
        db.session.execute(delete(Group).where(Group.id == group.id))


def _checked_full_name(full_name: str | None, errors: list[str]) -> str | None:
    full_name = (full_name or "").strip() or None
    if full_name is not None and len(full_name) > MAX_FULL_NAME_LENGTH:
        errors.append(f"Full name is too long (maximum is {MAX_FULL_NAME_LENGTH} characters).")
    return full_name


def _check_no_bio(bio: str | None, errors: list[str]) -> None:
    if bio and bio.strip():
        errors.append("This forum keeps no group bios: send the group without bio_raw.")


def _name_errors(name: str, *, current: Group | None = None) -> list[str]:
    """What is wrong with ``name`` for a new group, or for ``current`` renamed (its own name in any case is free)."""
    if not NAME_PATTERN.match(name):
        return [
            "Group name must be 3 to 20 characters of letters, digits, '_', '.' or '-', "
            "starting and ending with a letter, digit or '_'."
        ]
    if name.lower() in RESERVED_NAMES:
        return [f"Group name {name!r} is reserved."]
    # As Discourse's name_format_validator: a user's name is taken too, or an @-mention would not say which it meant.
    if users.find_by_username(name) is not None or find_by_name(name) not in (None, current):
        return [f"Group name {name!r} has already been taken."]
    return []


def find_users(actor: User | None, *, usernames: Iterable[str] = (), user_ids: Iterable[int] = ()) -> list[User]:
    """The users a membership change names (usernames in any case), each once, in the order given. Admins only, as
    the change. An unknown one is refused (400) with every unknown name, before anything changes."""
    guardian.ensure_admin(actor)
    names: dict[str, str] = {}  # lowercased: as first given
    for name in usernames:
        names.setdefault(name.lower(), name)
    ids = list(dict.fromkeys(user_ids))
    if not names and not ids:
        return []
    found = db.session.scalars(select(User).where(User.username_lower.in_(names) | User.id.in_(ids))).all()
    by_name, by_id = {user.username_lower: user for user in found}, {user.id: user for user in found}
    unknown = [given for name, given in names.items() if name not in by_name]
    unknown += [f"id {user_id}" for user_id in ids if user_id not in by_id]
    if unknown:
        raise InvalidParameters(f"These users do not exist: {', '.join(unknown)}.")
    return list(dict.fromkeys([*(by_name[name] for name in names), *(by_id[user_id] for user_id in ids)]))


def add_members(actor: User, group: Group, members: Iterable[User]) -> None:
    """Add ``members`` to ``group``; those already in it stay as they are."""
    guardian.ensure_admin(actor)
    wanted = {user.id for user in members}
    with write_unit(db.session):
        get_group(group.id, lock=ROW_LOCK)
        events.publish_site_changed()
        added = sorted(wanted - _members_among(group, wanted))
        if added:
            db.session.execute(group_users.insert(), [{"group_id": group.id, "user_id": user_id} for user_id in added])
            audit.record(actor, "group.add_members", group, after={"user_ids": added})
    db.session.expire(group, ["users"])


def remove_members(actor: User | None, group: Group, members: Iterable[User]) -> tuple[list[User], list[User]]:
    """Take ``members`` out of ``group``: (those taken out, those skipped as not in it)."""
    guardian.ensure_admin(actor)
    members = list(members)
    with write_unit(db.session):
        get_group(group.id, lock=ROW_LOCK)
        events.publish_site_changed()
        present = _members_among(group, {user.id for user in members})
        if present:
            db.session.execute(
                delete(group_users).where(group_users.c.group_id == group.id, group_users.c.user_id.in_(present))
            )
            audit.record(actor, "group.remove_members", group, before={"user_ids": sorted(present)})
    db.session.expire(group, ["users"])
    return [user for user in members if user.id in present], [user for user in members if user.id not in present]


def _members_among(group: Group, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(group_users.c.user_id).where(group_users.c.group_id == group.id, group_users.c.user_id.in_(user_ids))
        )
    )


# Reading. Groups are public; their members and their sizes (a size says something of who is in it) only to those
# who guardian.can_see_group_members.


def ensure_can_see_members(viewer: User | None, group: Group) -> None:
    is_member = viewer is not None and bool(_members_among(group, {viewer.id}))
    if not guardian.can_see_group_members(viewer, is_member):
        # 403, not 404: the group itself is public.
        raise NotAllowed("Only staff and the group's own members can see who is in it.")


def _listed_members(viewer: User | None) -> ColumnElement[bool]:
    """The members ``viewer`` is shown: an account waiting for activation only to staff, as its profile
    (users.get_listed_user)."""
    return true() if viewer is not None and viewer.is_staff else User.active == true()


@dataclass(frozen=True)
class ShownGroup:
    """A group as a viewer sees it."""

    group: Group
    is_member: bool  # the viewer is in it
    can_see_members: bool
    user_count: int | None  # None unless can_see_members
    can_manage: bool  # admins: change it and who is in it


def as_seen_by(viewer: User | None, found: list[Group]) -> list[ShownGroup]:
    """``found`` as ``viewer`` sees them, in the same two queries whatever their number."""
    mine = _groups_of(viewer)
    visible = {group.id for group in found if guardian.can_see_group_members(viewer, group.id in mine)}
    sizes = db.session.execute(
        select(group_users.c.group_id, func.count())
        .join(User, User.id == group_users.c.user_id)
        .where(group_users.c.group_id.in_(visible), _listed_members(viewer))
        .group_by(group_users.c.group_id)
    )
    counts = {group_id: 0 for group_id in visible} | dict(sizes.all())
    can_manage = guardian.allows(guardian.ensure_admin, viewer)
    return [
        ShownGroup(group, group.id in mine, group.id in visible, counts.get(group.id), can_manage) for group in found
    ]


def memberships(user: User) -> list[Group]:
    """The groups ``user`` is in, by name."""
    return list(db.session.scalars(
        select(Group).join(group_users, group_users.c.group_id == Group.id).where(group_users.c.user_id == user.id).order_by(Group.name)))


def _groups_of(user: User | None) -> set[int]:
    if user is None:
        return set()
    return set(db.session.scalars(select(group_users.c.group_id).where(group_users.c.user_id == user.id)))


@dataclass(frozen=True)
class GroupPage:
    groups: list[ShownGroup]
    total: int
    page: int
    type_filter: str | None
    type_filters: list[str]  # those the viewer may ask for


def list_groups(viewer: User | None, *, page: int = 0, type_filter: str | None = None) -> GroupPage:
    """A page of GROUPS_PAGE_SIZE groups by name, all or (``type_filter``) some of them."""
    type_filters = [MY, CLOSE] if viewer is not None else [CLOSE]
    if type_filter is not None and type_filter not in type_filters:
        raise InvalidParameters(f"type must be one of {', '.join(type_filters)}.")
    if page < 0:
        raise InvalidParameters("page must be at least 0.")
    query = select(Group)
    if type_filter == MY:
        query = query.where(Group.id.in_(select(group_users.c.group_id).where(group_users.c.user_id == viewer.id)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    found = db.session.scalars(query.order_by(Group.name).offset(page * GROUPS_PAGE_SIZE).limit(GROUPS_PAGE_SIZE))
    return GroupPage(as_seen_by(viewer, list(found)), total, page, type_filter, type_filters)


@dataclass(frozen=True)
class Member:
    user: User
    last_posted_at: datetime | None  # of the posts the viewer may see


@dataclass(frozen=True)
class MemberPage:
    members: list[Member]
    total: int
    limit: int
    offset: int


def member_page(viewer: User | None, group: Group, *, offset: int = 0, limit: int = MEMBERS_PAGE_SIZE) -> MemberPage:
    """Who is in ``group``, by username, for those who may see it."""
    ensure_can_see_members(viewer, group)
    if not 0 <= limit <= MAX_MEMBERS_PAGE_SIZE:
        raise InvalidParameters(f"limit must be between 0 and {MAX_MEMBERS_PAGE_SIZE}.")
    if offset < 0:
        raise InvalidParameters("offset must be at least 0.")
    in_group = (
        select(User)
        .join(group_users, group_users.c.user_id == User.id)
        .where(group_users.c.group_id == group.id, _listed_members(viewer))
    )
    total = db.session.scalar(select(func.count()).select_from(in_group.subquery()))
    # The last post the viewer may see, by the very rule of a user's page.
    last_posted_at = users.last_posted_at_column(viewer)
    page = db.session.execute(
        in_group.add_columns(last_posted_at).order_by(User.username_lower).offset(offset).limit(limit)
    ).all()
    return MemberPage([Member(user, posted_at) for user, posted_at in page], total, limit, offset)
