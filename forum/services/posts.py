"""Posting, editing, deleting and recovering posts (Discourse's PostCreator and PostRevisor rules), and
reading them in batches.

Post numbers come from one atomic ``UPDATE topics SET highest_assigned_post_number = highest_assigned_post_number + 1
... RETURNING``: PostgreSQL's row lock (and SQLite's single writer) serialise posters per topic, so
numbers are 1..n without gaps or duplicates; the (topic_id, post_number) unique constraint is the
backstop. The topic's ``highest_post_number`` is Discourse's: the last live post that is not a whisper.
"""
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import false, func, select, update

from forum.content import cook
from forum.database import ROW_LOCK, after_commit, write_unit
from forum.extensions import db
from forum.models import NotificationReason, Post, PostRevision, PostType, Topic, TopicUser, User
from forum.models.base import utcnow
from forum.services import audit, bookmarks, events, guardian, post_actions, reading, review, timers, topics
from forum.services.errors import Conflict, InvalidParameters, NotFound, ValidationFailed

# Post types that count as a reply in the topic's reply_count.
REPLY_TYPES = (PostType.REGULAR, PostType.MODERATOR_ACTION)
# The revisions' edit_reason column holds this many characters.
MAX_EDIT_REASON_LENGTH = PostRevision.edit_reason.type.length


def validate_raw(raw: str | None) -> str:
    """The post body as written, or ValidationFailed saying what is wrong with it."""
    if raw is None or not raw.strip():
        raise ValidationFailed("Body can't be blank.")
    min_length = current_app.config["MIN_POST_LENGTH"]
    max_length = current_app.config["MAX_POST_LENGTH"]
    length = len(raw.strip())
    if length < min_length:
        raise ValidationFailed(f"Body is too short (minimum is {min_length} characters).")
    if length > max_length:
        raise ValidationFailed(f"Body is too long (maximum is {max_length} characters).")
    return raw


DELETED_POST_REASON = "The post was deleted."


