"""Creating topics and changing their status (close, open, archive, list, delete, recover)."""
from flask import current_app
from sqlalchemy import select

from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import Category, PostType, Tag, Topic, User
from forum.models.base import utcnow
from forum.services import audit, guardian, posts
from forum.services.errors import InvalidParameters, NotFound, ValidationFailed
from forum.services.slugs import slugify

# The statuses a moderator toggles; each change leaves a small-action post "<status>.enabled|disabled".
TOGGLEABLE_STATUSES = ("closed", "archived", "visible")


def get_topic(topic_id: int) -> Topic:
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise NotFound("That topic does not exist.")
    return topic


def validate_title(title: str | None) -> str:
    title = (title or "").strip()
    min_length = current_app.config["MIN_TOPIC_TITLE_LENGTH"]
    max_length = current_app.config["MAX_TOPIC_TITLE_LENGTH"]
    if len(title) < min_length:
        raise ValidationFailed(f"Title is too short (minimum is {min_length} characters).")
    if len(title) > max_length:
        raise ValidationFailed(f"Title is too long (maximum is {max_length} characters).")
    return title


def create_topic(
    author: User,
    *,
    title: str,
    raw: str,
    category: Category | None = None,
    tag_names: tuple[str, ...] = (),
) -> Topic:
    """A new topic with ``raw`` as its first post. Validation runs before anything is written."""
    guardian.ensure_can_create_topic(author)
    title = validate_title(title)
    raw = posts.validate_raw(raw)
    with write_unit(db.session):
        topic = Topic(title=title, slug=slugify(title), category_id=category.id if category else None, user_id=author.id)
        topic.tags = _find_or_create_tags(tag_names)
        db.session.add(topic)
        db.session.flush()
        posts.append_post(topic, author, raw=raw, cooked=cook(raw))
    return topic


def _find_or_create_tags(names: tuple[str, ...]) -> list[Tag]:
    wanted = sorted({slugify(name, fallback="") for name in names} - {""})
    if not wanted:
        return []
    existing = {tag.name: tag for tag in db.session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    for name in wanted:
        if name not in existing:
            existing[name] = Tag(name=name)
            db.session.add(existing[name])
    return [existing[name] for name in wanted]


def set_status(actor: User, topic: Topic, status: str, enabled: bool) -> Topic:
    """Close/open, archive/unarchive, list/unlist a topic, as Discourse's PUT /t/{id}/status does.

    Setting the state the topic already has changes nothing, so a retried request (or timer) is harmless.
    """
    if status not in TOGGLEABLE_STATUSES:
        raise InvalidParameters(f"status must be one of {', '.join(TOGGLEABLE_STATUSES)}.")
    guardian.ensure_can_change_topic_status(actor)
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=True)
        before = getattr(topic, status)
        if before == enabled:
            return topic
        setattr(topic, status, enabled)
        topic.updated_at = utcnow()
        action_code = f"{status}.{'enabled' if enabled else 'disabled'}"
        posts.append_post(topic, actor, raw="", cooked="", post_type=PostType.SMALL_ACTION, action_code=action_code)
        audit.record(actor, f"topic.{action_code}", topic, before={status: before}, after={status: enabled})
    return topic


def delete_topic(actor: User, topic: Topic) -> Topic:
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=True)
        guardian.ensure_can_delete_topic(actor, topic)
        if topic.is_deleted:
            return topic
        topic.deleted_at = utcnow()
        topic.deleted_by_id = actor.id
        audit.record(actor, "topic.delete", topic)
    return topic


def recover_topic(actor: User, topic: Topic) -> Topic:
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=True)
        guardian.ensure_staff(actor)
        if not topic.is_deleted:
            return topic
        topic.deleted_at = None
        topic.deleted_by_id = None
        audit.record(actor, "topic.recover", topic)
    return topic
