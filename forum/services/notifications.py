"""Telling members about the posts that concern them (Discourse's PostAlerter), and their notifications list.

A post notifies, at most once each: the members it @mentions, the author of the post it replies to, the people of a
private message, and the members watching its topic; never its own author, nor a member who muted the topic or may not
open it. An edit tells only the members it newly mentions. Sent by a task once the post has committed (bots.tasks.notify_about_post), off the request
that wrote it: a post in a topic with many watchers must not hold the topic's lock while they are told. A post whose
task the broker refused tells no one (there is no backfill, as the tactics bot has). A like tells the post's author,
in the like's own write unit (notify_liked); an invitation its invitee, in the invitation's (notify_invited). Each
notification is mailed as its member's email_level asks: at once, or only while still unread a while later, or never
(email_notification).
"""
import json
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, Select, Text, cast, func, select, update

from forum.content.text import excerpt, mentioned_usernames
from forum.database import ROW_LOCK, after_commit, write_unit
from forum.extensions import db
from forum.models import Bookmark, EmailLevel, Notification, NotificationLevel, NotificationType, Post, PostType, Topic, TopicUser, User
from forum.models.base import utcnow
from forum.services import guardian, mail, topics, unsubscribes, users
from forum.services.errors import NotFound

# As Discourse's max_mentions_per_post: the mentions past it notify nobody.
MAX_MENTIONS_PER_POST = 10
# The most of a post a notification's mail quotes: the rest is a link away.
MAILED_EXCERPT_LENGTH = 1000
# Notifications a page of GET /notifications.json holds, and the most the recent list (the menu) shows.
PAGE_SIZE = 60
MAX_RECENT = 50
DEFAULT_RECENT = 15


def notify_about_post(post_id: int, *, edited: bool = False) -> int:
    """Send the notifications ``post_id`` owes (only new mentions after an edit); how many were sent. Running it twice
    sends nothing more: a member already told about the post is not told again."""
    with write_unit(db.session):
        post = db.session.get(Post, post_id)
        if post is None or post.is_deleted or post.hidden_at is not None or post.post_type != PostType.REGULAR:
            return 0
        topic = post.topic
        if topic.is_deleted:
            return 0
        reasons = _reasons(post, topic, edited=edited)
        reasons.pop(post.user_id, None)
        if not reasons:
            return 0
        told = set(db.session.scalars(select(Notification.user_id).where(
            Notification.topic_id == topic.id, Notification.post_number == post.post_number, Notification.user_id.in_(reasons),
            _about_the_post())))
        skipped = told | _muted(topic.id, reasons)
        recipients = guardian.topic_readers(topic, [user_id for user_id in reasons if user_id not in skipped])
        data = _about(post, db.session.get(User, post.user_id).username)
        created = [Notification(user_id=user_id, notification_type=reasons[user_id], topic_id=topic.id,
                                post_number=post.post_number, data=data) for user_id in sorted(recipients)]
        db.session.add_all(created)
        db.session.flush()
        _mail_later(created)
        return len(created)


def _mail_later(created: list[Notification]) -> None:
    """Have a worker mail each new notification as its member's email_level asks: at once (always), or once
    NOTIFICATION_EMAIL_DELAY has passed, if still unread then (only when away, Discourse's default)."""
    if not created:
        return
    levels = dict(db.session.execute(select(User.id, User.email_level).where(User.id.in_([item.user_id for item in created]))).all())
    delay = current_app.config["NOTIFICATION_EMAIL_DELAY"]
    plan = [(item.id, 0 if levels[item.user_id] == EmailLevel.ALWAYS else delay)
            for item in created if levels[item.user_id] != EmailLevel.NEVER]
    if plan:
        after_commit(lambda: _hand_to_worker(plan))


def _hand_to_worker(plan: list[tuple[int, int]]) -> None:
    from bots.tasks import email_notification  # the tasks import the services

    for notification_id, countdown in plan:
        email_notification.apply_async((notification_id,), countdown=countdown)


