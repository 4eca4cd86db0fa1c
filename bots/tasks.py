"""Celery tasks. Each is thin: it takes ids and re-reads state through a service. Bot tasks can run
twice with the same effect as once (retries, redelivery after a worker crash, two workers, two beat
ticks); view counting is the one task that cannot, and is acknowledged early instead (see below)."""
from datetime import timedelta

from celery import shared_task
from flask import current_app
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import DBAPIError

from forum.models.base import utcnow
from forum.services import activity_summaries, bookmarks, mail, notifications, rebake, review, summaries, tactics, timers, views

# For bot tasks: acknowledged only when done, handed out again if the worker dies, retried with
# jittered backoff on transient database or broker trouble. (Every task's time limit, well below
# Redis's visibility timeout, is set for the whole app in forum.extensions.)
BOT_TASK = {
    "acks_late": True,
    "task_reject_on_worker_lost": True,
    "autoretry_for": (DBAPIError, BrokerError),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="forum.rebake_post", **BOT_TASK)
def rebake_post(post_id: int) -> None:
    """Re-render one post's cooked HTML from its raw Markdown (Discourse's "rebake").

    Run after the renderer or the sanitiser's allowlist changes; running it twice changes nothing more.
    """
    rebake.rebake_post(post_id)


# Acknowledged on receipt (not acks_late): a redelivered batch would count its views twice, and a
# lost one only makes a popularity figure slightly low.
@shared_task(name="forum.add_topic_views", acks_late=False)
def add_topic_views(counts: dict[str, int]) -> None:
    views.add_views(counts)


@shared_task(name="forum.scan_due_timers", **BOT_TASK)
def scan_due_timers() -> int:
    """Claim due timers and queue one fire task each; ask for another scan at once if there were more."""
    batch = current_app.config["TIMER_SCAN_BATCH"]
    claimed = timers.claim_due_timers(limit=batch)
    for timer_id in claimed:  # after the claim committed: a message never names an unclaimed timer
        fire_timer.delay(timer_id)
    if len(claimed) == batch:
        scan_due_timers.delay()
    return len(claimed)


@shared_task(name="forum.send_bookmark_reminders", **BOT_TASK)
def send_bookmark_reminders() -> int:
    """Remind members of their due bookmarks; ask for another run at once if there were more."""
    return _batch_again_if_full(send_bookmark_reminders, bookmarks.send_due_reminders, "BOOKMARK_REMINDER_BATCH")


@shared_task(name="forum.send_activity_summaries", **BOT_TASK)
def send_activity_summaries() -> int:
    """Mail the members away long enough their activity summary; ask for another run at once if there were more."""
    return _batch_again_if_full(send_activity_summaries, activity_summaries.send_due, "ACTIVITY_SUMMARY_BATCH")


def _batch_again_if_full(task, work, batch_setting: str) -> int:
    """``work`` on at most a batch; a full batch may have left more, which ``task`` run again at once takes."""
    batch = current_app.config[batch_setting]
    done = work(limit=batch)
    if done == batch:
        task.delay()
    return done


@shared_task(name="forum.fire_timer", **BOT_TASK)
def fire_timer(timer_id: int) -> None:
    timers.fire_timer(timer_id)


@shared_task(name="forum.notify_about_post", **BOT_TASK)
def notify_about_post(post_id: int, edited: bool = False) -> int:
    """Tell the members a new or edited post concerns; returns how many were told."""
    return notifications.notify_about_post(post_id, edited=edited)


# An SMTP server that is down, refuses for now or drops the connection (smtplib's errors are OSErrors): retried with
# the bot tasks' backoff; one that refuses for good is logged by mail.deliver. A message the worker dies while sending
# may go out twice; one that fails every retry is logged by Celery and dropped (its asker may ask again).
@shared_task(name="forum.send_email", **{**BOT_TASK, "autoretry_for": (OSError,)})
def send_email(message: dict) -> None:
    mail.deliver(message)


@shared_task(name="forum.email_notification", **BOT_TASK)
def email_notification(notification_id: int) -> bool:
    """Mail one notification to its member, if it still concerns them (queued when it was made, with its delay)."""
    return notifications.email_notification(notification_id)


@shared_task(name="forum.suggest_tactics", **BOT_TASK)
def suggest_tactics(post_id: int) -> int:
    """The tactics bot on one new or edited post; returns how many suggestions it holds for the post."""
    return len(tactics.suggest_for_post(post_id))


@shared_task(name="forum.suggest_tactics_for_topic", **BOT_TASK)
def suggest_tactics_for_topic(topic_id: int) -> int:
    """The tactics bot on every post of a topic (a recovered one): a task per post, queued from here rather
    than from the request that recovered it."""
    return _queue_suggestions(tactics.scorable_post_ids(topic_id))


@shared_task(name="forum.backfill_tactics", **BOT_TASK)
def backfill_tactics() -> int:
    """The tactics bot on posts whose current version it never read: their own task was lost (the broker was
    down or refused it when they were written) or they were written before the bot."""
    config = current_app.config
    written_before = utcnow() - timedelta(seconds=config["TACTICS_BACKFILL_DELAY"])
    return _queue_suggestions(tactics.unscored_post_ids(limit=config["TACTICS_BACKFILL_BATCH"], written_before=written_before))


def _queue_suggestions(post_ids: list[int]) -> int:
    for post_id in post_ids:
        suggest_tactics.delay(post_id)
    return len(post_ids)


# Pending suggestions read again by a new model, at most: the rest wait for their posts' next edit.
RESCORE_AFTER_REFIT = 500


@shared_task(name="forum.refit_tactics_model", **BOT_TASK)
def refit_tactics_model() -> str:
    """Learn from the moderators' decisions so far (and the tactics as admins left them); a new model reads
    the posts whose suggestions still wait, so the queue shows what it learned."""
    fitted = tactics.refit_model()
    if fitted.is_new:
        _queue_suggestions(review.posts_with_pending_suggestions(RESCORE_AFTER_REFIT))
    return fitted.model.version


@shared_task(name="forum.refresh_summaries", **BOT_TASK)
def refresh_summaries() -> int:
    """Queue a summary for each topic whose summary is outdated and quiet, or missing (within the hourly
    backfill budget)."""
    topic_ids = summaries.topics_to_summarize()
    for topic_id in topic_ids:
        summarize_topic.delay(topic_id)
    return len(topic_ids)


@shared_task(name="forum.summarize_topic", **BOT_TASK)
def summarize_topic(topic_id: int) -> None:
    summaries.summarize_topic(topic_id)
