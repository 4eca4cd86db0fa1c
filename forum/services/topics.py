"""Creating, showing and editing topics, and changing their status (close, open, archive, list, pin,
delete, recover)."""
from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from math import ceil

from flask import current_app
from sqlalchemy import func, insert, select, update

from forum.content import cook
from forum.database import ROW_LOCK, after_commit, write_unit
from forum.extensions import db
from forum.models import Archetype, Category, NotificationLevel, NotificationReason, Post, PostType, Tag, Topic, TopicTimer, User, topic_allowed_users
from forum.models.base import utcnow
from forum.services import audit, events, guardian, posts, reading, review, timers
from forum.services.errors import InvalidParameters, NotFound, ValidationFailed
from forum.services.slugs import slugify
from forum.services.tags import find_or_create_tags, normalize_tag_names, validate_topic_tags

# The statuses a moderator toggles; each change leaves a small-action post "<status>.enabled|disabled".
TOGGLEABLE_STATUSES = ("closed", "archived", "visible", "pinned", "pinned_globally")
PIN_STATUSES = ("pinned", "pinned_globally")


# Discourse's topic view: posts per chunk, posters shown in details.participants, and the most
# [post index, days ago] pairs in its timeline lookup.
CHUNK_SIZE = 20
PARTICIPANTS_SHOWN = 24
TIMELINE_LOOKUP_MAX = 300

# An unknown category and one the user may not read are refused alike, so neither leaks.
NO_SUCH_CATEGORY = "That category does not exist."


def topic_path(topic: Topic, post_number: int | None = None) -> str:
    """The topic's address on the forum (Discourse's), at ``post_number`` if given."""
    return f"/t/{topic.slug}/{topic.id}" + (f"/{post_number}" if post_number is not None else "")


def get_topic(topic_id: int) -> Topic:
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise NotFound("That topic does not exist.")
    return topic


def get_visible_topic(viewer: User | None, topic_id: int) -> Topic:
    topic = get_topic(topic_id)
    guardian.ensure_can_see_topic(viewer, topic)
    return topic


def find_category(user: User, category_id: int) -> Category:
    """The category ``user`` names for a topic (in a new topic, or moving one)."""
    category = db.session.get(Category, category_id)
    if category is None:
        raise ValidationFailed(NO_SUCH_CATEGORY)
    _ensure_can_use_category(user, category)
    return category


def _ensure_can_use_category(user: User, category: Category | None) -> None:
    if category is not None and not guardian.can_see_category(user, category):
        raise ValidationFailed(NO_SUCH_CATEGORY)


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
    auto_track: bool = True,
    private_to: Collection[User] | None = None,
) -> Topic:
    """A new topic with ``raw`` as its first post. Validation runs before anything is written. Its author watches it,
    unless not ``auto_track`` (Discourse's option of the same name). ``private_to``: a private message among its author
    and those users (private_messages.send_message checks them), with no category and no tags."""
    guardian.ensure_can_create_topic(author)
    if private_to is not None and (category is not None or tag_names):
        raise ValidationFailed("A private message has no category and no tags.")
    _ensure_can_use_category(author, category)
    title = validate_title(title)
    raw = posts.validate_raw(raw)
    tag_names = validate_topic_tags(author, tag_names)
    with write_unit(db.session):
        topic = Topic(title=title, slug=slugify(title), category_id=category.id if category else None, user_id=author.id,
                      archetype=Archetype.REGULAR if private_to is None else Archetype.PRIVATE_MESSAGE)
        topic.tags = find_or_create_tags(tag_names)
        db.session.add(topic)
        db.session.flush()
        if private_to is not None:
            among = {author.id} | {user.id for user in private_to}
            db.session.execute(insert(topic_allowed_users), [{"topic_id": topic.id, "user_id": user_id} for user_id in sorted(among)])
        first = posts.append_post(topic, author, raw=raw, cooked=cook(raw))
        # Authors have read their own post, and watch their topic.
        follow = reading.auto_level(NotificationLevel.WATCHING, NotificationReason.CREATED_TOPIC, auto_track)
        reading.advance_read_position(author.id, topic.id, 1, 0, first.created_at, **follow)
        timers.apply_category_default(topic, category)
    return topic