# What a notification's mail says its post's author did.
MAILED_DEEDS = {NotificationType.MENTIONED: "mentioned you in", NotificationType.REPLIED: "replied to you in",
                NotificationType.PRIVATE_MESSAGE: "wrote to you in", NotificationType.POSTED: "posted in",
                NotificationType.INVITED_TO_PRIVATE_MESSAGE: "invited you to the private message",
                NotificationType.INVITED_TO_TOPIC: "invited you to"}


def email_notification(notification_id: int) -> bool:
    """Mail one notification to its member, once, unless it no longer concerns them: they read it or its post meanwhile
    (only when away), muted the topic, chose never to be mailed, have no address that reaches them, or may no longer
    read the post (deleted, hidden by flags, in a topic closed to them). Whether it was mailed."""
    with write_unit(db.session):
        item = db.session.get(Notification, notification_id, with_for_update=ROW_LOCK, populate_existing=True)
        if item is None or item.emailed_at is not None:
            return False
        user = db.session.get(User, item.user_id)
        if user.email_level == EmailLevel.NEVER or not user.is_active or not users.can_be_mailed(user):
            return False
        if user.email_level == EmailLevel.ONLY_WHEN_AWAY and (item.read or _read_up_to(user.id, item.topic_id) >= item.post_number):
            return False
        if _muted(item.topic_id, [user.id]) or db.session.scalar(_visible(user, Notification.id).where(Notification.id == item.id)) is None:
            return False
        post = db.session.scalar(select(Post).where(Post.topic_id == item.topic_id, Post.post_number == item.post_number))
        if not guardian.can_read_post_text(user, post):  # hidden by flags since
            return False
        topic = post.topic
        item.emailed_at = utcnow()
        unsubscribe = unsubscribes.link_for(user)
        mail.queue(user.email, "notification", headers=unsubscribes.headers_for(unsubscribe), user=user, topic=topic, author=item.data["display_username"],
                   deed=MAILED_DEEDS[item.notification_type], excerpt=excerpt(post.cooked, MAILED_EXCERPT_LENGTH),
                   unsubscribe=unsubscribe, link=current_app.config["BASE_URL"] + topics.topic_path(topic, post.post_number))
    return True


def _read_up_to(user_id: int, topic_id: int) -> int:
    """The last post number of the topic the member has read (0: none)."""
    return db.session.scalar(select(TopicUser.last_read_post_number).where(
        TopicUser.user_id == user_id, TopicUser.topic_id == topic_id)) or 0


def _muted(topic_id: int, user_ids) -> set[int]:
    """Of ``user_ids``, those who muted the topic."""
    return set(db.session.scalars(select(TopicUser.user_id).where(
        TopicUser.topic_id == topic_id, TopicUser.notification_level == NotificationLevel.MUTED, TopicUser.user_id.in_(user_ids))))


def _about(post: Post, username: str) -> dict:
    """A notification's data (Discourse's): the post, its topic's title, and the member it names (who wrote or liked)."""
    return {
        "topic_title": post.topic.title,
        "original_post_id": post.id,
        "original_post_type": int(post.post_type),
        "original_username": username,
        "display_username": username,
    }


def notify_liked(post: Post, liker: User) -> None:
    """Tell a post's author of a like: one notification per post, naming the last two likers and counting them all
    (Discourse's consolidated "liked"). A like from someone it does not name yet replaces it with a newer one, so that
    it is unread again. Call inside the like's write unit, after the like is counted: it holds the post's row lock, so
    two likes at once renew it in turn."""
    if post.user_id == liker.id or post.post_type != PostType.REGULAR or _muted(post.topic_id, [post.user_id]):
        return
    earlier = _authors_notification(post)
    if earlier is not None and earlier.notification_type != NotificationType.LIKED:
        return  # the author's own post never tells them anything else; nothing to renew
    if earlier is not None and liker.username in _likers_named(earlier):
        earlier.data = earlier.data | {"count": post.like_count}  # a like taken back and given again: no news
        return
    data = _about(post, liker.username) | {"count": post.like_count}
    if earlier is not None:
        data["username2"] = earlier.data["display_username"]
        db.session.delete(earlier)
        db.session.flush()  # the post's one notification row is free again
    db.session.add(Notification(user_id=post.user_id, notification_type=NotificationType.LIKED, topic_id=post.topic_id,
                                post_number=post.post_number, data=data))