def get_post(post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound("That post does not exist.")
    return post


def append_post(
    topic: Topic,
    author: User,
    *,
    raw: str,
    cooked: str,
    post_type: PostType = PostType.REGULAR,
    action_code: str | None = None,
    reply_to_post_number: int | None = None,
    rearm_last_post_timers: bool = False,
) -> Post:
    """Number and store a post at the end of ``topic``. Call inside a write unit; no permission checks.
    ``rearm_last_post_timers``: the post moves the topic's "close N hours after the last post" timers.

    Takes the topic's row lock, and reloads ``topic`` as it is under that lock, with the statement that numbers the
    post. Everything from here to the commit holds that lock, which every reply to the topic waits for: keep it short.
    """
    db.session.flush()  # the UPDATE below reloads the topic: what the caller changed on it must be stored first
    now = utcnow()
    counts_as_reply = post_type in REPLY_TYPES and topic.highest_assigned_post_number > 0
    values = {
        "highest_assigned_post_number": Topic.highest_assigned_post_number + 1,
        "posts_count": Topic.posts_count + (0 if post_type == PostType.WHISPER else 1),
        "reply_count": Topic.reply_count + (1 if counts_as_reply else 0),
    }
    if post_type != PostType.WHISPER:
        values["highest_post_number"] = Topic.highest_assigned_post_number + 1  # the new post's number
    if post_type in REPLY_TYPES:
        values.update(bumped_at=now, last_posted_at=now, last_post_user_id=author.id)
    if reply_to_post_number is not None:
        _count_reply_to(topic, reply_to_post_number)
    timer_check = timers.pending_last_post_timer(topic.id) if rearm_last_post_timers else false()
    topic, has_last_post_timer = db.session.execute(
        update(Topic).where(Topic.id == topic.id).values(**values).returning(Topic, timer_check),
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).one()
    if has_last_post_timer:
        timers.rearm_after_post(topic.id, now)
    post = Post(
        topic_id=topic.id,
        user_id=author.id,
        post_number=topic.highest_assigned_post_number,
        reply_to_post_number=reply_to_post_number,
        raw=raw,
        cooked=cooked,
        post_type=post_type,
        action_code=action_code,
        created_at=now,
        updated_at=now,
    )
    db.session.add(post)
    db.session.flush()
    if post_type == PostType.REGULAR:
        events.publish_post_created(post.id, post.topic_id)
    else:
        events.publish_topic_changed(post.topic_id)
    return post


def create_reply(
    author: User, topic: Topic, *, raw: str, reply_to_post_number: int | None = None, auto_track: bool = True
) -> Post:
    """A reply; its author tracks the topic, unless not ``auto_track`` (Discourse's option of the same name)."""
    raw = validate_raw(raw)
    cooked = cook(raw)  # before the write unit: the topic row stays locked for as short a time as possible
    # keep_loaded: the topic is reloaded under its lock by the statement that numbers the post, and checked again
    # there; the author and topic as this request loaded them serve the first check and the response.
    with write_unit(db.session, keep_loaded=True):
        # What can be checked before the topic's lock is, so that a refused reply never queues for it.
        guardian.ensure_can_reply(author, topic)
        post = append_post(
            topic, author, raw=raw, cooked=cooked, reply_to_post_number=reply_to_post_number, rearm_last_post_timers=True
        )
        # Checked again on the locked row: the topic may have been closed since (a refusal rolls the post back).
        guardian.ensure_can_reply(author, topic)
        # Authors have read their own post, and track the topic they replied to.
        reading.advance_read_position(
            author.id, post.topic_id, post.post_number, 0, post.created_at,
            **reading.auto_level(reading.LEVEL_WHEN_REPLYING, NotificationReason.CREATED_POST, auto_track),
        )
        return post


def _count_reply_to(topic: Topic, post_number: int) -> None:
    """Count a reply on the post it answers, which must be a post of ``topic``. Before the topic's lock: a post's
    row is always locked before its topic's (a like counts on the post, then on the topic), or the two deadlock."""
    answered = db.session.scalar(
        update(Post)
        .where(Post.topic_id == topic.id, Post.post_number == post_number)
        .values(reply_count=Post.reply_count + 1)
        .returning(Post.id),
        execution_options={"synchronize_session": "fetch"},  # the answered post may be loaded: the reply's unit keeps it
    )
    if answered is None:
        raise ValidationFailed(f"reply_to_post_number {post_number} is not a post of this topic.")


def edit_post(
    editor: User, post: Post, *, raw: str, edit_reason: str | None = None, original_text: str | None = None, bump: bool = True
) -> Post:
    """Change a post's body, keeping what it said before as a revision. An unchanged body is a no-op.

    ``original_text``: the body the editor started from (Discourse's composer sends it); if the post has changed since,
    the edit is refused (409) rather than overwriting someone's changes. ``bump``: False for staff who fix the last post
    without bringing the topic up (Discourse's bypass_bump)."""
    # Permission before content, as Discourse's PostsController#update: someone who may not edit the post learns
    # that, not what its text would need. Checked again under the post's lock below.
    guardian.ensure_can_edit_post(editor, post)
    raw = validate_raw(raw)
    if edit_reason is not None and len(edit_reason) > MAX_EDIT_REASON_LENGTH:
        raise InvalidParameters(f"edit_reason is too long (maximum is {MAX_EDIT_REASON_LENGTH} characters).")
    # keep_loaded: the post is reloaded under its lock, and the answer shows it as this edit left it (an edit that
    # commits just after would otherwise show in this one's answer, text and version).
    with write_unit(db.session, keep_loaded=True):
        db.session.refresh(post, with_for_update=ROW_LOCK)  # two edits at once would both write the next revision
        guardian.ensure_can_edit_post(editor, post)
        if original_text is not None and original_text != post.raw:
            raise Conflict("This post was edited by someone else since you opened it: reload it, and edit it again.")
        if raw == post.raw:
            return post
        post.version += 1
        db.session.add(
            PostRevision(
                post_id=post.id,
                number=post.version,
                user_id=editor.id,
                raw_before=post.raw,
                raw_after=raw,
                edit_reason=edit_reason,
            )
        )
        post.raw = raw
        post.cooked = cook(raw)
        post.edit_reason = edit_reason
        post.updated_at = utcnow()
        # A new version of the topic's last post bumps the topic, as Discourse's PostRevisor does (an earlier post's
        # does not). After the post's lock, as every path takes the topic's.
        if bump or not guardian.can_skip_bump(editor):
            db.session.execute(
                update(Topic).where(Topic.id == post.topic_id, Topic.highest_post_number == post.post_number).values(bumped_at=post.updated_at),
                execution_options={"synchronize_session": False},
            )
        events.publish_post_edited(post.id, post.topic_id)
        if editor.id != post.user_id:
            audit.record(editor, "post.edit", post, after={"version": post.version, "edit_reason": edit_reason})
    return post


def delete_post(actor: User, post: Post) -> Post:
    """Soft-delete a post: its text is kept, hidden, and can be recovered."""
    if post.post_number == 1:
        topics.delete_topic(actor, post.topic)
        return post
    with write_unit(db.session):
        db.session.refresh(post, with_for_update=ROW_LOCK)  # two deletions at once would both count it out
        guardian.ensure_can_delete_post(actor, post)
        if post.is_deleted:
            return post
        settle_review_items_when_stored(post.id, actor.id)
        post.deleted_at = utcnow()
        post.deleted_by_id = actor.id
        _adjust_answered_reply_count(post, -1)
        _adjust_topic_counts(post, -1)
        audit.record(actor, "post.delete", post)
    return post


def recover_post(actor: User, post: Post) -> Post:
    if post.post_number == 1:
        topics.recover_topic(actor, post.topic)
        return post
    with write_unit(db.session):
        db.session.refresh(post, with_for_update=ROW_LOCK)
        guardian.ensure_can_recover_post(actor, post)
        if not post.is_deleted:
            return post
        post.deleted_at = None
        post.deleted_by_id = None
        _adjust_answered_reply_count(post, +1)
        _adjust_topic_counts(post, +1)
        events.publish_post_edited(post.id, post.topic_id)  # readable again: the bots read it again
        audit.record(actor, "post.recover", post)
    return post


def set_locked(actor: User, post: Post, locked: bool) -> Post:
    """Lock a post against its author's edits (staff still edit it), or unlock it; locking it twice changes nothing."""
    with write_unit(db.session):
        guardian.ensure_can_lock_post(actor)
        db.session.refresh(post, with_for_update=ROW_LOCK)
        if (post.locked_at is not None) == locked:
            return post
        post.locked_at = utcnow() if locked else None
        audit.record(actor, "post.lock" if locked else "post.unlock", post)
        events.publish_topic_changed(post.topic_id)  # its can_edit changes for its author
    return post


def settle_review_items_when_stored(post_id: int, deleted_by_id: int) -> None:
    """Settle the post's pending review items (review.settle_items_of_deleted) once its deletion is stored: in a unit
    of its own, so that a deletion never holds review items' rows while it waits for the topic's (a timer deleting the
    topic holds the topic's and waits for the items'). A failure there is logged and leaves the items pending, with
    no actions, on a deleted post."""
    after_commit(lambda: review.settle_items_of_deleted(deleted_by_id, reason=DELETED_POST_REASON, post_id=post_id), key=("settle", post_id))


def _adjust_answered_reply_count(post: Post, delta: int) -> None:
    """A deleted reply stops counting on the post it answers, as in Discourse; a recovered one counts again. Taken
    after the reply's row lock and before the topic's: a reply's row is always locked before the post it answers."""
    if post.reply_to_post_number is None:
        return
    db.session.execute(
        update(Post)
        .where(Post.topic_id == post.topic_id, Post.post_number == post.reply_to_post_number, Post.reply_count + delta >= 0)
        .values(reply_count=Post.reply_count + delta),
        execution_options={"synchronize_session": "fetch"},  # the answered post may be loaded in the session
    )


def _adjust_topic_counts(post: Post, delta: int) -> None:
    """Count the post and its likes out of (or back into) its topic, and make the topic's last post the last live one again, as
    Discourse's Topic.reset_highest: a deleted last post's author and time are no longer the topic's, and nobody is
    left with it unread."""
    counted = post.post_type != PostType.WHISPER
    values = {"posts_count": Topic.posts_count + (delta if counted else 0), **last_live_post_columns(post.topic_id)}
    if counted and post.like_count:
        # The topic's likes are its live posts' (Discourse's Topic#update_action_counts): the post's row lock, held
        # here, keeps its like_count still, and a deleted post cannot be liked or unliked.
        values["like_count"] = Topic.like_count + delta * post.like_count
    if post.post_type in REPLY_TYPES and post.post_number > 1:
        values["reply_count"] = Topic.reply_count + delta
    # The topic's lock first, in a statement of its own: the UPDATE's subqueries then read the posts as they are once
    # no reply is being written (a reply committed while the UPDATE waited would be missing from a snapshot taken before).
    db.session.execute(select(Topic.id).where(Topic.id == post.topic_id).with_for_update(**ROW_LOCK))
    db.session.execute(
        update(Topic).where(Topic.id == post.topic_id).values(**values),
        execution_options={"synchronize_session": False},
    )
    db.session.expire(post.topic)
    events.publish_topic_changed(post.topic_id)


def last_live_post_columns(topic_id: int) -> dict:
    """The topic's columns that name its last live post, as subqueries of an UPDATE of the topic (a post counted in or
    out, posts moved in time)."""
    live = (Post.topic_id == topic_id) & Post.deleted_at.is_(None)
    last_reply = select(Post).where(live, Post.post_type.in_(REPLY_TYPES)).order_by(Post.post_number.desc()).limit(1).subquery()
    return {
        "highest_post_number": func.coalesce(select(func.max(Post.post_number)).where(live, Post.post_type != PostType.WHISPER).scalar_subquery(), 0),
        "last_posted_at": func.coalesce(select(last_reply.c.created_at).scalar_subquery(), Topic.last_posted_at),
        "last_post_user_id": func.coalesce(select(last_reply.c.user_id).scalar_subquery(), Topic.last_post_user_id),
    }


# Reading. Every loader below runs a fixed number of queries, whatever the number of posts.

# Discourse's /posts.json page size, and its raw export's page size (PostsController).
LATEST_POSTS_LIMIT = 50
# Discourse's PostsController::MAX_POST_REPLIES: a post answered a hundred times is shown its replies a page at a time.
DIRECT_REPLIES_LIMIT = 20
RAW_EXPORT_PAGE_SIZE = 100


@dataclass(frozen=True)
class PostsContext:
    """What showing some posts to one viewer needs besides the posts: loaded in batches, never per post."""

    viewer: User | None
    users: dict[int, User]
    topics: dict[int, Topic]
    liked_post_ids: frozenset[int]
    # topic id -> the viewer's last read post number and notification level (Discourse's topic_users), for topics the
    # viewer opened or follows.
    last_read: dict[int, int]
    notification_levels: dict[int, int]
    bookmarks: "bookmarks.TopicBookmarks"

    def is_read(self, post: Post) -> bool:
        if self.viewer is None:
            return True  # as Discourse: nothing is unread for an anonymous reader
        return post.post_number <= self.last_read.get(post.topic_id, 0)


def load_context(
    viewer: User | None, posts: list[Post], *, loaded_topics: tuple[Topic, ...] = (), user_ids: tuple[int | None, ...] = ()
) -> PostsContext:
    """Authors (and ``user_ids``), topics, the viewer's likes, read positions, notification levels and bookmarks for
    ``posts`` (and ``loaded_topics``): at most five queries."""
    known_topics = {topic.id: topic for topic in loaded_topics}
    missing_topic_ids = {post.topic_id for post in posts} - known_topics.keys()
    if missing_topic_ids:
        known_topics.update((topic.id, topic) for topic in db.session.scalars(select(Topic).where(Topic.id.in_(missing_topic_ids))))
    users = users_by_id({post.user_id for post in posts} | set(user_ids))
    liked: frozenset[int] = frozenset()
    states = []
    marked = bookmarks.NO_BOOKMARKS
    if viewer is not None and (posts or loaded_topics):
        liked = post_actions.liked_post_ids(viewer, [post.id for post in posts])
        marked = bookmarks.in_topics(viewer, list(known_topics))
        states = db.session.execute(
            select(TopicUser.topic_id, TopicUser.last_read_post_number, TopicUser.notification_level).where(
                TopicUser.user_id == viewer.id, TopicUser.topic_id.in_(known_topics.keys())
            )
        ).all()
    last_read = {topic_id: last for topic_id, last, _ in states}
    levels = {topic_id: level for topic_id, _, level in states}
    return PostsContext(viewer, users, known_topics, liked, last_read, levels, marked)


def written_context(author: User, post: Post) -> PostsContext:
    """The context of a post its author has just written, known without a query: no one has liked it yet, and the
    author has read it."""
    return PostsContext(author, {author.id: author}, {post.topic_id: post.topic}, frozenset(), {post.topic_id: post.post_number}, {},
                        bookmarks.NO_BOOKMARKS)


def users_by_id(user_ids: set[int | None]) -> dict[int, User]:
    wanted = user_ids - {None}
    if not wanted:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def first_post(topic: Topic) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == 1))


