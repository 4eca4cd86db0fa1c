"""Bookmarks of posts and topics (Discourse's BookmarkManager): a member's own, private list of what to come back to,
such as the posts a tactical notebook will cite."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy import update as update_rows  # this module's update() is a bookmark's

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import Bookmark, BookmarkableType, Post, Topic, User
from forum.models.base import parse_utc, utcnow
from forum.services import guardian, notifications, posts, topics, users
from forum.services.errors import InvalidParameters, NotFound, ValidationFailed

# The bookmarks' name column holds this many characters (Discourse's limit).
MAX_NAME_LENGTH = Bookmark.name.type.length
# How far ahead a reminder may be set (Discourse's bookmarks refuse one further).
MAX_REMINDER_AHEAD = timedelta(days=3653)
# Bookmarks a page of GET /u/{username}/bookmarks.json holds (Discourse's per_page).
PAGE_SIZE = 20


def parse_type(value: str | None) -> BookmarkableType:
    """A bookmarkable_type parameter: Post (the default, as older clients send none) or Topic."""
    if value is None:
        return BookmarkableType.POST
    try:
        return BookmarkableType(value)
    except ValueError:
        raise InvalidParameters("bookmarkable_type must be Post or Topic.") from None


def create(actor: User | None, kind: BookmarkableType, bookmarkable_id: int, *, name: str | None = None,
           reminder_at: str | None = None) -> Bookmark:
    """Bookmark a post or topic ``actor`` may see; a second bookmark of the same one is refused."""
    guardian.ensure_can_act(actor)
    name, reminder = _name(name), _new_reminder(_reminder(reminder_at))
    if kind == BookmarkableType.POST:
        topic_id = posts.get_visible_post(actor, bookmarkable_id).topic_id
    else:
        topic_id = topics.get_visible_topic(actor, bookmarkable_id).id
    with write_unit(db.session):
        db.session.get(User, actor.id, with_for_update=ROW_LOCK)  # one member's bookmarking in turn: no duplicate slips in
        duplicate = select(Bookmark.id).where(Bookmark.user_id == actor.id, Bookmark.bookmarkable_type == kind,
                                              Bookmark.bookmarkable_id == bookmarkable_id)
        if db.session.scalar(duplicate) is not None:
            raise InvalidParameters(f"You have already bookmarked this {kind.lower()}.")
        bookmark = Bookmark(user_id=actor.id, bookmarkable_type=kind, bookmarkable_id=bookmarkable_id, topic_id=topic_id,
                            name=name, reminder_at=reminder)
        db.session.add(bookmark)
    return bookmark


def update(actor: User | None, bookmark_id: int, *, name: str | None, reminder_at: str | None) -> Bookmark:
    """Rename a bookmark or move its reminder ("" clears either; None leaves it as it is). A reminder moved is due
    again; one sent back unchanged (Discourse's client sends it with every rename) is not."""
    guardian.ensure_can_act(actor)
    with write_unit(db.session):
        bookmark = _own(actor, bookmark_id)
        if name is not None:
            bookmark.name = _name(name)
        if reminder_at is not None and (reminder := _reminder(reminder_at)) != bookmark.reminder_at:
            bookmark.reminder_at, bookmark.reminder_sent_at = _new_reminder(reminder), None
        bookmark.updated_at = utcnow()
    return bookmark


def remove(actor: User | None, bookmark_id: int) -> bool:
    """Delete one of the actor's bookmarks; whether the topic it was in still holds one of theirs."""
    guardian.ensure_can_act(actor)
    with write_unit(db.session):
        bookmark = _own(actor, bookmark_id)
        topic_id = bookmark.topic_id
        db.session.delete(bookmark)
        db.session.flush()
        return bool(db.session.scalar(select(exists().where(Bookmark.user_id == actor.id, Bookmark.topic_id == topic_id))))


def remove_from_topic(actor: User | None, topic_id: int) -> None:
    """Delete the actor's bookmarks of a topic and of its posts (Discourse's PUT /t/{id}/remove_bookmarks)."""
    guardian.ensure_can_act(actor)
    topic = topics.get_visible_topic(actor, topic_id)
    with write_unit(db.session):
        db.session.execute(delete(Bookmark).where(Bookmark.user_id == actor.id, Bookmark.topic_id == topic.id))


def _own(actor: User, bookmark_id: int) -> Bookmark:
    bookmark = db.session.get(Bookmark, bookmark_id, with_for_update=ROW_LOCK)
    if bookmark is None or bookmark.user_id != actor.id:
        raise NotFound("That bookmark does not exist.")
    return bookmark


def _name(name: str | None) -> str | None:
    name = " ".join((name or "").split()) or None
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"Name is too long (maximum is {MAX_NAME_LENGTH} characters).")
    return name


