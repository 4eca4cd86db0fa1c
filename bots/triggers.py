"""What starts the bots and the notifications: domain events from the services, turned into tasks once the change
committed."""
from flask import current_app

from bots import tasks
from forum.services import events


# A send the broker refuses fails at once, with no retries: a post whose task is lost is read by the backfill
# (tasks.backfill_tactics), so its writer need not wait out Celery's default retries (a reply took 0.6 s with a
# refused broker, 7 ms with this; measured in process). A pooled connection Redis dropped is reconnected by redis-py
# itself: a send after the server killed the app's connections went through.
SEND_AT_ONCE = {"max_retries": 0}


def connect() -> None:
    """Subscribe the bots to the domain events (connecting twice is harmless: blinker keeps one)."""
    events.post_created.connect(_post_written)
    events.post_edited.connect(_post_written)
    events.post_created.connect(_post_created_notifications)
    events.post_edited.connect(_post_edited_notifications)
    events.topic_recovered.connect(_topic_recovered)
    events.tag_group_changed.connect(_tag_group_changed)


def _post_written(post_id: int, topic_id: int) -> None:
    if current_app.config["BOTS_ENABLED"]:
        tasks.suggest_tactics.apply_async((post_id,), retry=True, retry_policy=SEND_AT_ONCE)


def _post_created_notifications(post_id: int, topic_id: int) -> None:
    if current_app.config["NOTIFICATIONS_ENABLED"]:
        tasks.notify_about_post.apply_async((post_id,), retry=True, retry_policy=SEND_AT_ONCE)


def _post_edited_notifications(post_id: int, topic_id: int) -> None:
    if current_app.config["NOTIFICATIONS_ENABLED"]:
        tasks.notify_about_post.apply_async((post_id, True), retry=True, retry_policy=SEND_AT_ONCE)


def _topic_recovered(topic_id: int) -> None:
    if current_app.config["BOTS_ENABLED"]:
        tasks.suggest_tactics_for_topic.delay(topic_id)


def _tag_group_changed(tag_group_id: int) -> None:
    # Tactics may have been added, renamed, retired or described anew; a refit with nothing new stores nothing.
    if current_app.config["BOTS_ENABLED"]:
        tasks.refit_tactics_model.delay()
