"""Dialogue schedules (our extension): a topic opens and closes in windows, each transition a timer."""
from datetime import datetime, timedelta

from sqlalchemy import select

from forum.database import ROW_LOCK, write_unit
from forum.extensions import db
from forum.models import DialogueSchedule, TimerState, TimerType, Topic, TopicTimer, User
from forum.models.base import utcnow
from forum.services import audit, guardian
from forum.services.errors import ValidationFailed
from forum.services.timers import MAX_HOURS, WAITING, parse_time

MAX_WINDOWS = 100
MIN_WINDOW = timedelta(minutes=1)
WINDOW_NEEDS_TIMES = "Each window needs open_at and close_at timestamps."


def windows_from_recurrence(first_open_at: datetime, open_hours: float, every_days: float, count: int) -> list[tuple[datetime, datetime]]:
    """"Open Tuesday 18:00 for 48 hours, every 7 days, 4 times" as explicit windows."""
    if open_hours <= 0 or every_days <= 0 or not 1 <= count <= MAX_WINDOWS:
        raise ValidationFailed(f"open_hours and every_days must be positive and count between 1 and {MAX_WINDOWS}.")
    # As for a single timer's hours (services.timers.MAX_HOURS): past ten years, a recurrence is a mistake. Checked as a
    # number: a timedelta that long may not exist.
    if every_days * 24 * (count - 1) + open_hours > MAX_HOURS:
        raise ValidationFailed(f"A recurring schedule spans at most {MAX_HOURS // (24 * 365)} years.")
    try:
        return [
            (first_open_at + timedelta(days=every_days * n), first_open_at + timedelta(days=every_days * n, hours=open_hours))
            for n in range(count)
        ]
    except OverflowError:
        raise ValidationFailed("A schedule must end before the year 10000.") from None


def parse_windows(raw_windows: list) -> list[tuple[datetime, datetime]]:
    now = utcnow()
    try:
        windows = [(parse_time(window["open_at"], now), parse_time(window["close_at"], now)) for window in raw_windows]
    except (KeyError, TypeError):
        raise ValidationFailed(WINDOW_NEEDS_TIMES) from None
    if any(None in window for window in windows):  # a blank timestamp
        raise ValidationFailed(WINDOW_NEEDS_TIMES)
    return windows


def create_schedule(actor: User, topic: Topic, windows: list[tuple[datetime, datetime]]) -> DialogueSchedule:
    """Replace the topic's schedule with these windows: an open timer and a close timer for each."""
    guardian.ensure_can_change_topic_status(actor)
    _validate(windows)
    with write_unit(db.session):
        # The topic's row first, as a timer firing takes it: two schedules made at once replace each other in turn.
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        _cancel_pending(actor, topic)
        schedule = DialogueSchedule(
            topic_id=topic.id,
            user_id=actor.id,
            windows=[{"open_at": opens.isoformat(), "close_at": closes.isoformat()} for opens, closes in windows],
        )
        db.session.add(schedule)
        db.session.flush()
        for opens, closes in windows:
            for status_type, at in ((TimerType.OPEN, opens), (TimerType.CLOSE, closes)):
                db.session.add(
                    TopicTimer(topic_id=topic.id, user_id=actor.id, status_type=status_type, execute_at=at, schedule_id=schedule.id)
                )
        audit.record(actor, "dialogue_schedule.create", schedule, after={"windows": schedule.windows}, context={"topic_id": topic.id})
    return schedule


def _validate(windows: list[tuple[datetime, datetime]]) -> None:
    if not 1 <= len(windows) <= MAX_WINDOWS:
        raise ValidationFailed(f"A schedule has between 1 and {MAX_WINDOWS} windows.")
    ordered = sorted(windows)
    for opens, closes in ordered:
        if closes <= opens:
            raise ValidationFailed("Each window must close after it opens.")
        if closes - opens < MIN_WINDOW:
            raise ValidationFailed("Each window must be open for at least a minute.")
    # A gap between windows, not a shared instant: a close and the next open due at once would fire in either order,
    # and the open first leaves the topic closed for the whole next window.
    for (_, previous_close), (next_open, _) in zip(ordered, ordered[1:]):
        if next_open <= previous_close:
            raise ValidationFailed("Windows must not overlap or touch: leave a gap between one's close and the next one's open.")


def current_schedule(topic: Topic) -> DialogueSchedule | None:
    return db.session.scalar(
        select(DialogueSchedule)
        .where(DialogueSchedule.topic_id == topic.id, DialogueSchedule.cancelled_at.is_(None))
        .order_by(DialogueSchedule.id.desc())
    )


def cancel_schedule(actor: User, topic: Topic) -> None:
    guardian.ensure_can_change_topic_status(actor)
    with write_unit(db.session):
        db.session.refresh(topic, with_for_update=ROW_LOCK)
        _cancel_pending(actor, topic)


def _cancel_pending(actor: User, topic: Topic) -> None:
    schedule = current_schedule(topic)
    if schedule is None:
        return
    now = utcnow()
    schedule.cancelled_at = now
    for timer in schedule.timers:
        if timer.state in WAITING:  # a claimed one too: fire_timer carries out only what is still claimed
            timer.state = TimerState.CANCELLED
            timer.cancelled_at = now
    audit.record(actor, "dialogue_schedule.cancel", schedule, context={"topic_id": topic.id})