def _retag(actor: User, topic: Topic, tag_names: tuple[str, ...], before: dict, after: dict) -> None:
    """update_topic's tags, under the topic's lock; ``before`` and ``after`` get the change for the audit record."""
    current_tags = sorted(tag.name for tag in topic.tags)
    if sorted(normalize_tag_names(tag_names)) == current_tags:
        return
    tag_names = validate_topic_tags(actor, tag_names)
    if taken_off := sorted(review.approved_tag_names(topic.id) & (set(current_tags) - set(tag_names))):
        raise ValidationFailed(f"Approved tactics come off a topic through the review queue (reopen their approvals), not "
                               f"by editing it: keep {', '.join(taken_off)}.")
    before["tags"], after["tags"] = current_tags, sorted(tag_names)
    topic.tags = find_or_create_tags(tag_names)


def update_topic(
    actor: User, topic: Topic, *, title: str | None = None, category_id: int | None = None, tag_names: tuple[str, ...] | None = None
) -> Topic:
    """Discourse's PUT /t/-/{id}: a new title (which renames the slug), category and/or tags (all of them: an empty
    tuple takes every tag off), checked only when they change (approvals may have taken a topic past the limit). A
    tactic a standing approval on one of its posts supports is the exception, whoever added it: the review queue takes
    it off (reopening the approvals), so that the topic lists the tactics moderators approved on its posts. Any other
    tag, a tactic an author added by hand among them, comes off as any tag.

    Values the topic already has change nothing. Staff editing someone else's topic leave an audit record.
    """
    guardian.ensure_can_edit_topic(actor, topic)
    if topic.is_private_message and (category_id is not None or tag_names):
        raise ValidationFailed("A private message has no category and no tags.")
    if title is not None:
        title = validate_title(title)
    category = find_category(actor, category_id) if category_id is not None else None
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        guardian.ensure_can_edit_topic(actor, topic)  # again: the topic may have been archived meanwhile
        before, after = {}, {}
        if title is not None and title != topic.title:
            before["title"], after["title"] = topic.title, title
            topic.title, topic.slug = title, slugify(title)
        if category is not None and category.id != topic.category_id:
            before["category_id"], after["category_id"] = topic.category_id, category.id
            topic.category_id = category.id
        if tag_names is not None:
            _retag(actor, topic, tag_names, before, after)
        if not after:
            return topic
        topic.updated_at = utcnow()
        events.publish_topic_changed(topic.id)
        if actor.id != topic.user_id:
            audit.record(actor, "topic.edit", topic, before=before, after=after)
    return topic


def set_status(
    actor: User,
    topic: Topic,
    status: str,
    enabled: bool,
    *,
    until: datetime | None = None,
    action_code: str | None = None,
    silent: bool = False,
    context: dict | None = None,
) -> Topic:
    """Close/open, archive/unarchive, list/unlist, pin/unpin a topic, as Discourse's PUT /t/{id}/status does.

    ``until`` ends a pin (Discourse's pinned_until). The small-action post's code is "<status>.enabled" or
    ".disabled" unless ``action_code`` names another (timers: Discourse's "autoclosed.enabled"); ``silent``
    (Discourse's silent close) writes none. ``context`` goes into the audit record. Setting the state the
    topic already has changes nothing, so a retried request (or timer) is harmless.
    """
    if status not in TOGGLEABLE_STATUSES:
        raise InvalidParameters(f"status must be one of {', '.join(TOGGLEABLE_STATUSES)}.")
    if until is not None and not (status in PIN_STATUSES and enabled):
        until = None  # as Discourse: only a pin has an end
    if until is not None and until <= utcnow():
        raise InvalidParameters("until must be in the future.")
    guardian.ensure_can_change_topic_status(actor)
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        before = _status(topic, status)
        if before == enabled:
            return topic
        if status not in PIN_STATUSES:
            setattr(topic, status, enabled)
        elif enabled:
            _pin(topic, globally=status == "pinned_globally", until=until)
        else:
            _unpin(topic)
        topic.updated_at = utcnow()
        events.publish_topic_changed(topic.id)
        change = f"{status}.{'enabled' if enabled else 'disabled'}"
        if not silent:
            action = posts.append_post(topic, actor, raw="", cooked="", post_type=PostType.SMALL_ACTION, action_code=action_code or change)
            if not actor.is_bot:  # a person has read the post they wrote, as every author; a timer's system user reads nothing
                reading.advance_read_position(actor.id, topic.id, action.post_number, 0, action.created_at)
        after = {status: enabled, "until": until.isoformat()} if until else {status: enabled}
        audit.record(actor, f"topic.{change}", topic, before={status: before}, after=after, context=context)
    return topic


