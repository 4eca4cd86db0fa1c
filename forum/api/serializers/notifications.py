"""Discourse's notifications (GET /notifications.json) as its clients read them."""
from forum.api.serializers import fancy_title, iso
from forum.models import Notification, NotificationType, Topic
from forum.services.notifications import PAGE_SIZE, NotificationPage


HIGH_PRIORITY = (NotificationType.PRIVATE_MESSAGE, NotificationType.INVITED_TO_PRIVATE_MESSAGE, NotificationType.BOOKMARK_REMINDER)


def notification(item: Notification, topic: Topic) -> dict:
    return {
        "id": item.id,
        "user_id": item.user_id,
        "notification_type": item.notification_type,
        "read": item.read,
        # Discourse's high-priority kinds, of those this forum sends.
        "high_priority": item.notification_type in HIGH_PRIORITY,
        "created_at": iso(item.created_at),
        "post_number": item.post_number,
        "topic_id": item.topic_id,
        "fancy_title": fancy_title(topic.title),
        "slug": topic.slug,
        "data": item.data,
    }


def notification_page(page: NotificationPage) -> dict:
    body = {
        "notifications": [notification(item, topic) for item, topic in page.notifications],
        "seen_notification_id": page.seen_notification_id,
    }
    if page.total is not None:
        body["total_rows_notifications"] = page.total
        body["load_more_notifications"] = f"/notifications?offset={page.offset + PAGE_SIZE}&username={page.user.username}"
    return body
