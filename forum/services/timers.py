"""Topic timers: setting them (Discourse's POST /t/{id}/timer), claiming due ones, firing each once.

The database holds every schedule; beat only nudges a scan. A scan claims due timers with one
atomic UPDATE (PostgreSQL: over rows picked FOR UPDATE SKIP LOCKED; SQLite: its single writer), so two
scans never claim one timer. Firing locks the timer row and acts only on a claimed timer, so a fire
task that runs twice (redelivery, a re-claimed lease, two workers) acts once. A claim whose fire task
was lost (worker killed, broker restarted) expires after TIMER_CLAIM_LEASE_SECONDS and is claimed again.
"""
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, exists, or_, select, update

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import Category, TimerState, TimerType, Topic, TopicTimer, User
from forum.models.base import parse_utc, utcnow
from forum.services import audit, bots, events, guardian, topics
from forum.services.errors import InvalidParameters, NotAllowed, ServiceError

# The furthest a timer may be set in hours (ten years): past it, "hours from now" is a mistake, not a plan.
MAX_HOURS = 24 * 365 * 10

# What firing each kind of timer does: (topic status, enabled, Discourse's small-action code, silent).
_ACTIONS = {
    TimerType.CLOSE: ("closed", True, "autoclosed.enabled", False),
    TimerType.SILENT_CLOSE: ("closed", True, None, True),
    TimerType.OPEN: ("closed", False, "autoclosed.disabled", False),
}


def parse_time(value: str | float | None, now: datetime) -> datetime | None:
    """Discourse's `time`: hours from now (a number), an ISO 8601 timestamp, or empty (no timer)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        hours = float(text)
    except ValueError:
        pass
    else:
        if not 0 < hours <= MAX_HOURS:  # NaN too
            raise InvalidParameters(f"time must be a positive number of hours (at most {MAX_HOURS}) or a future timestamp.")
        return now + timedelta(hours=hours)
    try:
        moment = parse_utc(text)
    except ValueError:
        raise InvalidParameters(f"time {text!r} is neither a number of hours nor an ISO 8601 timestamp.") from None
    if moment <= now:
        raise InvalidParameters("time must be in the future.")
    return moment


# A timer not yet carried out: waiting, or due and claimed by the scan (its fire task may not have run yet).
WAITING = (TimerState.PENDING, TimerState.CLAIMED)


def pending_timer(topic: Topic) -> TopicTimer | None:
    """The topic's Discourse timer (not its dialogue-schedule timers), if one is waiting or about to fire."""
    return db.session.scalar(_waiting_topic_timers(topic))


def _waiting_topic_timers(topic: Topic):
    return select(TopicTimer).where(TopicTimer.topic_id == topic.id, TopicTimer.schedule_id.is_(None), TopicTimer.state.in_(WAITING))


def set_topic_timer(
    actor: User,
    topic: Topic,
    *,
    status_type: str,
    time: str | float | None = None,
    based_on_last_post: bool = False,
    duration_minutes: int | None = None,
) -> TopicTimer | None:
    """Replace the topic's timer; an empty ``time`` (and no duration) cancels it. Staff only."""
    guardian.ensure_can_change_topic_status(actor)
    if status_type not in tuple(TimerType):
        raise InvalidParameters(f"status_type must be one of {', '.join(TimerType)}.")
    now = utcnow()
    if based_on_last_post:
        if duration_minutes is None and time not in (None, ""):
            hours = float(time) if _is_number(time) else math.nan
            duration_minutes = round(hours * 60) if 0 < hours <= MAX_HOURS else None
        if duration_minutes is None or not 0 < duration_minutes <= MAX_HOURS * 60:
            raise InvalidParameters(f"based_on_last_post needs a positive duration_minutes (or time in hours), at most {MAX_HOURS} hours.")
        execute_at = (topic.last_posted_at or now) + timedelta(minutes=duration_minutes)
        execute_at = max(execute_at, now)
    else:
        duration_minutes = None
        execute_at = parse_time(time, now)
    with write_unit(db.session):
        # The topic's row first, as a timer firing takes it: two requests at once each replace the other's timer
        # instead of both finding none, and a timer claimed to fire is cancelled before it fires or after it has.
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        events.publish_topic_changed(topic.id)  # readers see the pending timer
        previous_timers = db.session.scalars(_waiting_topic_timers(topic).order_by(TopicTimer.id).with_for_update()).all()
        for previous in previous_timers:  # a claimed one too: fire_timer carries out only what is still claimed
            previous.state = TimerState.CANCELLED
            previous.cancelled_at = now
            audit.record(actor, "topic_timer.cancel", previous, context={"topic_id": topic.id})
        if execute_at is None:
            return None
        timer = TopicTimer(
            topic_id=topic.id,
            user_id=actor.id,
            status_type=status_type,
            execute_at=execute_at,
            based_on_last_post=based_on_last_post,
            duration_minutes=duration_minutes,
        )
        db.session.add(timer)
        db.session.flush()
        audit.record(actor, "topic_timer.set", timer, after=_describe(timer), context={"topic_id": topic.id})
    return timer


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _describe(timer: TopicTimer) -> dict:
    return {
        "status_type": timer.status_type,
        "execute_at": timer.execute_at.isoformat(),
        "based_on_last_post": timer.based_on_last_post,
        "duration_minutes": timer.duration_minutes,
    }