def get_visible_post(viewer: User | None, post_id: int) -> Post:
    post = get_post(post_id)
    _ensure_can_see(viewer, post)
    return post


def get_visible_post_by_number(viewer: User | None, topic_id: int, post_number: int) -> Post:
    post = db.session.scalar(select(Post).where(Post.topic_id == topic_id, Post.post_number == post_number))
    if post is None:
        raise NotFound("That post does not exist.")
    _ensure_can_see(viewer, post)
    return post


def _ensure_can_see(viewer: User | None, post: Post) -> None:
    guardian.ensure_can_see_post(viewer, post)
    if post.post_type == PostType.WHISPER and not (viewer is not None and viewer.is_staff):
        raise NotFound("That post does not exist.")


@dataclass(frozen=True)
class Stream:
    """Every post of a topic that one viewer sees, in order, as parallel lists."""

    post_ids: list[int]
    post_numbers: list[int]
    has_deleted: bool


def stream(viewer: User | None, topic: Topic) -> Stream:
    """The viewer's stream of ``topic``, in one query.

    The driver's own tuples, unpacked column-wise: on a 10,000-post topic, building SQLAlchemy rows (or ORM
    objects, or timestamps) would cost more than the query and the rest of the view together.
    """
    result = db.session.connection().execute(
        select(Post.id, Post.post_number, Post.deleted_at.is_not(None))
        .where(Post.topic_id == topic.id, guardian.visible_posts(viewer))
        .order_by(Post.post_number)
    )
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    if not rows:
        return Stream([], [], False)
    post_ids, post_numbers, deleted = zip(*rows)
    return Stream(list(post_ids), list(post_numbers), any(deleted))