def change_timestamp(actor: User, topic: Topic, timestamp: str) -> Topic:
    """Discourse's PUT /t/{id}/change-timestamp (staff): the topic starts at ``timestamp`` (Unix seconds) and each
    later post moves by as much, keeping their order and the gaps between them, none past now. A dialogue brought in
    from elsewhere is then dated as it was held."""
    guardian.ensure_staff(actor)
    moment = _parse_unix_time(timestamp)
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        before, shift, now = topic.created_at, moment - topic.created_at, utcnow()
        # One statement for the whole topic (executemany by primary key), reading only the posts' times.
        moved = [{"id": post_id, "created_at": moment if number == 1 else min(created_at + shift, now)}
                 for post_id, number, created_at in db.session.execute(
                     select(Post.id, Post.post_number, Post.created_at).where(Post.topic_id == topic.id))]
        db.session.execute(update(Post), moved)
        last_post = posts.last_live_post_columns(topic.id)
        db.session.execute(update(Topic).where(Topic.id == topic.id)
                           .values(created_at=moment, bumped_at=last_post["last_posted_at"], **last_post))
        events.publish_topic_changed(topic.id)
        audit.record(actor, "topic.change_timestamp", topic, before={"created_at": before.isoformat()},
                     after={"created_at": moment.isoformat()})
    return topic


