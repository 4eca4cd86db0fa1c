"""Tags and tag groups: tag names as Discourse cleans them, visible tag counts, and the tag groups staff keep."""
import re
import unicodedata
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import selectinload

from forum.database import write_unit
from forum.extensions import db
from forum.models import Tag, TagGroup, Topic, User, tag_group_memberships, topic_tags
from forum.services import audit, categories, events, guardian
from forum.services.errors import NotFound, ValidationFailed, refusing_duplicates

# Discourse's DiscourseTagging::TAGS_FILTER_REGEXP: characters a tag name never keeps. Its source is what
# GET /site.json sends clients as ``tags_filter_regexp``.
TAGS_FILTER_PATTERN = r"""[/?#\[\]@!$&'()*+,;=.%\\`^\s|{}"<>]+"""
_TAGS_FILTER = re.compile(TAGS_FILTER_PATTERN)
# Discourse's max_tag_length setting defaults to 20, which would cut the seeded tags
# ("business-and-human-rights", "membership-association"); MAX_TAG_LENGTH in the app config overrides.
DEFAULT_MAX_TAG_LENGTH = 30
MAX_TAG_GROUP_NAME_LENGTH = 100


# The tag group whose tags are the tactics (forum.services.tactics): the bot finds it by this name, which stays.
TACTICS_GROUP_NAME = "Tactics"


def max_tag_length() -> int:
    return current_app.config.get("MAX_TAG_LENGTH", DEFAULT_MAX_TAG_LENGTH)


def normalize_tag_name(name: str) -> str:
    """A tag name as Discourse's ``DiscourseTagging.clean_tag`` makes it: lowercase, whitespace runs as one
    dash, only word and punctuation characters outside the filter, no repeated dashes, at most the maximum
    length. Letters outside ASCII stay, as in Discourse."""
    tag = re.sub(r"\s+", "-", name.lower().strip())
    tag = "".join(character for character in tag if _is_word_or_punctuation(character))
    tag = _TAGS_FILTER.sub("", tag)
    tag = re.sub(r"-{2,}", "-", tag)
    return tag[: max_tag_length()]


def _is_word_or_punctuation(character: str) -> bool:
    # Ruby's [[:word:]] (letters, marks, digits, connectors) and [[:punct:]]; symbols such as emoji go.
    category = unicodedata.category(character)
    return category[0] in "LMP" or category in ("Nd", "Nl") or character == "~"


def normalize_tag_names(names: Iterable[str]) -> list[str]:
    """Each name normalised, once each, in order; ValidationFailed names any that keep no character."""
    normalised: dict[str, None] = {}
    invalid = []
    for name in names:
        tag = normalize_tag_name(name)
        if tag:
            normalised[tag] = None
        else:
            invalid.append(name)
    if invalid:
        raise ValidationFailed(*(f"{name!r} is not a valid tag name." for name in invalid))
    return list(normalised)