def withdraw_like(post: Post, unliker: User) -> None:
    """A like taken back: the author's "liked" notification counts one fewer, no longer names the one who took it
    back, and goes when no like is left. Call inside the unlike's write unit, after the like is uncounted."""
    earlier = _authors_notification(post)
    if earlier is None or earlier.notification_type != NotificationType.LIKED:
        return
    if post.like_count == 0:
        db.session.delete(earlier)
        return
    names = [name for name in _likers_named(earlier) if name != unliker.username]
    data = {key: value for key, value in earlier.data.items() if key != "username2"} | {"count": post.like_count}
    if names:
        data |= {"display_username": names[0], "original_username": names[0]} | ({"username2": names[1]} if len(names) > 1 else {})
    earlier.data = data


def _authors_notification(post: Post) -> Notification | None:
    """The one notification the post's author may have about it."""
    return db.session.scalar(select(Notification).where(
        Notification.user_id == post.user_id, Notification.topic_id == post.topic_id, Notification.post_number == post.post_number,
        _about_the_post()))


def notify_invited(topic: Topic, invitee: User, inviter: User) -> bool:
    """Tell a member they were invited to a topic (Discourse's invited_to_topic, or invited_to_private_message), about
    its opening post: not when they muted the topic, nor when a notification about that post told them of it already
    (one per post). Call inside the invitation's write unit. Whether they were told."""
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == 1))
    told = db.session.scalar(select(Notification.id).where(
        Notification.user_id == invitee.id, Notification.topic_id == topic.id, Notification.post_number == 1, _about_the_post()))
    if opening is None or told is not None or _muted(topic.id, [invitee.id]):
        return False
    kind = NotificationType.INVITED_TO_PRIVATE_MESSAGE if topic.is_private_message else NotificationType.INVITED_TO_TOPIC
    item = Notification(user_id=invitee.id, notification_type=kind, topic_id=topic.id, post_number=1,
                        data=_about(opening, inviter.username))
    db.session.add(item)
    db.session.flush()
    _mail_later([item])
    return True


def remind_of_bookmark(bookmark: Bookmark, owner: User, topic: Topic, post_number: int, url: str) -> None:
    """A bookmark's reminder is due: tell its member (Discourse's bookmark_reminder). Call inside the write unit that
    claimed it."""
    data = {"topic_title": topic.title, "display_username": owner.username, "bookmark_id": bookmark.id,
            "bookmark_name": bookmark.name, "bookmarkable_type": bookmark.bookmarkable_type, "bookmarkable_url": url}
    db.session.add(Notification(user_id=owner.id, notification_type=NotificationType.BOOKMARK_REMINDER, topic_id=topic.id,
                                post_number=post_number, data=data))


def _about_the_post() -> ColumnElement[bool]:
    """The notifications a post gives a member, one at most (a bookmark's reminder of it comes besides)."""
    return Notification.notification_type != NotificationType.BOOKMARK_REMINDER


def _likers_named(notification: Notification) -> list[str]:
    return [name for name in (notification.data.get("display_username"), notification.data.get("username2")) if name]


# The keys of a notification's data that name a member.
USERNAME_KEYS = ("original_username", "display_username", "username2")


def rename_member(old: str, new: str) -> None:
    """A member renamed (anonymized) leaves no trace of their old username in others' notifications. Call inside the
    rename's write unit."""
    named = cast(Notification.data, Text).contains(json.dumps(old), autoescape=True)
    for item in db.session.scalars(select(Notification).where(named)):
        item.data = {key: new if key in USERNAME_KEYS and value == old else value for key, value in item.data.items()}


