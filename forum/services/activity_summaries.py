"""Activity summaries: Discourse's digest mail. A member away from the forum longer than their ``digest_after_minutes``
(a week by default) is mailed what they missed since they were last there: the new topics, the topics with new
replies and how many notifications wait unread; at most once in that span, and nothing when there is nothing to tell.
(Named apart from thread digests, services/digests.py, which are exports of one topic.)

Only topics the member may see and has not muted are told, and only posts by others they may read. Beat asks every
ACTIVITY_SUMMARY_INTERVAL seconds; a run claims the members due (recording the attempt in the same write unit, so two
workers never mail one member twice) and mails each their summary once the claim commits.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, func, or_, select, update

from forum.database import write_unit
from forum.extensions import db
from forum.models import Category, Post, PostType, Topic, TopicUser, User
from forum.models.base import utcnow
from forum.services import guardian, mail, notifications, reading, topic_lists, topics, unsubscribes, users
from forum.services.errors import InvalidParameters

logger = logging.getLogger(__name__)

# Discourse's digest_frequencies, in minutes, and how a mail names each.
FREQUENCIES = {30: "every 30 minutes", 60: "every hour", 1440: "every day", 10080: "every week",
               43200: "every month", 259200: "every six months"}
DEFAULT_FREQUENCY = 10080
MAX_TOPICS = 10  # of each kind a summary tells: the rest is on the forum's latest list
MIN_REACH = timedelta(days=7)  # how far back a summary may reach, when a member's span is shorter


@dataclass(frozen=True)
class SummaryTopic:
    topic: Topic
    excerpt: str  # of the opening post, for new topics; of nothing for the others
    new_posts: int  # by others, since the member was last there
    first_new_post_number: int

    @property
    def path(self) -> str:
        """Where to start reading: the topic, or its first new post when that is not the opening one."""
        return topics.topic_path(self.topic, self.first_new_post_number if self.first_new_post_number > 1 else None)


@dataclass(frozen=True)
class ActivitySummary:
    since: datetime
    new_topics: list[SummaryTopic]
    active_topics: list[SummaryTopic]
    unread_notifications: int

    def is_empty(self) -> bool:
        return not (self.new_topics or self.active_topics or self.unread_notifications)


def check_frequency(minutes: int) -> None:
    if minutes not in FREQUENCIES:
        raise InvalidParameters(
            "digest_after_minutes must be 0 (never) or one of " + ", ".join(map(str, FREQUENCIES)) + ".")


def send_due(limit: int) -> int:
    """Mail their summary to the members it is due to, at most ``limit`` of them; how many were due. The claim is one
    short write unit (so two workers never take one member); each summary is then made in a unit of its own, so one
    that fails costs only that member's (it is logged; the next is due a span later)."""
    now = utcnow()
    due = (select(User).where(_due(now), User.is_active, User.is_bot.is_(False), User.email.is_not(None))
           .order_by(User.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with write_unit(db.session):
        members = [(user.id, _since(user, now)) for user in db.session.scalars(due)]
        db.session.execute(update(User).where(User.id.in_([user_id for user_id, _ in members])).values(digest_attempted_at=now),
                           execution_options={"synchronize_session": False})
    for user_id, since in members:
        try:
            mail_summary(user_id, since)
        except Exception:  # whatever failed for one member (its unit rolled back) must not cost the rest theirs
            db.session.rollback()
            logger.exception("The activity summary of user %s could not be made", user_id)
    return len(members)


def mail_summary(user_id: int, since: datetime) -> bool:
    """Mail the member what happened since ``since``, if there is anything to tell and an address that reaches them;
    whether a mail was queued."""
    with write_unit(db.session):
        user = db.session.get(User, user_id)
        if user is None or not users.can_be_mailed(user):
            return False
        summary = summary_for(user, since)
        if summary.is_empty():
            return False
        unsubscribe = unsubscribes.link_for(user, unsubscribes.MailKind.ACTIVITY_SUMMARIES)
        mail.queue(user.email, "activity_summary", headers=unsubscribes.headers_for(unsubscribe), user=user,
                   summary=summary, categories=_category_names(summary), base=current_app.config["BASE_URL"],
                   unsubscribe=unsubscribe, frequency=FREQUENCIES[user.digest_after_minutes])
    return True


def _due(now: datetime) -> ColumnElement[bool]:
    """Members who want summaries, away for their span and not summarised within it: one condition per frequency, so
    the arithmetic on times is the database's own on both backends."""
    last_there = func.coalesce(User.last_seen_at, User.created_at)
    return User.email_digests.is_(True) & or_(*(
        (User.digest_after_minutes == minutes) & (last_there <= now - timedelta(minutes=minutes))
        & (User.digest_attempted_at.is_(None) | (User.digest_attempted_at <= now - timedelta(minutes=minutes)))
        for minutes in FREQUENCIES))


def _since(user: User, now: datetime) -> datetime:
    """The member has missed what came after they were last there, or were last summarised, whichever is later; never
    more than a span back (a week at the least), so one back after a long absence gets the latest of it."""
    last_there = user.last_seen_at or user.created_at
    since = max(last_there, user.digest_attempted_at) if user.digest_attempted_at else last_there
    return max(since, now - max(timedelta(minutes=user.digest_after_minutes), MIN_REACH))


def summary_for(user: User, since: datetime) -> ActivitySummary:
    """What happened since ``since`` that ``user`` may see: topics others started, and the other topics others posted
    in, the busiest first; and their unread notifications."""
    new_posts = (
        select(Post.topic_id, func.count().label("count"), func.min(Post.post_number).label("first"))
        .where(Post.created_at > since, Post.user_id != user.id, Post.deleted_at.is_(None),
               Post.post_type == PostType.REGULAR, guardian.readable_post_texts(user))
        .group_by(Post.topic_id).subquery()
    )
    started_by_others = (Topic.created_at > since) & (Topic.user_id != user.id)

    def busiest(kind: ColumnElement[bool]) -> list:
        return db.session.execute(
            select(Topic, new_posts.c.count, new_posts.c.first)
            .join(new_posts, new_posts.c.topic_id == Topic.id)
            .outerjoin(TopicUser, reading.read_state_join(user))
            .where(guardian.listed_topics(user), reading.not_muted(user), kind)
            .order_by(new_posts.c.count.desc(), Topic.like_count.desc(), Topic.bumped_at.desc(), Topic.id.desc())
            .limit(MAX_TOPICS)
        ).all()

    started, continued = busiest(started_by_others), busiest(~started_by_others)
    excerpts = topic_lists.opening_excerpts(user, [topic.id for topic, _, _ in started])
    return ActivitySummary(
        since=since,
        new_topics=[SummaryTopic(topic, excerpts.get(topic.id, ""), count, first) for topic, count, first in started],
        active_topics=[SummaryTopic(topic, "", count, first) for topic, count, first in continued],
        unread_notifications=notifications.unread_count(user),
    )


def _category_names(summary: ActivitySummary) -> dict[int, str]:
    ids = {item.topic.category_id for item in summary.new_topics + summary.active_topics if item.topic.category_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Category.id, Category.name).where(Category.id.in_(ids))).all())