def bookmarkable_url(bookmark: Bookmark, topic: Topic, post_number: int) -> str:
    """Where a bookmark leads: its post, or its topic."""
    return topics.topic_path(topic, post_number if bookmark.bookmarkable_type == BookmarkableType.POST else None)


def send_due_reminders(limit: int) -> int:
    """Remind members of the bookmarks whose reminder is due, at most ``limit`` (beat asks every
    BOOKMARK_REMINDER_INTERVAL seconds); how many were sent. A bookmark is claimed and its reminder written in one
    write unit, so each reminder is sent once, however many workers ask at once."""
    now = utcnow()
    due = (select(Bookmark.id).where(Bookmark.reminder_at <= now, Bookmark.reminder_sent_at.is_(None))
           .order_by(Bookmark.reminder_at).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with write_unit(db.session):
        claimed = list(db.session.scalars(
            update_rows(Bookmark).where(Bookmark.id.in_(due)).values(reminder_sent_at=now).returning(Bookmark.id),
            execution_options={"synchronize_session": False}))
        bookmarked_post = and_(Bookmark.bookmarkable_type == BookmarkableType.POST, Post.id == Bookmark.bookmarkable_id)
        rows = db.session.execute(
            select(Bookmark, Topic, User, func.coalesce(Post.post_number, 1))
            .join(Topic, Topic.id == Bookmark.topic_id).join(User, User.id == Bookmark.user_id)
            .outerjoin(Post, bookmarked_post).where(Bookmark.id.in_(claimed)).order_by(Bookmark.id))
        for bookmark, topic, owner, post_number in rows:
            notifications.remind_of_bookmark(bookmark, owner, topic, post_number, bookmarkable_url(bookmark, topic, post_number))
    return len(claimed)


def _new_reminder(reminder: datetime | None) -> datetime | None:
    """A reminder being set: in the future, within Discourse's ten years."""
    if reminder is not None and reminder <= utcnow():
        raise ValidationFailed("A reminder must be in the future.")
    if reminder is not None and reminder > utcnow() + MAX_REMINDER_AHEAD:
        raise ValidationFailed("A reminder must be within ten years.")
    return reminder


def _reminder(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_utc(value)
    except ValueError:
        raise InvalidParameters("reminder_at must be an ISO 8601 date and time.") from None


@dataclass(frozen=True)
class ListedBookmark:
    bookmark: Bookmark
    topic: Topic
    post: Post  # the bookmarked post, or the topic's first post
    author: User  # the post's


@dataclass(frozen=True)
class BookmarkPage:
    user: User
    bookmarks: list[ListedBookmark]
    page: int
    more: bool


def list_bookmarks(actor: User | None, username: str, *, page: int = 0) -> BookmarkPage:
    """``username``'s bookmarks of what they may still see, newest first, a page at a time."""
    guardian.ensure_can_act(actor)
    user = users.get_by_username(username)
    guardian.ensure_can_see_personal(actor, user, "bookmarks")
    shown_post = or_(
        (Bookmark.bookmarkable_type == BookmarkableType.POST) & (Post.id == Bookmark.bookmarkable_id),
        (Bookmark.bookmarkable_type == BookmarkableType.TOPIC) & (Post.topic_id == Bookmark.topic_id) & (Post.post_number == 1),
    )
    rows = db.session.execute(
        select(Bookmark, Topic, Post, User)
        .join(Topic, Topic.id == Bookmark.topic_id)
        .join(Post, shown_post)
        .join(User, User.id == Post.user_id)
        .where(Bookmark.user_id == user.id, guardian.readable_topics(user), guardian.visible_posts(user),
               guardian.readable_post_texts(user))
        .order_by(Bookmark.updated_at.desc(), Bookmark.id.desc())
        .offset(page * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    listed = [ListedBookmark(*row) for row in rows[:PAGE_SIZE]]
    return BookmarkPage(user, listed, page, len(rows) > PAGE_SIZE)


@dataclass(frozen=True)
class TopicBookmarks:
    """The viewer's bookmarks in the topics a page shows."""

    by_topic: dict[int, list[Bookmark]]
    post_ids: frozenset[int]


NO_BOOKMARKS = TopicBookmarks({}, frozenset())


def in_topics(viewer: User | None, topic_ids: list[int]) -> TopicBookmarks:
    """One query: the viewer's bookmarks in ``topic_ids``."""
    if viewer is None or not topic_ids:
        return NO_BOOKMARKS
    found = db.session.scalars(select(Bookmark).where(Bookmark.user_id == viewer.id, Bookmark.topic_id.in_(topic_ids))
                               .order_by(Bookmark.id)).all()
    by_topic: dict[int, list[Bookmark]] = {}
    for bookmark in found:
        by_topic.setdefault(bookmark.topic_id, []).append(bookmark)
    post_ids = frozenset(b.bookmarkable_id for b in found if b.bookmarkable_type == BookmarkableType.POST)
    return TopicBookmarks(by_topic, post_ids)