def posts_in_order(post_ids: list[int]) -> list[Post]:
    if not post_ids:
        return []
    return list(db.session.scalars(select(Post).where(Post.id.in_(post_ids)).order_by(Post.topic_id, Post.post_number)))


def visible_posts_of(viewer: User | None, topic: Topic, post_ids: list[int]) -> list[Post]:
    """The posts of ``topic`` among ``post_ids`` that the viewer sees, in order (others are left out)."""
    if not post_ids:
        return []
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.topic_id == topic.id, Post.id.in_(post_ids), guardian.visible_posts(viewer))
            .order_by(Post.post_number)
        )
    )


def latest_posts(viewer: User | None, before: int | None = None) -> list[Post]:
    """Discourse's /posts.json: the newest regular posts of topics the viewer may list, newest first."""
    query = (
        select(Post)
        .join(Topic, Topic.id == Post.topic_id)
        .where(
            guardian.listed_topics(viewer),
            Post.deleted_at.is_(None),
            Post.post_type == PostType.REGULAR,
        )
        .order_by(Post.id.desc())
        .limit(LATEST_POSTS_LIMIT)
    )
    if before is not None:
        query = query.where(Post.id < before)
    return list(db.session.scalars(query))


def direct_replies(viewer: User | None, post_id: int, after: int = 0) -> tuple[Post, list[Post]]:
    """A post the viewer sees, and the first ``DIRECT_REPLIES_LIMIT`` replies to it the viewer sees numbered after
    ``after``, in order (the client asks for the next ones from the last it shows)."""
    post = get_visible_post(viewer, post_id)
    return post, list(
        db.session.scalars(
            select(Post)
            .where(
                Post.topic_id == post.topic_id,
                Post.reply_to_post_number == post.post_number,
                Post.post_number > after,
                guardian.visible_posts(viewer),
            )
            .order_by(Post.post_number)
            .limit(DIRECT_REPLIES_LIMIT)
        )
    )