def _reasons(post: Post, topic: Topic, *, edited: bool) -> dict[int, NotificationType]:
    """Who the post concerns and why, the most telling reason first: mentioned, replied to, among those a private
    message is to, watching."""
    mentioned = mentioned_usernames(post.cooked)[:MAX_MENTIONS_PER_POST]
    reasons: dict[int, NotificationType] = {}
    if mentioned:
        for user_id in db.session.scalars(select(User.id).where(User.username_lower.in_(mentioned), User.is_bot.is_(False))):
            reasons[user_id] = NotificationType.MENTIONED
    if edited:
        return reasons
    if post.reply_to_post_number is not None:
        replied_to = db.session.scalar(select(Post.user_id).where(
            Post.topic_id == topic.id, Post.post_number == post.reply_to_post_number, Post.deleted_at.is_(None)))
        if replied_to is not None:
            reasons.setdefault(replied_to, NotificationType.REPLIED)
    if topic.is_private_message:
        for user_id in db.session.scalars(guardian.people_of(topic)):
            reasons.setdefault(user_id, NotificationType.PRIVATE_MESSAGE)
    watchers = select(TopicUser.user_id).where(TopicUser.topic_id == topic.id, TopicUser.notification_level == NotificationLevel.WATCHING)
    for user_id in db.session.scalars(watchers):
        reasons.setdefault(user_id, NotificationType.POSTED)
    return reasons


@dataclass(frozen=True)
class NotificationPage:
    user: User
    notifications: list[tuple[Notification, Topic]]
    total: int | None  # None for the recent list, which does not count them
    offset: int
    seen_notification_id: int


def _visible(user: User, *columns) -> Select:
    """``columns`` of the notifications of ``user`` about posts they may still read: in topics they may open, neither
    deleted since (not even for staff, as Discourse's)."""
    live_post = select(Post.id).where(
        Post.topic_id == Notification.topic_id, Post.post_number == Notification.post_number, Post.deleted_at.is_(None)
    ).exists()
    return select(*columns).join(Topic, Topic.id == Notification.topic_id).where(
        Notification.user_id == user.id, Topic.deleted_at.is_(None), guardian.readable_topics(user), live_post)


def list_notifications(actor: User | None, username: str | None, *, offset: int = 0) -> NotificationPage:
    """A page of ``username``'s notifications (the actor's own when None), newest first."""
    guardian.ensure_can_act(actor)
    user = actor if username is None else users.get_by_username(username)
    guardian.ensure_can_see_personal(actor, user, "notifications")
    total = db.session.scalar(_visible(user, func.count(Notification.id)))
    rows = db.session.execute(_visible(user, Notification, Topic).order_by(Notification.id.desc()).offset(offset).limit(PAGE_SIZE)).all()
    return NotificationPage(user, list(rows), total, offset, user.seen_notification_id)


def recent_notifications(actor: User | None, *, limit: int = DEFAULT_RECENT, mark_seen: bool = True) -> NotificationPage:
    """The actor's newest notifications, as their notifications menu shows them; opening the menu has seen them
    (Discourse's seen_notification_id), unless ``mark_seen`` is false (Discourse's ``silent``)."""
    guardian.ensure_can_act(actor)
    rows = db.session.execute(
        _visible(actor, Notification, Topic).order_by(Notification.id.desc()).limit(min(max(limit, 1), MAX_RECENT))).all()
    seen = actor.seen_notification_id
    if mark_seen and rows and rows[0][0].id > seen:
        seen = rows[0][0].id
        with write_unit(db.session):
            _saw(actor, seen)
    return NotificationPage(actor, list(rows), None, 0, seen)


def mark_read(actor: User | None, notification_id: int | None = None) -> None:
    """Mark one of the actor's notifications read, or all of them (which has seen them all too)."""
    guardian.ensure_can_act(actor)
    with write_unit(db.session):
        mine = Notification.user_id == actor.id
        if notification_id is not None:
            if not db.session.execute(update(Notification).where(mine, Notification.id == notification_id).values(read=True)).rowcount:
                raise NotFound("That notification does not exist.")
            return
        db.session.execute(update(Notification).where(mine, Notification.read.is_(False)).values(read=True))
        _saw(actor, db.session.scalar(select(func.max(Notification.id)).where(mine)) or 0)


def _saw(user: User, notification_id: int) -> None:
    """The user has seen their notifications up to ``notification_id`` (never back: another request saw newer)."""
    db.session.execute(update(User).where(User.id == user.id, User.seen_notification_id < notification_id)
                       .values(seen_notification_id=notification_id))


def unread_count(user: User) -> int:
    """Unread notifications newer than the last the user saw, as Discourse's current user counts them."""
    return db.session.scalar(_visible(user, func.count(Notification.id)).where(
        Notification.read.is_(False), Notification.id > user.seen_notification_id))
