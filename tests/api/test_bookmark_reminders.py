"""Bookmark reminders: at a bookmark's reminder_at, its member gets Discourse's bookmark_reminder notification (kind
24), once, by a task beat asks for; beside the notification the post itself gave them."""
from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Bookmark, Notification, NotificationType
from forum.models.base import utcnow
from forum.services import bookmarks, notifications, posts
from tests.api.factories import set_columns
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_topics import category, dialogue, other  # noqa: F401  (fixtures)
from tests.conftest import wait_until

SOON = (utcnow() + timedelta(days=1)).isoformat()
LATER = (utcnow() + timedelta(days=2)).isoformat()


def bookmark(client, headers, bookmarkable_id: int, kind: str = "Post", **fields) -> int:
    response = client.post("/bookmarks.json", json={"bookmarkable_id": bookmarkable_id, "bookmarkable_type": kind, **fields}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["id"]


def make_due(bookmark_id: int) -> None:
    set_columns(Bookmark, bookmark_id, reminder_at=utcnow() - timedelta(minutes=1))


def reminders(user) -> list[Notification]:
    db.session.rollback()  # a fresh snapshot: a worker may have written them
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.notification_type == NotificationType.BOOKMARK_REMINDER).order_by(Notification.id)))


def test_a_due_reminder_is_sent_once_beside_the_posts_own_notification(client, auth_headers, dialogue, other, member):
    third = post_of(dialogue, 3)
    mention = posts.create_reply(member, dialogue, raw="As @yan_yan said, the buycott filled the shop.", reply_to_post_number=3)
    notifications.notify_about_post(mention.id)
    marked = bookmark(client, auth_headers(other), mention.id, name="Cite the buycott", reminder_at=SOON)
    not_yet = bookmark(client, auth_headers(other), third.id, reminder_at=SOON)
    bookmark(client, auth_headers(other), post_of(dialogue, 2).id)  # no reminder at all
    make_due(marked)

    assert bookmarks.send_due_reminders(limit=500) == 1
    (reminder,) = reminders(other)
    assert (reminder.topic_id, reminder.post_number) == (dialogue.id, mention.post_number)
    assert reminder.data == {"topic_title": dialogue.title, "display_username": "yan_yan", "bookmark_id": marked,
                             "bookmark_name": "Cite the buycott", "bookmarkable_type": "Post",
                             "bookmarkable_url": f"/t/{dialogue.slug}/{dialogue.id}/{mention.post_number}"}
    listed = client.get("/notifications.json", headers=auth_headers(other)).json["notifications"]
    assert [(item["notification_type"], item["high_priority"]) for item in listed] == [
        (NotificationType.BOOKMARK_REMINDER, True), (NotificationType.MENTIONED, False)]
    assert bookmarks.send_due_reminders(limit=500) == 0  # once
    assert db.session.get(Bookmark, not_yet).reminder_sent_at is None


def test_the_notifications_list_shows_a_reminder_as_discourse_does(client, auth_headers, dialogue, other):
    make_due(bookmark(client, auth_headers(other), post_of(dialogue, 2).id, reminder_at=SOON))
    bookmarks.send_due_reminders(limit=500)
    response = client.get("/notifications.json", headers=auth_headers(other))
    assert_matches_spec(response, "get", "/notifications.json")
    assert response.json["notifications"][0]["data"]["bookmark_id"] is not None


def test_a_topics_bookmark_reminds_of_the_topic(client, auth_headers, dialogue, other):
    assert client.put(f"/t/{dialogue.id}/bookmark.json", headers=auth_headers(other)).status_code == 200
    (marked,) = db.session.scalars(select(Bookmark.id))
    make_due(marked)
    bookmarks.send_due_reminders(limit=500)
    (reminder,) = reminders(other)
    assert reminder.post_number == 1 and reminder.data["bookmarkable_url"] == f"/t/{dialogue.slug}/{dialogue.id}"


def test_a_reminder_set_again_after_it_was_sent_is_due_again(client, auth_headers, dialogue, other):
    marked = bookmark(client, auth_headers(other), post_of(dialogue, 2).id, reminder_at=SOON)
    make_due(marked)
    assert bookmarks.send_due_reminders(limit=500) == 1
    renamed = client.put(f"/bookmarks/{marked}.json", json={"name": "Cite it", "reminder_at": db.session.get(Bookmark, marked).reminder_at.isoformat()},
                         headers=auth_headers(other))
    assert renamed.status_code == 200  # the reminder sent back unchanged, as Discourse's client does: not due again
    assert db.session.get(Bookmark, marked).reminder_sent_at is not None
    moved = client.put(f"/bookmarks/{marked}.json", json={"reminder_at": LATER}, headers=auth_headers(other))
    assert moved.status_code == 200
    assert bookmarks.send_due_reminders(limit=500) == 0  # not yet
    make_due(marked)
    assert bookmarks.send_due_reminders(limit=500) == 1
    assert len(reminders(other)) == 2


def test_reminders_go_in_batches_oldest_first(client, auth_headers, dialogue, other):
    marks = [bookmark(client, auth_headers(other), post_of(dialogue, n).id, reminder_at=SOON) for n in (2, 3, 4)]
    for minutes, marked in zip((3, 2, 1), marks):
        set_columns(Bookmark, marked, reminder_at=utcnow() - timedelta(minutes=minutes))
    assert bookmarks.send_due_reminders(limit=2) == 2
    assert [item.data["bookmark_id"] for item in reminders(other)] == marks[:2]
    assert bookmarks.send_due_reminders(limit=2) == 1


def test_beat_and_a_worker_send_a_due_reminder(app, client, auth_headers, dialogue, other, worker, start_celery, instance_path):
    make_due(bookmark(client, auth_headers(other), post_of(dialogue, 2).id, reminder_at=SOON))
    beat = start_celery("beat", "--schedule", str(app.instance_path) + "/beat-schedule-reminders", env={"FORUM_BOOKMARK_REMINDER_INTERVAL": "1"})
    logs = lambda: beat.log_path.read_text()[-2000:] + (instance_path / "worker.log").read_text()[-2000:]  # noqa: E731
    assert len(wait_until(lambda: reminders(other), timeout=90, describe=logs)) == 1
    assert worker.poll() is None, "the worker died"