def raw_export(viewer: User | None, topic_id: int, page: int = 1) -> list[Post]:
    """One page of the posts whose Markdown Discourse's /raw/{topic_id} export shows the viewer."""
    topic = topics.get_visible_topic(viewer, topic_id)
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.topic_id == topic.id, guardian.visible_posts(viewer))
            .order_by(Post.post_number)
            .offset((page - 1) * RAW_EXPORT_PAGE_SIZE)
            .limit(RAW_EXPORT_PAGE_SIZE)
        )
    )


@dataclass(frozen=True)
class RevisionView:
    """One revision of a post, and where it sits among the post's revisions (numbered from 2)."""

    revision: PostRevision
    post: Post
    numbers: list[int]


def get_revision(viewer: User | None, post_id: int, number: int | None = None) -> RevisionView:
    """Revision ``number`` of a post the viewer sees (the latest one when None)."""
    if number is not None and number < 2:  # as Discourse: 1 is the post as first written, not a revision
        raise InvalidParameters("revision must be at least 2: revision 1 is the post as it was first written.")
    post = get_visible_post(viewer, post_id)
    guardian.ensure_can_see_edit_history(viewer, post)
    numbers = list(db.session.scalars(select(PostRevision.number).where(PostRevision.post_id == post.id).order_by(PostRevision.number)))
    if number is None and numbers:
        number = numbers[-1]
    if number not in numbers:
        raise NotFound("That revision does not exist.")
    revision = db.session.scalar(select(PostRevision).where(PostRevision.post_id == post.id, PostRevision.number == number))
    return RevisionView(revision, post, numbers)


