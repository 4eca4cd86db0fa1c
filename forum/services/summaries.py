"""Topic summaries: the key points of a thread, each citing the post it was copied from.

One stored summary per topic, with the highest post number it read and a hash of what it read. New,
edited, deleted or hidden posts make it outdated; beat's scan queues a new one once the topic has been
quiet for a while (or has waited too long), so a busy thread is not summarised on every post, and
backfills topics that have none within an hourly budget. Posts of authors who opted out of bots, deleted
and hidden posts, whispers and small actions are never read.
"""
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, func, or_, select

from bots import summaries as summary_algorithm
from forum.content.text import subject_and_body
from forum.database import write_unit
from forum.extensions import db
from forum.models import Archetype, Post, PostType, Topic, TopicSummary, User
from forum.models.base import utcnow
from forum.services import guardian, topics
from forum.content.markdown import escape_markdown

MAX_SCAN_TOPICS = 100  # topics queued per scan; the next scan takes the rest
# Length: about what human summaries of short threads have (65 words, ConvoSumm's mean), growing with the
# thread up to what a late joiner reads in a minute.
BASE_WORDS, WORDS_PER_POST, MAX_WORDS = 65, 5, 200


def summary_length(post_count: int) -> int:
    return min(MAX_WORDS, BASE_WORDS + WORDS_PER_POST * post_count)


@dataclass(frozen=True)
class SummaryInput:
    title: str
    posts: list[summary_algorithm.ThreadPost]
    content_hash: str
    highest_post_number: int


def summary_input(topic: Topic) -> SummaryInput:
    """What the summariser may read of ``topic``: one query, whatever the length."""
    rows = db.session.execute(
        _readable_posts(topic.id, Post.post_number, Post.cooked, Post.reply_to_post_number, User.username).order_by(Post.post_number)
    ).all()
    digest = hashlib.sha256(topic.title.encode())
    thread = []
    for row in rows:
        subject, body = subject_and_body(row.cooked, without_quotes=True)
        digest.update(f"\0{row.post_number}\0{row.username}\0{row.cooked}".encode())
        thread.append(
            summary_algorithm.ThreadPost(
                post_number=row.post_number,
                author=row.username,
                text=body,
                reply_to_post_number=row.reply_to_post_number,
                subject=subject,
            )
        )
    return SummaryInput(topic.title, thread, digest.hexdigest(), topic.highest_post_number)


def _readable_posts(topic_id: int, *columns):
    """The posts of the topic that the summariser may read and quote: regular, live, not hidden, by an author who
    has not opted out of bots."""
    return (
        select(*columns)
        .join(User, User.id == Post.user_id)
        .where(
            Post.topic_id == topic_id,
            Post.post_type == PostType.REGULAR,
            Post.deleted_at.is_(None),
            Post.hidden_at.is_(None),
            User.bot_opt_out.is_(False),
        )
    )


def summarize_topic(topic_id: int) -> TopicSummary | None:
    """Summarise the topic now and store it; unchanged input keeps the stored key points (and marks
    them current). Running it twice stores the same summary once."""
    topic = db.session.get(Topic, topic_id)
    if topic is None or topic.is_deleted or topic.is_private_message:  # no bot reads what was written to a few
        return None
    source = summary_input(topic)
    with write_unit(db.session):
        stored = db.session.get(TopicSummary, topic_id, with_for_update=True)
        if not source.posts:  # nothing left that bots may read
            if stored is not None:
                db.session.delete(stored)
            return None
        if stored is None or stored.content_hash != source.content_hash:
            result = summary_algorithm.summarize(source.title, source.posts, max_words=summary_length(len(source.posts)))
            key_points = [{"text": point.text, "post_numbers": list(point.post_numbers)} for point in result.key_points]
            values = {
                "algorithm": result.algorithm,
                "key_points": key_points,
                "summarized_text": summary_markdown(topic, key_points),
                "content_hash": source.content_hash,
            }
            if stored is None:
                stored = TopicSummary(topic_id=topic_id, created_at=utcnow(), **values)
                db.session.add(stored)
            else:
                for name, value in values.items():
                    setattr(stored, name, value)
        stored.highest_post_number = source.highest_post_number
        stored.updated_at = utcnow()
    return stored


def summary_markdown(topic: Topic, key_points: list[dict]) -> str:
    """The key points as a Markdown list, each linking the post(s) it came from. Sentences are escaped:
    what a member wrote cannot add structure or links to the summary."""
    lines = []
    for point in key_points:
        links = ", ".join(f"[#{number}]({topics.topic_path(topic, number)})" for number in point["post_numbers"])
        lines.append(f"- {escape_markdown(point['text'])} ({links})")
    return "\n".join(lines)