def apply_category_default(topic: Topic, category: Category | None) -> None:
    """A new topic in a category with auto-close hours gets a close timer, set by the system user."""
    if category is None or not category.auto_close_hours:
        return
    minutes = round(category.auto_close_hours * 60)
    db.session.add(
        TopicTimer(
            topic_id=topic.id,
            user_id=bots.system_user().id,
            status_type=TimerType.CLOSE,
            execute_at=utcnow() + timedelta(minutes=minutes),
            based_on_last_post=category.auto_close_based_on_last_post,
            duration_minutes=minutes if category.auto_close_based_on_last_post else None,
        )
    )


def pending_last_post_timer(topic_id: int) -> ColumnElement[bool]:
    """Whether the topic has a pending "N hours after the last post" timer: asked by the statement that numbers a
    reply, so that a reply to a topic without one (nearly every reply) spends no statement of its own on timers.
    By the topic's id, not correlated to the updated row: SQLite's RETURNING names columns unqualified, and inside
    the subquery an unqualified ``id`` is the timer's."""
    return exists().where(
        TopicTimer.topic_id == topic_id, TopicTimer.state == TimerState.PENDING, TopicTimer.based_on_last_post
    )


def rearm_after_post(topic_id: int, posted_at: datetime) -> None:
    """Every new post moves such a timer's deadline. Call in the post's write unit, holding the topic's lock. A
    timer this missed (set while the post was being written) is moved when it falls due instead (``fire_timer``);
    one claimed, fired or cancelled meanwhile is left as it is."""
    pending = db.session.execute(
        select(TopicTimer.id, TopicTimer.duration_minutes).where(
            TopicTimer.topic_id == topic_id, TopicTimer.state == TimerState.PENDING, TopicTimer.based_on_last_post
        )
    )
    for timer_id, duration_minutes in pending.all():
        db.session.execute(
            update(TopicTimer)
            .where(TopicTimer.id == timer_id, TopicTimer.state == TimerState.PENDING)
            .values(execute_at=posted_at + timedelta(minutes=duration_minutes)),
            execution_options={"synchronize_session": "fetch"},  # the timer may be loaded in the session
        )


def claim_due_timers(limit: int, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    lease_expired = now - timedelta(seconds=current_app.config["TIMER_CLAIM_LEASE_SECONDS"])
    due = (
        select(TopicTimer.id)
        .where(
            or_(
                and_(TopicTimer.state == TimerState.PENDING, TopicTimer.execute_at <= now),
                and_(TopicTimer.state == TimerState.CLAIMED, TopicTimer.claimed_at <= lease_expired),
            )
        )
        .order_by(TopicTimer.execute_at)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with write_unit(db.session):
        return list(
            db.session.scalars(
                update(TopicTimer)
                .where(TopicTimer.id.in_(due))
                .values(state=TimerState.CLAIMED, claimed_at=now)
                .returning(TopicTimer.id),
                execution_options={"synchronize_session": False},
            )
        )


def fire_timer(timer_id: int) -> str | None:
    """Carry out one claimed timer; returns its outcome, or None when there was nothing to do."""
    # A fire task queued twice (a claim re-taken after its lease) mostly finds its timer done: say so without
    # taking any lock (on SQLite, the database's one write lock).
    claimed = db.session.execute(
        select(TopicTimer.topic_id).where(TopicTimer.id == timer_id, TopicTimer.state == TimerState.CLAIMED)
    ).first()
    if claimed is None:
        return None
    topic_id = claimed.topic_id
    with write_unit(db.session):
        # The topic's row first, then the timer's: the order a reply takes them in (it re-arms "after the last
        # post" timers), so the two never wait for each other.
        topic = db.session.get(Topic, topic_id, with_for_update=ROW_LOCK, populate_existing=True)
        timer = db.session.get(TopicTimer, timer_id, with_for_update=True, populate_existing=True)
        if timer is None or timer.state != TimerState.CLAIMED:
            return None
        if timer.based_on_last_post and topic is not None and topic.last_posted_at is not None:
            deadline = topic.last_posted_at + timedelta(minutes=timer.duration_minutes)
            if deadline > utcnow():  # a post came after the deadline was set: wait for the new one
                timer.state, timer.execute_at, timer.claimed_at = TimerState.PENDING, deadline, None
                events.publish_topic_changed(topic_id)  # readers see the later deadline
                return None
        timer.state, timer.outcome = _carry_out(timer, topic)
        timer.fired_at = utcnow()
        events.publish_topic_changed(topic_id)  # the pending timer readers saw is gone, whatever happened
        return timer.outcome


def _carry_out(timer: TopicTimer, topic: Topic | None) -> tuple[str, str]:
    """(new state, outcome) for a due timer, re-checking everything that may have changed since it was set."""
    if topic is None or topic.is_deleted:
        return TimerState.SKIPPED, "topic no longer exists"
    try:
        guardian.ensure_can_change_topic_status(timer.user)
    except NotAllowed:
        return TimerState.SKIPPED, f"{timer.user.username} may no longer change this topic"
    system = bots.system_user()
    context = {"timer_id": timer.id, "timer_creator_id": timer.user_id}
    try:
        if timer.status_type == TimerType.DELETE:
            topics.delete_topic(system, topic, context=context)
            return TimerState.FIRED, "deleted the topic"
        status, enabled, action_code, silent = _ACTIONS[TimerType(timer.status_type)]
        if getattr(topic, status) == enabled:
            return TimerState.SKIPPED, f"topic was already {'closed' if enabled else 'open'}"
        topics.set_status(system, topic, status, enabled, action_code=action_code, silent=silent, context=context)
    except ServiceError as error:
        return TimerState.SKIPPED, " ".join(error.messages)[:300]
    return TimerState.FIRED, f"{'closed' if enabled else 'opened'} the topic"