# What a viewer may do with a post, as the serialisers show it (Discourse's can_edit, can_delete, ...).



def deleted_at(post: Post) -> datetime | None:
    """When the post was deleted: a topic's first post goes with its topic (deleting it deletes the topic, and
    recovering the topic recovers it), as Discourse's PostDestroyer trashes both."""
    if post.post_number == 1 and post.topic.is_deleted:
        return post.topic.deleted_at
    return post.deleted_at


def can_edit(viewer: User | None, post: Post) -> bool:
    return post.post_type != PostType.SMALL_ACTION and guardian.allows(guardian.ensure_can_edit_post, viewer, post)


def can_delete(viewer: User | None, post: Post) -> bool:
    if post.post_number == 1:  # deleting the first post deletes the topic (delete_post)
        return not post.topic.is_deleted and guardian.allows(guardian.ensure_can_delete_topic, viewer, post.topic)
    return not post.is_deleted and guardian.allows(guardian.ensure_can_delete_post, viewer, post)


def can_recover(viewer: User | None, post: Post) -> bool:
    if post.post_number == 1:
        return post.topic.is_deleted and guardian.allows(guardian.ensure_staff, viewer)
    return post.is_deleted and guardian.allows(guardian.ensure_can_recover_post, viewer, post)


def can_like(viewer: User | None, post: Post) -> bool:
    """May like (or unlike) the post; whether the viewer already did is the caller's to know."""
    return guardian.allows(guardian.ensure_can_like, viewer, post)