def _parse_unix_time(timestamp: str) -> datetime:
    try:
        moment = datetime.fromtimestamp(float(timestamp), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise InvalidParameters("timestamp must be a time in seconds since 1970-01-01 UTC.") from None
    if moment > utcnow():
        raise ValidationFailed("timestamp must not be in the future.")
    return moment


def _status(topic: Topic, status: str) -> bool:
    if status in PIN_STATUSES:
        return is_pinned(topic) and topic.pinned_globally == (status == "pinned_globally")
    return getattr(topic, status)


def is_pinned(topic: Topic) -> bool:
    """Pinned, and the pin has not run out."""
    return topic.pinned_at is not None and (topic.pinned_until is None or topic.pinned_until > utcnow())


def _pin(topic: Topic, *, globally: bool, until: datetime | None) -> None:
    topic.pinned_at = utcnow()
    topic.pinned_globally = globally
    topic.pinned_until = until


def _unpin(topic: Topic) -> None:
    topic.pinned_at = None
    topic.pinned_globally = False
    topic.pinned_until = None


def delete_topic(actor: User, topic: Topic, *, context: dict | None = None) -> Topic:
    """Soft-delete a topic (``context`` goes into the audit record: which timer did it, say)."""
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        guardian.ensure_can_delete_topic(actor, topic)
        if topic.is_deleted:
            return topic
        topic_id, actor_id = topic.id, actor.id  # settled once stored, in a unit of its own: see posts.settle_review_items_when_stored
        after_commit(lambda: review.settle_items_of_deleted(actor_id, reason="The topic was deleted.", topic_id=topic_id), key=("settle-topic", topic_id))
        topic.deleted_at = utcnow()
        topic.deleted_by_id = actor.id
        events.publish_topic_changed(topic.id)
        audit.record(actor, "topic.delete", topic, context=context)
    return topic


def recover_topic(actor: User, topic: Topic) -> Topic:
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        guardian.ensure_staff(actor)
        if not topic.is_deleted:
            return topic
        topic.deleted_at = None
        topic.deleted_by_id = None
        # One announcement for the topic, not one per post: a long topic's posts are queued by the worker.
        events.publish_topic_recovered(topic.id)
        audit.record(actor, "topic.recover", topic)
    return topic


# Reading: the topic view. A fixed number of queries whatever the topic's length, and no writes.


@dataclass(frozen=True)
class TopicView:
    """Discourse's TopicView: a topic as one viewer sees it, with one chunk of its posts."""

    topic: Topic
    stream: list[int]  # the ids of every post the viewer sees, in order
    posts: list[Post]  # the chunk shown
    context: "posts.PostsContext"
    tags: list[Tag]
    participants: list[tuple[int, int]]  # (user id, post count), most posts first
    participant_count: int
    highest_post_number: int
    has_deleted: bool
    timeline_lookup: list[list[int]]
    current_post_number: int | None
    timer: TopicTimer | None  # the pending close/open/delete timer, which Discourse shows every reader
    notification_level: NotificationLevel  # how the viewer follows the topic


def topic_view(viewer: User | None, topic_id: int, post_number: int | None = None) -> TopicView:
    """The topic with the chunk of posts from its start, or around ``post_number``."""
    topic = get_visible_topic(viewer, topic_id)
    stream = posts.stream(viewer, topic)
    start = _chunk_start(stream.post_numbers, post_number)
    chunk = posts.posts_in_order(stream.post_ids[start : start + CHUNK_SIZE])
    participants = _participants(topic)
    shown = participants[:PARTICIPANTS_SHOWN]
    context = posts.load_context(
        viewer,
        chunk,
        loaded_topics=(topic,),
        user_ids=(topic.user_id, topic.last_post_user_id, topic.deleted_by_id, *(user_id for user_id, _ in shown)),
    )
    return TopicView(
        topic=topic,
        stream=stream.post_ids,
        posts=chunk,
        context=context,
        tags=list(topic.tags),
        participants=shown,
        participant_count=len(participants),
        highest_post_number=stream.post_numbers[-1] if stream.post_numbers else 0,
        has_deleted=stream.has_deleted,
        timeline_lookup=_timeline_lookup(stream.post_ids),
        current_post_number=_current_post_number(stream.post_numbers, post_number),
        timer=timers.pending_timer(topic),
        notification_level=NotificationLevel(context.notification_levels.get(topic.id, NotificationLevel.REGULAR)),
    )


def topic_posts(
    viewer: User | None, topic_id: int, *, post_ids: list[int] | None = None, post_number: int | None = None, asc: bool = True
) -> list[Post]:
    """Discourse's GET /t/{id}/posts: the posts named by ``post_ids`` (those the viewer sees), else a chunk:
    the first one, or the one after (``asc``) or before ``post_number``."""
    topic = get_visible_topic(viewer, topic_id)
    if post_ids:
        return posts.visible_posts_of(viewer, topic, post_ids)
    stream = posts.stream(viewer, topic)
    if post_number is None:
        chosen = stream.post_ids[:CHUNK_SIZE]
    elif asc:
        after = bisect_right(stream.post_numbers, post_number)
        chosen = stream.post_ids[after : after + CHUNK_SIZE]
    else:
        before = bisect_left(stream.post_numbers, post_number)
        chosen = stream.post_ids[max(before - CHUNK_SIZE, 0) : before]
    return posts.posts_in_order(chosen)


def _chunk_start(post_numbers: list[int], post_number: int | None) -> int:
    """Where the chunk starts, as Discourse places it: a quarter of a chunk before the post asked for."""
    if post_number is None:
        return 0
    at = bisect_left(post_numbers, post_number)
    end = min(max(at - CHUNK_SIZE // 4, 0) + CHUNK_SIZE, len(post_numbers))
    return max(end - CHUNK_SIZE, 0)


def _current_post_number(post_numbers: list[int], post_number: int | None) -> int | None:
    """Discourse's TopicView#current_post_number: the number asked for, at most the highest the viewer sees (one
    asked for but deleted or not visible stays the number asked for: the chunk around it is shown)."""
    if post_number is None or not post_numbers:
        return None
    return min(max(post_number, 1), post_numbers[-1])


def _participants(topic: Topic) -> list[tuple[int, int]]:
    """Who wrote the topic's posts and how many each: one row per poster, never per post."""
    post_count = func.count(Post.id)
    return [
        (row.user_id, row.post_count)
        for row in db.session.execute(
            select(Post.user_id, post_count.label("post_count"))
            .where(Post.topic_id == topic.id, Post.deleted_at.is_(None), Post.post_type.in_(posts.REPLY_TYPES))
            .group_by(Post.user_id)
            .order_by(post_count.desc(), func.min(Post.post_number))
        )
    ]


def _timeline_lookup(post_ids: list[int]) -> list[list[int]]:
    """Discourse's TimelineLookup: [post index from 1, days ago] wherever the day changes, sampled to at most
    TIMELINE_LOOKUP_MAX pairs."""
    now = utcnow()
    every = max(ceil(len(post_ids) / TIMELINE_LOOKUP_MAX), 1)
    sampled = range(0, len(post_ids), every)
    # Only the sampled posts' dates are needed: one query for them, whatever the topic's length.
    created = dict(db.session.execute(select(Post.id, Post.created_at).where(Post.id.in_([post_ids[i] for i in sampled]))).all())
    lookup: list[list[int]] = []
    for index in sampled:
        days_ago = round((now - created[post_ids[index]]).total_seconds() / 86400)
        if not lookup or lookup[-1][1] != days_ago:
            lookup.append([index + 1, days_ago])
    return lookup
