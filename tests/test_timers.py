"""Topic timers fire exactly once, through real workers and a real broker, whatever happens around them."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bots.tasks import scan_due_timers
from forum.database import write_unit
from forum.extensions import db
from forum.models import AuditLogEntry, Category, DialogueSchedule, Post, PostType, Role, TimerState, Topic, TopicTimer, User
from forum.models.base import utcnow
from forum.services import bots, posts, schedules, timers, topics
from forum.services.errors import InvalidParameters, NotAllowed, ValidationFailed
from tests.conftest import run_together, wait_until

BODY = "## A reply\n\nSomething practitioners would write here."


def _topic(author, title="A dialogue that will be locked on schedule"):
    return topics.create_topic(author, title=title, raw=BODY)


def _make_due(*timer_ids):
    with write_unit(db.session):
        db.session.execute(
            update(TopicTimer).where(TopicTimer.id.in_(timer_ids)).values(execute_at=utcnow() - timedelta(seconds=1)),
            execution_options={"synchronize_session": False},
        )


def _fresh(model, id_):
    db.session.rollback()
    return db.session.get(model, id_)


def _close_actions(topic_id):
    return db.session.scalar(
        select(func.count()).select_from(Post).where(Post.topic_id == topic_id, Post.action_code == "autoclosed.enabled")
    )


def _scan():
    scan_due_timers.delay()


# Setting timers -------------------------------------------------------------------------------


def test_time_in_hours_or_iso_and_empty_cancels(app, moderator, member):
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", time="24")
    assert abs((timer.execute_at - utcnow()) - timedelta(hours=24)) < timedelta(seconds=5)
    later = timers.set_topic_timer(moderator, topic, status_type="close", time="2099-03-01T18:00:00Z")
    assert later.execute_at.isoformat() == "2099-03-01T18:00:00+00:00"
    assert _fresh(TopicTimer, timer.id).state == TimerState.CANCELLED  # replaced
    assert timers.set_topic_timer(moderator, topic, status_type="close", time="") is None
    assert _fresh(TopicTimer, later.id).state == TimerState.CANCELLED
    assert timers.pending_timer(_fresh(Topic, topic.id)) is None


@pytest.mark.parametrize("time", ["yesterday", "-3", "0", "2001-01-01T00:00:00Z"])
def test_bad_times_are_refused(app, moderator, member, time):
    topic = _topic(member)
    with pytest.raises(InvalidParameters):
        timers.set_topic_timer(moderator, topic, status_type="close", time=time)
    assert db.session.scalar(select(func.count()).select_from(TopicTimer)) == 0


def test_only_staff_set_timers(app, member):
    with pytest.raises(NotAllowed):
        timers.set_topic_timer(member, _topic(member), status_type="close", time="1")


def test_category_default_timer_on_new_topics(app, member):
    with write_unit(db.session):
        category = Category(name="Timed dialogues", slug="timed", auto_close_hours=48, auto_close_based_on_last_post=True)
        db.session.add(category)
    topic = topics.create_topic(member, title="A topic in a timed category", raw=BODY, category=category)
    timer = timers.pending_timer(topic)
    assert timer.user_id == bots.system_user().id
    assert (timer.status_type, timer.based_on_last_post, timer.duration_minutes) == ("close", True, 48 * 60)


def test_last_post_timer_is_rearmed_by_each_reply(app, moderator, member):
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", based_on_last_post=True, duration_minutes=60)
    _make_due(timer.id)
    reply = posts.create_reply(member, _fresh(Topic, topic.id), raw=BODY)
    rearmed = _fresh(TopicTimer, timer.id)
    assert rearmed.execute_at == reply.created_at + timedelta(minutes=60)
    assert timers.claim_due_timers(limit=10) == []


def test_a_reply_finds_its_topics_timer_by_the_topic_not_by_the_timers_id(app, moderator, member):
    """The reply asks for its topic's timers inside the statement that numbers it; a question comparing the wrong
    columns (the timer's own id) would miss a timer whose id is not its topic's, as here."""
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", based_on_last_post=True, duration_minutes=60)
    if timer.id == topic.id:  # a timer set again replaces the first (cancelled, so no pending timer has its topic's id)
        timer = timers.set_topic_timer(moderator, topic, status_type="close", based_on_last_post=True, duration_minutes=60)
    assert timer.id != topic.id
    timer_id, deadline = timer.id, timer.execute_at
    elsewhere = _topic(member, title="A dialogue without any timer")
    posts.create_reply(member, _fresh(Topic, elsewhere.id), raw=BODY)
    assert _fresh(TopicTimer, timer_id).execute_at == deadline  # another topic's reply moves nothing here
    reply = posts.create_reply(member, _fresh(Topic, topic.id), raw=BODY)
    assert _fresh(TopicTimer, timer_id).execute_at == reply.created_at + timedelta(minutes=60)


def test_last_post_timer_that_missed_a_reply_waits_for_the_new_deadline_when_due(app, moderator, member):
    """A reply written while the timer was being set does not move it (it read the timers first): at the old
    deadline the timer finds the later post, and waits for the deadline that post sets instead of closing."""
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", based_on_last_post=True, duration_minutes=60)
    posted_at = utcnow()
    with write_unit(db.session):  # the reply's last-post time, without the re-arming create_reply does
        db.session.execute(
            update(Topic).where(Topic.id == topic.id).values(last_posted_at=posted_at),
            execution_options={"synchronize_session": False},
        )
    _make_due(timer.id)
    assert timers.claim_due_timers(limit=10) == [timer.id]
    assert timers.fire_timer(timer.id) is None
    waiting = _fresh(TopicTimer, timer.id)
    assert (waiting.state, waiting.execute_at, waiting.claimed_at) == (TimerState.PENDING, posted_at + timedelta(minutes=60), None)
    assert not _fresh(Topic, topic.id).closed and _close_actions(topic.id) == 0
    assert timers.claim_due_timers(limit=10) == []


# Firing ----------------------------------------------------------------------------------------


def test_firing_closes_as_system_with_small_action_audit_and_run_record(app, moderator, member):
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", time="1")
    _make_due(timer.id)
    assert timers.claim_due_timers(limit=10) == [timer.id]
    assert timers.fire_timer(timer.id) == "closed the topic"
    assert timers.fire_timer(timer.id) is None  # a second run does nothing
    fired = _fresh(TopicTimer, timer.id)
    assert fired.state == TimerState.FIRED and fired.fired_at is not None
    assert _fresh(Topic, topic.id).closed
    action = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_type == PostType.SMALL_ACTION))
    assert (action.action_code, action.user_id) == ("autoclosed.enabled", bots.system_user().id)
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action.like("topic.%closed%")))
    assert entry.actor_id == bots.system_user().id and entry.context["timer_id"] == timer.id


def test_silent_close_posts_nothing(app, moderator, member):
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="silent_close", time="1")
    _make_due(timer.id)
    timers.claim_due_timers(limit=10)
    timers.fire_timer(timer.id)
    assert _fresh(Topic, topic.id).closed
    assert db.session.scalar(select(func.count()).select_from(Post).where(Post.topic_id == topic.id)) == 1


def test_open_and_delete_timers(app, moderator, member):
    opened, deleted = _topic(member), _topic(member, "A dialogue that will be deleted")
    topics.set_status(moderator, opened, "closed", True)
    open_timer = timers.set_topic_timer(moderator, opened, status_type="open", time="1")
    delete_timer = timers.set_topic_timer(moderator, deleted, status_type="delete", time="1")
    _make_due(open_timer.id, delete_timer.id)
    for timer_id in timers.claim_due_timers(limit=10):
        timers.fire_timer(timer_id)
    assert not _fresh(Topic, opened.id).closed
    assert _fresh(Topic, deleted.id).is_deleted


def test_cancelled_timer_never_fires(app, moderator, member):
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", time="1")
    timers.set_topic_timer(moderator, topic, status_type="close", time="")
    _make_due(timer.id)
    assert timers.claim_due_timers(limit=10) == []
    assert timers.fire_timer(timer.id) is None
    assert not _fresh(Topic, topic.id).closed


def test_creator_demoted_before_firing_means_the_timer_is_skipped(app, make_user, member):
    moderator = make_user(Role.MODERATOR)
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", time="1")
    with write_unit(db.session):
        moderator.role = Role.MEMBER
    _make_due(timer.id)
    timers.claim_due_timers(limit=10)
    assert "may no longer" in timers.fire_timer(timer.id)
    assert _fresh(TopicTimer, timer.id).state == TimerState.SKIPPED
    assert not _fresh(Topic, topic.id).closed


def test_a_claim_whose_task_was_lost_is_claimed_again_after_the_lease(app, moderator, member):
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", time="1")
    _make_due(timer.id)
    assert timers.claim_due_timers(limit=10) == [timer.id]
    assert timers.claim_due_timers(limit=10) == []  # claimed: not handed out twice
    lease = app.config["TIMER_CLAIM_LEASE_SECONDS"]
    assert timers.claim_due_timers(limit=10, now=utcnow() + timedelta(seconds=lease + 1)) == [timer.id]


# With real workers -----------------------------------------------------------------------------


def test_fires_once_under_two_workers_and_duplicated_scans(app, moderator, member, start_celery):
    topic_ids, timer_ids = [], []
    for n in range(40):
        topic = _topic(member, f"Dialogue number {n} locked on schedule")
        timer_ids.append(timers.set_topic_timer(moderator, topic, status_type="close", time="1").id)
        topic_ids.append(topic.id)
    _make_due(*timer_ids)
    for _ in range(2):
        start_celery("worker", "--pool=threads", "--concurrency=4")
    for _ in range(5):
        _scan()

    wait_until(lambda: db.session.rollback() or all(_fresh(Topic, t).closed for t in topic_ids), timeout=90)
    wait_until(lambda: db.session.rollback() or db.session.scalar(
        select(func.count()).select_from(TopicTimer).where(TopicTimer.state == TimerState.FIRED)) == 40, timeout=30)
    assert [_close_actions(topic_id) for topic_id in topic_ids] == [1] * 40


def test_timer_due_while_workers_are_down_fires_when_they_return(app, moderator, member, start_celery):
    topic = _topic(member)
    timer = timers.set_topic_timer(moderator, topic, status_type="close", time="1")
    _make_due(timer.id)  # due now, with no worker of this test running
    assert not _fresh(Topic, topic.id).closed
    start_celery("beat", "--schedule", str(app.instance_path) + "/beat-schedule-test", env={"FORUM_TIMER_SCAN_INTERVAL": "1"})
    start_celery("worker", "--pool=threads", "--concurrency=2")
    wait_until(lambda: _fresh(Topic, topic.id).closed, timeout=90)  # beat nudged the scan by itself
    assert _close_actions(topic.id) == 1


def test_worker_killed_mid_batch_then_restarted_fires_each_timer_once(app, moderator, member, start_celery, monkeypatch):
    count = 120
    topic_ids, timer_ids = [], []
    for n in range(count):
        topic = _topic(member, f"Dialogue {n} for the crash test")
        timer_ids.append(timers.set_topic_timer(moderator, topic, status_type="close", time="1").id)
        topic_ids.append(topic.id)
    _make_due(*timer_ids)
    lease = {"FORUM_TIMER_CLAIM_LEASE_SECONDS": "3"}
    monkeypatch.setitem(app.config, "TIMER_CLAIM_LEASE_SECONDS", 3)
    doomed = start_celery("worker", "--pool=threads", "--concurrency=2", env=lease)
    _scan()

    def some_fired():
        db.session.rollback()
        return db.session.scalar(select(func.count()).select_from(TopicTimer).where(TopicTimer.state == TimerState.FIRED)) >= 5

    wait_until(some_fired, timeout=90, interval=0.05)
    doomed.kill()
    restarted = start_celery("worker", "--pool=threads", "--concurrency=2", env=lease)

    def all_fired():
        # As beat would, every few seconds; the scan runs here, with this test's lease: as a message it could go to the
        # session's worker (the suite's other tests started it), whose lease is the default five minutes, and then
        # the claims the killed worker lost would not be taken back within the test.
        scan_due_timers.apply()
        db.session.rollback()
        return db.session.scalar(select(func.count()).select_from(TopicTimer).where(TopicTimer.state == TimerState.FIRED)) == count

    def states():
        db.session.rollback()
        counts = dict(db.session.execute(select(TopicTimer.state, func.count()).group_by(TopicTimer.state)).all())
        log = restarted.log_path.read_text(errors="replace").splitlines()
        return f"timers by state {counts}; the restarted worker's log ends:\n" + "\n".join(log[-25:])

    wait_until(all_fired, timeout=240, interval=2, describe=states)
    assert [_close_actions(topic_id) for topic_id in topic_ids] == [1] * count


def test_replies_racing_the_lock_are_stored_or_refused_cleanly(app, moderator, make_user, worker):
    authors = [make_user() for _ in range(6)]
    topic = _topic(authors[0])
    timer = timers.set_topic_timer(moderator, topic, status_type="close", time="1")
    topic_id, author_ids = topic.id, [author.id for author in authors]
    accepted, refused, unexpected = [], [], []
    start = threading.Barrier(len(authors) + 1)

    def keep_replying(author_id):
        with app.app_context():
            author = db.session.get(type(authors[0]), author_id)
            start.wait()
            refusals = 0
            for _ in range(400):  # until the lock has refused this author a few times
                try:
                    accepted.append(posts.create_reply(author, db.session.get(Topic, topic_id), raw=BODY).id)
                except NotAllowed as error:
                    refused.append(error.status_code)
                    refusals += 1
                    if refusals == 3:
                        break
                except Exception as error:  # anything else is a bug
                    unexpected.append(error)
            db.session.remove()

    threads = [threading.Thread(target=keep_replying, args=(author_id,)) for author_id in author_ids]
    for thread in threads:
        thread.start()
    start.wait()
    wait_until(lambda: accepted, timeout=60)  # replies are going in: the timer falls due among them, not before them
    _make_due(timer.id)
    _scan()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert refused and set(refused) == {403}
    assert accepted
    wait_until(lambda: _fresh(Topic, topic_id).closed, timeout=60)
    stored = list(db.session.scalars(select(Post).where(Post.topic_id == topic_id).order_by(Post.post_number)))
    assert {post.id for post in stored if post.post_type == PostType.REGULAR and post.post_number > 1} == set(accepted)
    close_number = next(post.post_number for post in stored if post.action_code == "autoclosed.enabled")
    assert all(post.post_number < close_number for post in stored if post.post_type == PostType.REGULAR)
    assert [post.post_number for post in stored] == list(range(1, len(stored) + 1))


# Changes while a timer is claimed, and at the same moment.


def test_a_timer_cancelled_or_replaced_after_the_scan_claimed_it_does_not_fire(moderator, member):
    """Cancelling answered 200 and the claimed timer fired anyway (and a replacement left two timers)."""
    for replacement in ("", "5"):
        topic = _topic(member)
        timer = timers.set_topic_timer(moderator, topic, status_type="close", time="1")
        _make_due(timer.id)
        assert timers.claim_due_timers(limit=10) == [timer.id]
        assert timers.pending_timer(topic).id == timer.id  # claimed, about to fire: still the topic's timer
        timers.set_topic_timer(moderator, topic, status_type="close", time=replacement)
        assert timers.fire_timer(timer.id) is None
        assert (_fresh(Topic, topic.id).closed, _fresh(TopicTimer, timer.id).state) == (False, TimerState.CANCELLED)
        waiting = db.session.scalars(select(TopicTimer).where(TopicTimer.topic_id == topic.id, TopicTimer.state.in_(timers.WAITING))).all()
        assert len(waiting) == (1 if replacement else 0)


def test_a_schedule_cancelled_after_the_scan_claimed_its_opening_does_not_open_the_topic(moderator, member):
    topic = _topic(member)
    topics.set_status(moderator, topic, "closed", True)
    soon = utcnow() + timedelta(hours=1)
    schedule = schedules.create_schedule(moderator, topic, [(soon, soon + timedelta(hours=2))])
    opening = next(timer for timer in schedule.timers if timer.status_type == "open")
    assert timers.claim_due_timers(limit=10, now=soon + timedelta(seconds=1)) == [opening.id]
    schedules.cancel_schedule(moderator, _fresh(Topic, topic.id))
    assert timers.fire_timer(opening.id) is None
    assert _fresh(Topic, topic.id).closed is True


def test_timers_and_schedules_set_at_the_same_moment_leave_one(app, moderator, member):
    """Each request read the topic's timer, found none, and added its own: two or three stayed pending, and a cancel
    then removed one."""
    topic_id, moderator_id = _topic(member).id, moderator.id
    soon = utcnow() + timedelta(hours=1)

    def set_timer(start, hours):
        actor, topic = db.session.get(User, moderator_id), db.session.get(Topic, topic_id)
        start()
        timers.set_topic_timer(actor, topic, status_type="close", time=hours)

    def set_schedule(start, day):
        actor, topic = db.session.get(User, moderator_id), db.session.get(Topic, topic_id)
        start()
        schedules.create_schedule(actor, topic, [(soon + timedelta(days=day), soon + timedelta(days=day, hours=1))])

    for _ in range(3):
        assert run_together(app, set_timer, [("1",), ("2",), ("3",)]) == []
        assert run_together(app, set_schedule, [(0,), (1,), (2,)]) == []
        waiting = db.session.scalars(select(TopicTimer).where(TopicTimer.topic_id == topic_id, TopicTimer.state.in_(timers.WAITING))).all()
        assert sum(timer.schedule_id is None for timer in waiting) == 1
        assert len({timer.schedule_id for timer in waiting if timer.schedule_id is not None}) == 1
        assert db.session.scalar(select(func.count()).select_from(DialogueSchedule).where(
            DialogueSchedule.topic_id == topic_id, DialogueSchedule.cancelled_at.is_(None))) == 1
        db.session.rollback()


@pytest.mark.parametrize("windows", [
    [(0, 2), (2, 4)],  # the second opens as the first closes: the two timers fired in either order
    [(0, 1 / 120)],  # half a minute
])
def test_windows_that_touch_or_last_less_than_a_minute_are_refused(moderator, member, windows):
    soon = utcnow() + timedelta(hours=1)
    with pytest.raises(ValidationFailed):
        schedules.create_schedule(moderator, _topic(member), [(soon + timedelta(hours=a), soon + timedelta(hours=b)) for a, b in windows])
    with pytest.raises(ValidationFailed):  # open 24 hours every day: each window touches the next
        schedules.create_schedule(moderator, _topic(member), schedules.windows_from_recurrence(soon, 24, 1, 3))