def find_or_create_tags(names: Iterable[str]) -> list[Tag]:
    """The tags with these names (normalised), created where missing, sorted by name. Call inside a write
    unit. Topics' tags come through here too, so every tag is named by one rule."""
    wanted = sorted(normalize_tag_names(names))
    if not wanted:
        return []
    existing = {tag.name: tag for tag in db.session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in wanted:
        if name not in existing:
            existing[name] = Tag(name=name)
            db.session.add(existing[name])
    return [existing[name] for name in wanted]


def validate_topic_tags(author: User, names: Iterable[str]) -> list[str]:
    """The normalised names of a topic's tags (a new topic's, or an edit's), as Discourse's DiscourseTagging allows them: at most
    MAX_TAGS_PER_TOPIC, new ones only from those who may create tags, and one tag at most from each tag group that
    allows one per topic. A tag the author may not create is refused, not dropped: the topic is not stored without it."""
    wanted = normalize_tag_names(names)
    limit = current_app.config["MAX_TAGS_PER_TOPIC"]
    if len(wanted) > limit:
        raise ValidationFailed(f"A topic can have at most {limit} tags.")
    if wanted and not guardian.can_create_tag(author):
        # Among the tags the author may know of: a tag used only where they cannot read is not confirmed to exist.
        known = db.session.scalars(select(Tag.name).where(Tag.name.in_(wanted), known_tags(author)))
        missing = sorted(set(wanted) - set(known))
        if missing:
            raise ValidationFailed(*(f"The tag {name!r} does not exist, and only staff create tags here: choose an existing one." for name in missing))
    clashes = []
    groups = db.session.scalars(
        select(TagGroup)
        .where(TagGroup.one_per_topic, TagGroup.tags.any(Tag.name.in_(wanted)))
        .options(selectinload(TagGroup.tags))  # every group's tags in one more query, not one per group
        .order_by(TagGroup.name)
    )
    for group in groups:
        chosen = sorted(tag.name for tag in group.tags if tag.name in wanted)
        if len(chosen) > 1:
            clashes.append(f"The tags {', '.join(chosen)} cannot be used together: the group {group.name!r} allows one per topic.")
    if clashes:
        raise ValidationFailed(*clashes)
    return wanted


# Reading: tags with the number of topics the caller may see.


def known_tags(user: User | None) -> ColumnElement[bool]:
    """A condition on Tag: the tags ``user`` may know of. Staff know every tag; others know the tags on topics they
    may see and the tags of tag groups (an admin's vocabulary, public as in Discourse), so the name of a tag used only
    in a restricted category does not leak (tag lists, search)."""
    if user is not None and user.is_staff:
        return true()
    on_a_visible_topic = (
        select(topic_tags.c.tag_id)
        .join(Topic, Topic.id == topic_tags.c.topic_id)
        .where(topic_tags.c.tag_id == Tag.id, categories.counted_topics(user))
        .exists()
    )
    return on_a_visible_topic | Tag.id.in_(select(tag_group_memberships.c.tag_id))


def tag_counts(user: User | None) -> list[tuple[Tag, int]]:
    """The tags ``user`` may know of, with how many topics ``user`` may see carry each, by name."""
    counts = (
        select(topic_tags.c.tag_id, func.count().label("topics"))
        .join(Topic, Topic.id == topic_tags.c.topic_id)
        .where(categories.counted_topics(user))
        .group_by(topic_tags.c.tag_id)
        .subquery()
    )
    query = (
        select(Tag, func.coalesce(counts.c.topics, 0))
        .outerjoin(counts, counts.c.tag_id == Tag.id)
        .where(known_tags(user))
        .order_by(Tag.name)
    )
    return [(tag, count) for tag, count in db.session.execute(query)]


TOP_TAGS_LIMIT = 30  # Discourse's max_tags_in_filter_list


def top_tags(user: User | None, scope: ColumnElement[bool] | None = None) -> list[Tag]:
    """The tags on most of the topics ``user`` may see (within ``scope``), most used first (Discourse's
    Tag.top_tags): restricted topics count for no one else."""
    stmt = (
        select(Tag)
        .join(topic_tags, topic_tags.c.tag_id == Tag.id)
        .join(Topic, Topic.id == topic_tags.c.topic_id)
        .where(guardian.listed_topics(user), true() if scope is None else scope)
        .group_by(Tag.id)
        .order_by(func.count().desc(), Tag.name)
        .limit(TOP_TAGS_LIMIT)
    )
    return list(db.session.scalars(stmt))


# Tag groups: staff only, as Discourse's TagGroupsController.


def all_tag_groups(actor: User | None) -> list[TagGroup]:
    guardian.ensure_staff(actor)
    return list(db.session.scalars(select(TagGroup).options(selectinload(TagGroup.tags)).order_by(TagGroup.name)))


def get_tag_group(actor: User | None, tag_group_id: int) -> TagGroup:
    guardian.ensure_staff(actor)
    tag_group = db.session.get(TagGroup, tag_group_id)
    if tag_group is None:
        raise NotFound("That tag group does not exist.")
    return tag_group


def create_tag_group(actor: User | None, *, name: str | None, tag_names: Iterable[str] = (), one_per_topic: bool = False) -> TagGroup:
    guardian.ensure_staff(actor)
    name = (name or "").strip()
    tag_names = list(tag_names)
    with refusing_duplicates("That tag group name or tag name"), write_unit(db.session):
        _validate_tag_group(name, tag_names, current=None)
        tag_group = TagGroup(name=name, one_per_topic=one_per_topic)
        tag_group.tags = find_or_create_tags(tag_names)
        db.session.add(tag_group)
        db.session.flush()
        events.publish_tag_group_changed(tag_group.id)
        audit.record(actor, "tag_group.create", tag_group, after=_snapshot(tag_group))
    return tag_group


def update_tag_group(
    actor: User | None,
    tag_group: TagGroup,
    *,
    name: str | None = None,
    tag_names: Iterable[str] | None = None,
    one_per_topic: bool | None = None,
) -> TagGroup:
    """Rename, replace the tags (creating those that do not exist yet), or switch one_per_topic; what is
    not given stays as it is."""
    guardian.ensure_staff(actor)
    name = tag_group.name if name is None else name.strip()
    tag_names = None if tag_names is None else list(tag_names)
    with refusing_duplicates("That tag group name or tag name"), write_unit(db.session):
        events.publish_tag_group_changed(tag_group.id)
        _validate_tag_group(name, tag_names or [], current=tag_group)
        before = _snapshot(tag_group)
        tag_group.name = name
        if tag_names is not None:
            tag_group.tags = find_or_create_tags(tag_names)
        if one_per_topic is not None:
            tag_group.one_per_topic = one_per_topic
        after = _snapshot(tag_group)
        if after != before:
            audit.record(actor, "tag_group.update", tag_group, before=before, after=after)
    return tag_group


def rename_tag(actor: User | None, name: str, new_name: str | None) -> Tag:
    """Discourse's PUT /tag/{name}: the tag keeps its topics, posts and groups under its new name."""
    guardian.ensure_staff(actor)
    tag = db.session.scalar(select(Tag).where(Tag.name == normalize_tag_name(name)))
    if tag is None:
        raise NotFound("That tag does not exist.")
    wanted = normalize_tag_name(new_name or "")
    if not wanted:
        raise ValidationFailed("The new name can't be blank.")
    if wanted == tag.name:
        return tag
    if db.session.scalar(select(Tag.id).where(Tag.name == wanted)) is not None:
        raise ValidationFailed(f"Name {wanted!r} has already been taken.")
    with refusing_duplicates("That tag name"), write_unit(db.session):
        before = {"name": tag.name}
        tag.name = wanted
        db.session.flush()
        audit.record(actor, "tag.rename", tag, before=before, after={"name": wanted})
        for group in tag.groups:
            events.publish_tag_group_changed(group.id)
        events.publish_site_changed()
    return tag


def _validate_tag_group(name: str, tag_names: list[str], *, current: TagGroup | None) -> None:
    errors = []
    if not name:
        errors.append("Name can't be blank.")
    elif len(name) > MAX_TAG_GROUP_NAME_LENGTH:
        errors.append(f"Name is too long (maximum is {MAX_TAG_GROUP_NAME_LENGTH} characters).")
    elif current is not None and current.name == TACTICS_GROUP_NAME and name != TACTICS_GROUP_NAME:
        errors.append(f"The {TACTICS_GROUP_NAME!r} group keeps its name: the tactics bot finds the tactics by it.")
    elif name.lower() == TACTICS_GROUP_NAME.lower() and name != TACTICS_GROUP_NAME:
        # Written otherwise, the bot would not find it, and would seed a second group over the same tags.
        errors.append(f"Name {name!r} is kept for the tactics bot's group, {TACTICS_GROUP_NAME!r}.")
    else:
        taken = select(TagGroup.id).where(func.lower(TagGroup.name) == name.lower())
        if current is not None:
            taken = taken.where(TagGroup.id != current.id)
        if db.session.scalar(taken) is not None:
            errors.append(f"Name {name!r} has already been taken.")
    try:
        normalize_tag_names(tag_names)
    except ValidationFailed as invalid:
        errors.extend(invalid.messages)
    if errors:
        raise ValidationFailed(*errors)


def _snapshot(tag_group: TagGroup) -> dict:
    return {
        "name": tag_group.name,
        "tag_names": sorted(tag.name for tag in tag_group.tags),
        "one_per_topic": tag_group.one_per_topic,
    }