@dataclass(frozen=True)
class SummaryView:
    summary: TopicSummary
    key_points: list[dict]
    summarized_text: str
    outdated: bool
    new_posts_since_summary: int


def summary_for(viewer: User | None, topic_id: int, *, regenerate: bool = False) -> SummaryView | None:
    """The topic's summary as ``viewer`` may see it (made now if there is none yet, or if asked to).

    Only the key points whose post may still be quoted: one deleted, hidden or by an author who opted out since
    the summary was made is left out, with its citations, until beat's scan makes the summary again."""
    topic = topics.get_visible_topic(viewer, topic_id)
    if regenerate:
        guardian.ensure_can_act(viewer)
    stored = db.session.get(TopicSummary, topic.id)
    if stored is None or regenerate:
        stored = summarize_topic(topic.id)
        if stored is None:
            return None
    key_points, summarized_text = _quotable_key_points(topic, stored)
    outdated = is_outdated(topic, stored)
    return SummaryView(stored, key_points, summarized_text, outdated, max(0, topic.highest_post_number - stored.highest_post_number))


def _quotable_key_points(topic: Topic, summary: TopicSummary) -> tuple[list[dict], str]:
    """The summary's key points copied from posts that may still be quoted (a point's first post is the one it was
    copied from), each citing only such posts, and their Markdown."""
    cited = {number for point in summary.key_points for number in point["post_numbers"]}
    quotable = set(db.session.scalars(_readable_posts(topic.id, Post.post_number).where(Post.post_number.in_(cited))))
    if cited <= quotable:
        return summary.key_points, summary.summarized_text
    key_points = [
        {**point, "post_numbers": [number for number in point["post_numbers"] if number in quotable]}
        for point in summary.key_points
        if point["post_numbers"] and point["post_numbers"][0] in quotable
    ]
    return key_points, summary_markdown(topic, key_points)


def is_outdated(topic: Topic, summary: TopicSummary) -> bool:
    if topic.highest_post_number > summary.highest_post_number:
        return True
    return bool(db.session.scalar(select(_posts_changed_since(topic.id, summary.updated_at))))


def _posts_changed_since(topic_id, since):
    """Whether a post of the topic was edited, deleted or hidden after ``since`` (values, or columns of an
    enclosing query)."""
    return exists().where(
        Post.topic_id == topic_id,
        or_(Post.updated_at > since, Post.deleted_at > since, Post.hidden_at > since),
    )


def topics_to_summarize() -> list[int]:
    """Topics whose summary is outdated and quiet (or waited too long), then topics with none yet that
    have enough posts, within the hourly backfill budget."""
    config = current_app.config
    now = utcnow()
    quiet_since = now - timedelta(seconds=config["SUMMARY_QUIET_SECONDS"])
    stale_before = now - timedelta(seconds=config["SUMMARY_MAX_STALE_SECONDS"])
    changed = or_(
        Topic.highest_post_number > TopicSummary.highest_post_number,
        _posts_changed_since(Topic.id, TopicSummary.updated_at),
    )
    outdated = list(
        db.session.scalars(
            select(Topic.id)
            .join(TopicSummary, TopicSummary.topic_id == Topic.id)
            .where(
                Topic.deleted_at.is_(None),
                Topic.archetype == Archetype.REGULAR,
                changed,
                or_(Topic.bumped_at <= quiet_since, TopicSummary.updated_at <= stale_before),
            )
            .order_by(TopicSummary.updated_at)
            .limit(MAX_SCAN_TOPICS)
        )
    )
    made_this_hour = db.session.scalar(select(func.count()).where(TopicSummary.created_at > now - timedelta(hours=1)))
    budget = min(config["SUMMARY_BACKFILL_PER_HOUR"] - made_this_hour, MAX_SCAN_TOPICS - len(outdated))
    missing = []
    if budget > 0:
        missing = list(
            db.session.scalars(
                select(Topic.id)
                .outerjoin(TopicSummary, TopicSummary.topic_id == Topic.id)
                .where(
                    TopicSummary.topic_id.is_(None),
                    Topic.deleted_at.is_(None),
                    Topic.archetype == Archetype.REGULAR,
                    Topic.posts_count >= config["SUMMARY_MIN_POSTS"],
                    Topic.bumped_at <= quiet_since,
                )
                .order_by(Topic.bumped_at.desc())
                .limit(budget)
            )
        )
    return outdated + missing
