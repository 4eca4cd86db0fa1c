"""The review queue in Discourse's reviewable shape (our items add ``payload`` and ``history``)."""
from forum.api.serializers import fancy_title, iso
from forum.api.serializers.posts import category_id, post_url
from forum.api.serializers.users import basic_user
from forum.content import excerpt
from forum.models import Reviewable, ReviewableHistory, ReviewableScore, ReviewableStatus, User
from forum.services import review
from forum.services.review import ReviewPage
from forum.services.topics import topic_path

ACTION_LABELS = {
    "approve_tag": ("Approve", "Tag the post with this tactic; its topic lists the tactic too."),
    "reject_tag": ("Reject", "The post is not an example of this tactic; the bot learns from it."),
    "ignore": ("Ignore", "Take the item out of the queue without deciding."),
    "agree_and_hide": ("Agree and hide", "The flags are right: hide the post."),
    "disagree": ("Disagree", "The flags are wrong: show the post."),
    review.REOPEN: ("Reopen", "Undo the decision and put the item back in the queue."),
}


def bundled_actions(actor: User | None, item: Reviewable) -> list[dict]:
    bundles = []
    for action in review.available_actions(actor, item):
        label, description = ACTION_LABELS[action]
        bundles.append(
            {"id": action, "label": label, "actions": [{"id": action, "label": label, "description": description, "require_reject_reason": action == "reject_tag"}]}
        )
    return bundles


def reviewable(actor: User | None, item: Reviewable) -> dict:
    post, topic = item.post, item.post.topic
    return {
        "id": item.id,
        "type": item.type,
        "status": item.status,
        "status_name": ReviewableStatus(item.status).name.lower(),
        "topic_id": item.topic_id,
        "category_id": category_id(topic),
        "topic_url": topic_path(topic),
        "target_url": post_url(topic, post),
        "target_type": "Post",
        "target_id": post.id,
        "post_id": post.id,
        "post_number": post.post_number,
        "target_created_by_id": post.user_id,
        "created_by_id": item.created_by_id,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "score": item.score,
        "version": item.version,
        "can_edit": False,
        "payload": {**item.payload, **_tactic_name(item), "raw": post.raw, "excerpt": excerpt(post.cooked), "topic_title": fancy_title(topic.title)},
        "reviewable_scores": [_score(item, score) for score in item.scores] or _bot_score(item),
        "bundled_actions": bundled_actions(actor, item),
        "history": [_history(entry) for entry in item.history],
        "reviewed_by_id": item.reviewed_by_id,
        "reviewed_at": iso(item.reviewed_at),
    }


def _tactic_name(item: Reviewable) -> dict:
    """A tactic item's tactic by its name now: the payload keeps the name it was filed under, and an admin may have
    renamed the tactic since (the queue's ``tactic`` filter already goes by the tag)."""
    return {"tactic": item.tag.name} if item.tag is not None else {}


def _score(item: Reviewable, score: ReviewableScore) -> dict:
    return {
        "id": score.id,
        "score": score.score,
        "user_id": score.user_id,
        "score_type": {"id": score.post_action_type_id, "type": review.FLAG_NAMES.get(score.post_action_type_id, "flag")},
        "reason": score.reason,
        "status": item.status,
        "created_at": iso(score.created_at),
    }


def _bot_score(item: Reviewable) -> list[dict]:
    """A tactic item's one reason to be in the queue: the bot's suggestion."""
    if item.type != "ReviewableTacticTag":
        return []
    return [
        {
            "id": None,
            "score": item.score,
            "user_id": item.created_by_id,
            "score_type": {"id": None, "type": "tactic_suggestion"},
            "reason": "; ".join(item.payload.get("evidence", [])),
            "status": item.status,
            "created_at": iso(item.created_at),
        }
    ]


def _history(entry: ReviewableHistory) -> dict:
    return {
        "id": entry.id,
        "action": entry.action,
        "status_before": entry.status_before,
        "status_after": entry.status_after,
        "user_id": entry.user_id,
        "username": entry.user.username,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
    }


def _users(items: list[Reviewable]) -> list[dict]:
    people: dict[int, User] = {}
    for item in items:
        people[item.created_by.id] = item.created_by
        people[item.post.user.id] = item.post.user
        for score in item.scores:
            people[score.user.id] = score.user
    return [basic_user(user) for user in people.values()]


def _topics(items: list[Reviewable]) -> list[dict]:
    seen = {item.post.topic.id: item.post.topic for item in items}
    return [{"id": topic.id, "title": topic.title, "fancy_title": fancy_title(topic.title), "slug": topic.slug, "posts_count": topic.posts_count} for topic in seen.values()]


def review_list(actor: User | None, page: ReviewPage, next_url: str | None) -> dict:
    return {
        "reviewables": [reviewable(actor, item) for item in page.items],
        "users": _users(page.items),
        "topics": _topics(page.items),
        "meta": {
            "total_rows_reviewables": page.total,
            "load_more_reviewables": next_url,
            "reviewable_count": review.pending_count(),
            "types": {type_name: type_name for type_name in review.TRANSITIONS},
            "statuses": {name: status.value for name, status in review.STATUS_NAMES.items()},
        },
    }


def review_item(actor: User | None, item: Reviewable) -> dict:
    return {"reviewable": reviewable(actor, item), "users": _users([item]), "topics": _topics([item])}


def perform_result(item: Reviewable, pending_count: int) -> dict:
    """Discourse's answer to a perform; ``pending_count`` is the queue's length after it."""
    return {
        "success": "OK",
        "transition_to": ReviewableStatus(item.status).name.lower(),
        "transition_to_id": item.status,
        "version": item.version,
        "reviewable_count": pending_count,
        "remove_reviewable_ids": [item.id] if item.status != ReviewableStatus.PENDING else [],
    }
