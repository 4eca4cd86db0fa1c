"""Categories: creating and changing them (admins, as in Discourse), who may see them, and what they hold;
and the site-wide figures counted by the same rules.

Counts follow the caller's permissions: a topic counts only for those who may see it in lists, so
restricted content never shows through a number.
"""
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, insert, select

from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import Category, Group, Post, PostAction, PostActionType, Topic, User, category_groups
from forum.models.base import utcnow
from forum.services import audit, events, groups, guardian, posts
from forum.services.errors import NotFound, ValidationFailed, refusing_duplicates
from forum.services.slugs import slugify

MAX_NAME_LENGTH = 50  # Discourse's limit, and the column's
HEX_COLOR = re.compile(r"^(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
# Discourse's slug for a category whose name has no ASCII letters: its id, then "-category".
ID_SLUG = re.compile(r"[0-9]+-category")
MAX_AUTO_CLOSE_HOURS = 87_600  # ten years; keeps timers computed from it within datetime's range
DEFAULT_COLOR = "0088CC"
DEFAULT_TEXT_COLOR = "FFFFFF"

# Discourse's category permission types. This forum restricts who may see a category, not who may post in
# it, so a group given access gets full access; read-only and reply-only grants are refused, not widened.
PERMISSION_FULL = 1
PERMISSION_TYPES = {1: "full", 2: "create_post", 3: "readonly"}
EVERYONE = "everyone"
STAFF = "staff"  # staff see every category here, so "staff only" is a restricted category with no groups

EDITABLE = (
    "name",
    "slug",
    "color",
    "text_color",
    "description",
    "parent_category_id",
    "auto_close_hours",
    "auto_close_based_on_last_post",
)


# Reading.


def counted_topics(user: User | None) -> ColumnElement[bool]:
    """A condition on Topic: the topics that count for ``user`` (listed to them and not deleted)."""
    return guardian.listed_topics(user)


def counted_posts(user: User | None) -> ColumnElement[bool]:
    """A condition on Post joined to its Topic: the posts that count for ``user``: what people wrote, not
    the "closed this topic" notes or staff whispers."""
    return counted_topics(user) & Post.deleted_at.is_(None) & Post.post_type.in_(posts.REPLY_TYPES)


def visible_categories(user: User | None) -> list[Category]:
    """The categories ``user`` may see, in Discourse's order (position, then id)."""
    query = select(Category).where(guardian.readable_categories(user)).order_by(Category.position, Category.id)
    return list(db.session.scalars(query))


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound("That category does not exist.")
    return category


def get_visible_category(user: User | None, category_id: int) -> Category:
    """The category, or NotFound when it does not exist or ``user`` may not see it (the same answer)."""
    category = get_category(category_id)
    guardian.ensure_can_see_category(user, category)
    return category


@dataclass(frozen=True)
class CategoryCounts:
    """What a category holds, as far as the caller may see (Discourse's topic_count, post_count, topics_*)."""

    topic_count: int = 0
    post_count: int = 0
    topics_day: int = 0
    topics_week: int = 0
    topics_month: int = 0
    topics_year: int = 0


_PERIODS = {"topics_day": 1, "topics_week": 7, "topics_month": 30, "topics_year": 365}


def category_counts(user: User | None, category_ids: Iterable[int]) -> dict[int, CategoryCounts]:
    """Counts for each category in two grouped queries, however many categories there are."""
    ids = list(set(category_ids))
    if not ids:
        return {}
    now = utcnow()
    topic_rows = db.session.execute(
        select(
            Topic.category_id,
            func.count(),
            *(func.sum(case((Topic.created_at > now - timedelta(days=days), 1), else_=0)) for days in _PERIODS.values()),
        )
        .where(Topic.category_id.in_(ids), counted_topics(user))
        .group_by(Topic.category_id)
    )
    post_counts = dict(
        db.session.execute(
            select(Topic.category_id, func.count(Post.id))
            .join(Topic, Topic.id == Post.topic_id)
            .where(Topic.category_id.in_(ids), counted_posts(user))
            .group_by(Topic.category_id)
        ).all()
    )
    counts = {category_id: CategoryCounts() for category_id in ids}
    for category_id, topic_count, *periods in topic_rows:
        counts[category_id] = CategoryCounts(
            topic_count=topic_count,
            post_count=post_counts.get(category_id, 0),
            **{name: int(value or 0) for name, value in zip(_PERIODS, periods)},
        )
    return counts


def visible_child_ids(user: User | None, category: Category) -> list[int]:
    query = (
        select(Category.id)
        .where(Category.parent_category_id == category.id, guardian.readable_categories(user))
        .order_by(Category.position, Category.id)
    )
    return list(db.session.scalars(query))


def children_by_parent(categories: Iterable[Category]) -> dict[int, list[Category]]:
    """Each category's children among ``categories`` (those the caller may see), in their order."""
    children: dict[int, list[Category]] = {}
    for category in categories:
        if category.parent_category_id is not None:
            children.setdefault(category.parent_category_id, []).append(category)
    return children


def permitted_groups(category_ids: Iterable[int]) -> dict[int, list[Group]]:
    """The groups that may see each of these categories, by name, in one query."""
    ids = list(set(category_ids))
    found: dict[int, list[Group]] = {category_id: [] for category_id in ids}
    if not ids:
        return found
    rows = db.session.execute(
        select(category_groups.c.category_id, Group)
        .join(Group, Group.id == category_groups.c.group_id)
        .where(category_groups.c.category_id.in_(ids))
        .order_by(Group.name)
    )
    for category_id, group in rows:
        found[category_id].append(group)
    return found


# Site-wide figures, by the same rules as the category counts.


def site_statistics(user: User | None) -> dict[str, int]:
    """Discourse's About stats (GET /site/statistics.json, GET /about.json), counting only what ``user`` may
    see, in a fixed number of queries."""
    now = utcnow()
    periods = {"last_day": 1, "7_days": 7, "30_days": 30}

    def windowed(created_at) -> list:
        """The total, and how many were created in each period."""
        return [func.count(), *(func.sum(case((created_at > now - timedelta(days=days), 1), else_=0)) for days in periods.values())]

    def named(prefix: str, counts) -> dict[str, int]:
        total, *recent = counts
        return {
            **{f"{prefix}_{name}": int(value or 0) for name, value in zip(periods, recent)},
            f"{prefix}_count": int(total or 0),
        }

    people = User.is_bot.is_(False)
    topic_counts = db.session.execute(select(*windowed(Topic.created_at)).where(counted_topics(user))).one()
    post_counts = db.session.execute(
        select(*windowed(Post.created_at)).join(Topic, Topic.id == Post.topic_id).where(counted_posts(user))
    ).one()
    user_counts = db.session.execute(select(*windowed(User.created_at)).where(people)).one()
    like_counts = db.session.execute(
        select(*windowed(PostAction.created_at))
        .join(Post, Post.id == PostAction.post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(PostAction.post_action_type_id == PostActionType.LIKE, counted_posts(user))
    ).one()
    active = db.session.execute(select(*windowed(User.last_seen_at)[1:]).where(people)).one()
    return {
        **named("topics", topic_counts),
        **named("posts", post_counts),
        **named("users", user_counts),
        **{f"active_users_{name}": int(value or 0) for name, value in zip(periods, active)},
        **named("likes", like_counts),
        **{f"participating_users_{name}": _participants_since(user, now - timedelta(days=days)) for name, days in periods.items()},
    }


def site_created_at() -> datetime | None:
    """When the site began: its first account, as Discourse dates it."""
    return db.session.scalar(select(func.min(User.created_at)))


def likes_given() -> bool:
    """Whether any like exists (Discourse's ``is_used`` for the like action type)."""
    return db.session.scalar(select(PostAction.id).where(PostAction.post_action_type_id == PostActionType.LIKE).limit(1)) is not None


def _participants_since(user: User | None, since) -> int:
    """People who posted or liked, where ``user`` may see it, since ``since``."""
    posters = (
        select(Post.user_id.label("user_id"))
        .join(Topic, Topic.id == Post.topic_id)
        .where(counted_posts(user), Post.created_at > since)
    )
    likers = (
        select(PostAction.user_id.label("user_id"))
        .join(Post, Post.id == PostAction.post_id)
        .join(Topic, Topic.id == Post.topic_id)
        .where(counted_posts(user), PostAction.post_action_type_id == PostActionType.LIKE, PostAction.created_at > since)
    )  # likes only: who flagged what is for staff
    people = posters.union(likers).subquery()
    return db.session.scalar(select(func.count()).select_from(people))


# Writing: admins only (guardian.ensure_can_edit_categories).


def create_category(actor: User | None, attributes: Mapping[str, Any], permissions: Mapping[str, int] | None = None) -> Category:
    """A new category from ``attributes`` (keys from EDITABLE; name is required). ``permissions`` is
    Discourse's group name -> permission type; absent, everyone may see the category."""
    guardian.ensure_can_edit_categories(actor)
    values = {
        "name": None,
        "slug": None,
        "color": DEFAULT_COLOR,
        "text_color": DEFAULT_TEXT_COLOR,
        "description": None,
        "parent_category_id": None,
        "auto_close_hours": None,
        "auto_close_based_on_last_post": False,
        **_known(attributes),
    }
    values["description"] = _cooked_description(values["description"])
    with refusing_duplicates("That name or slug"), write_unit(db.session):
        events.publish_site_changed()
        values, access = _validated(values, permissions, current=None)
        slug_from_id = values["slug"] is None
        if slug_from_id:
            values["slug"] = f"new-{secrets.token_hex(8)}"  # a stand-in until the id is known
        category = Category(**values)
        db.session.add(category)
        db.session.flush()
        if slug_from_id:
            category.slug = f"{category.id}-category"  # Discourse's slug for a name without ASCII letters
        _set_access(category, access)
        audit.record(actor, "category.create", category, after=_snapshot(category))
    return category


def update_category(
    actor: User | None, category_id: int, attributes: Mapping[str, Any], permissions: Mapping[str, int] | None = None
) -> Category:
    """Change the given ``attributes``; the others stay. ``permissions``, when given, replaces who may see it.
    Non-admins are refused before the category is looked up, so they learn nothing about it."""
    guardian.ensure_can_edit_categories(actor)
    category = get_category(category_id)
    changes = _known(attributes)
    if "description" in changes:
        changes["description"] = _cooked_description(changes["description"])
    with refusing_duplicates("That name or slug"), write_unit(db.session):
        events.publish_site_changed()
        db.session.refresh(category)
        current = {name: getattr(category, name) for name in EDITABLE}
        values, access = _validated({**current, **changes}, permissions, current=category)
        before = _snapshot(category)
        for name, value in values.items():
            setattr(category, name, value)
        if access is not None:
            _set_access(category, access)
        db.session.flush()
        after = _snapshot(category)
        if after != before:
            audit.record(actor, "category.update", category, before=before, after=after)
    return category


def _known(attributes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(attributes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not category attributes: {sorted(unknown)}")
    return dict(attributes)


@dataclass
class _Access:
    read_restricted: bool
    groups: list[Group] = field(default_factory=list)


def _validated(values: dict[str, Any], permissions: Mapping[str, int] | None, *, current: Category | None):
    """The values to store and the access to grant (None: unchanged), or ValidationFailed with every problem."""
    errors: list[str] = []
    values = dict(values)
    values["name"] = (values["name"] or "").strip()
    name_errors: list[str] = []
    _check_name(values["name"], current, name_errors)
    errors.extend(name_errors)
    # A slug made from a name already refused would only repeat the name's problem.
    values["slug"] = _checked_slug(values["slug"], values["name"] if not name_errors else "", current, errors)
    for name, label in (("color", "Color"), ("text_color", "Text color")):
        values[name] = _checked_color(values[name], label, errors)
    _check_parent(values["parent_category_id"], current, errors)
    values["auto_close_hours"] = _checked_auto_close_hours(values["auto_close_hours"], errors)
    values["auto_close_based_on_last_post"] = bool(values["auto_close_based_on_last_post"])
    access = _access(permissions, errors) if permissions is not None or current is None else None
    if not errors:
        _check_readers_nest(values["parent_category_id"], access, current, errors)
    if errors:
        raise ValidationFailed(*errors)
    return values, access


def _check_name(name: str, current: Category | None, errors: list[str]) -> None:
    if not name:
        errors.append("Name can't be blank.")
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(f"Name is too long (maximum is {MAX_NAME_LENGTH} characters).")
    elif _taken(func.lower(Category.name) == name.lower(), current):
        errors.append(f"Category name {name!r} has already been taken.")


def _checked_slug(slug: str | None, name: str, current: Category | None, errors: list[str]) -> str | None:
    """The slug to store: the current one when unchanged (a rename keeps it, as in Discourse), the one given
    made a slug, or, when blank, one made from the name (None: from the id, once there is one)."""
    if current is not None and slug == current.slug:
        return slug
    if slug is not None and slug.strip():
        made = slugify(slug, fallback="")
        if not made or made.isdigit():
            errors.append(f"Slug {slug!r} is invalid: it needs a letter, and may have digits and dashes.")
            return None
    else:
        made = slugify(name, fallback="")
        if not made or made.isdigit():
            # Discourse's slug for a name without ASCII letters
            return f"{current.id}-category" if current is not None else None
    if ID_SLUG.fullmatch(made) and (current is None or made != f"{current.id}-category"):
        # The form of the slugs made from ids: taken by hand, it would block the category of that id.
        errors.append(f"Slug {made!r} is kept for the category whose id it names.")
        return None
    if _taken(func.lower(Category.slug) == made.lower(), current):
        errors.append(f"Slug {made!r} has already been taken.")
    return made


def _taken(condition: ColumnElement[bool], current: Category | None) -> bool:
    query = select(Category.id).where(condition)
    if current is not None:
        query = query.where(Category.id != current.id)
    return db.session.scalar(query.limit(1)) is not None


def _checked_color(color: str | None, label: str, errors: list[str]) -> str | None:
    if color is None or not HEX_COLOR.match(color):
        errors.append(f"{label} must be 3 or 6 hexadecimal digits, like 0088CC (got {color!r}).")
        return None
    return color.upper()


def _cooked_description(description: str | None) -> str | None:
    """Sanitised HTML, as Discourse keeps a category's description; one paragraph loses its <p>, as there."""
    if description is None or not description.strip():
        return None
    cooked = cook(description).strip()
    single = re.fullmatch(r"<p>(.*)</p>", cooked, flags=re.DOTALL)
    return single.group(1) if single and "<p>" not in single.group(1) else cooked


def _check_parent(parent_id: int | None, current: Category | None, errors: list[str]) -> None:
    if parent_id is None:
        return
    parents = dict(db.session.execute(select(Category.id, Category.parent_category_id)).all())
    if parent_id not in parents:
        errors.append(f"Parent category {parent_id} does not exist.")
        return
    if current is not None and parent_id == current.id:
        errors.append("A category cannot be its own parent.")
        return
    # Two levels, as Discourse's max_category_nesting: lists and search gather a category's topics with its
    # subcategories', one level down (which also leaves no room for a cycle).
    if parents[parent_id] is not None:
        errors.append("A subcategory cannot have subcategories of its own.")
    elif current is not None and current.id in parents.values():
        errors.append("A category with subcategories cannot become a subcategory.")


def _checked_auto_close_hours(hours: float | None, errors: list[str]) -> float | None:
    if hours is None or hours == 0:
        return None  # Discourse's way of turning auto-close off
    if not 0 < hours <= MAX_AUTO_CLOSE_HOURS:
        errors.append(f"Auto-close hours must be between 0 and {MAX_AUTO_CLOSE_HOURS}.")
        return None
    return hours


def _access(permissions: Mapping[str, int] | None, errors: list[str]) -> _Access:
    """Discourse's permissions (group name -> type): everyone -> public; otherwise restricted to the groups."""
    if permissions is None:
        return _Access(read_restricted=False)
    for group_name, permission_type in permissions.items():
        if permission_type not in PERMISSION_TYPES:
            errors.append(f"Permission for {group_name!r} must be one of {', '.join(map(str, PERMISSION_TYPES))}.")
        elif permission_type != PERMISSION_FULL:
            errors.append(
                f"Permission {permission_type} ({PERMISSION_TYPES[permission_type]}) for {group_name!r} is not "
                "supported: this forum only grants groups full access (1)."
            )
    names = {name.lower() for name in permissions}
    if EVERYONE in names:
        return _Access(read_restricted=False)
    found = groups.find_by_names(names - {STAFF})
    missing = sorted(names - {STAFF} - set(found))
    if missing:
        errors.append(f"There is no group named {', '.join(map(repr, missing))}.")
    return _Access(read_restricted=True, groups=sorted(found.values(), key=lambda group: group.name))


# Who may read a category: None for everyone, else the groups it is restricted to (staff read every category).
Readers = frozenset[int] | None


def _check_readers_nest(parent_id: int | None, access: _Access | None, current: Category | None, errors: list[str]) -> None:
    """As Discourse's permission_conflict: whoever may read a subcategory may read its parent, since a subcategory
    names its parent (``parent_category_id``) wherever it is listed. Checked both ways: a category against its
    parent, and (when it changes) against its children."""
    readers = _stored_readers(current.id) if access is None else (
        frozenset(group.id for group in access.groups) if access.read_restricted else None
    )
    wider: set[str] = set()
    if parent_id is not None:
        wider |= _readers_beyond(readers, _stored_readers(parent_id))
    if current is not None:
        for child_id in db.session.scalars(select(Category.id).where(Category.parent_category_id == current.id)):
            wider |= _readers_beyond(_stored_readers(child_id), readers)
    if wider:
        errors.append(
            "Any group that is allowed to access a subcategory must also be allowed to access the parent category. "
            f"The following groups have access to one of the subcategories, but no access to parent category: "
            f"{', '.join(sorted(wider))}"
        )


def _stored_readers(category_id: int) -> Readers:
    if not db.session.scalar(select(Category.read_restricted).where(Category.id == category_id)):
        return None
    return frozenset(db.session.scalars(select(category_groups.c.group_id).where(category_groups.c.category_id == category_id)))


def _readers_beyond(child: Readers, parent: Readers) -> set[str]:
    """The names of those who may read ``child`` but not ``parent``."""
    if parent is None:
        return set()
    if child is None:
        return {EVERYONE}
    extra = child - parent
    return {name for name in db.session.scalars(select(Group.name).where(Group.id.in_(extra)))} if extra else set()


def _set_access(category: Category, access: _Access) -> None:
    category.read_restricted = access.read_restricted
    db.session.execute(delete(category_groups).where(category_groups.c.category_id == category.id))
    if access.groups:
        db.session.execute(
            insert(category_groups), [{"category_id": category.id, "group_id": group.id} for group in access.groups]
        )


def _snapshot(category: Category) -> dict:
    return {
        **{name: getattr(category, name) for name in EDITABLE},
        "read_restricted": category.read_restricted,
        "group_ids": sorted(
            db.session.scalars(select(category_groups.c.group_id).where(category_groups.c.category_id == category.id))
        ),
    }
