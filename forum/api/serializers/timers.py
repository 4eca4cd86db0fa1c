"""Timers as Discourse shows them, and our dialogue schedules."""
from forum.api.serializers import iso
from forum.models import DialogueSchedule, Topic, TopicTimer


def topic_timer(timer: TopicTimer | None) -> dict | None:
    """The pending timer inside a topic's JSON, as Discourse sends it."""
    if timer is None:
        return None
    return {
        "id": timer.id,
        "execute_at": iso(timer.execute_at),
        "duration_minutes": timer.duration_minutes,
        "based_on_last_post": timer.based_on_last_post,
        "status_type": timer.status_type,
        "category_id": None,
    }


def timer_set_json(topic: Topic, timer: TopicTimer | None) -> dict:
    """The answer to POST /t/{id}/timer.json."""
    return {
        "success": "OK",
        "execute_at": iso(timer.execute_at) if timer else None,
        "duration_minutes": timer.duration_minutes if timer else None,
        "based_on_last_post": timer.based_on_last_post if timer else False,
        "closed": topic.closed,
        "category_id": None,
    }


def schedule_json(topic: Topic, schedule: DialogueSchedule | None) -> dict:
    if schedule is None:
        return {"dialogue_schedule": None}
    return {
        "dialogue_schedule": {
            "id": schedule.id,
            "topic_id": topic.id,
            "windows": schedule.windows,
            "timers": [
                {
                    "id": timer.id,
                    "status_type": timer.status_type,
                    "execute_at": iso(timer.execute_at),
                    "state": timer.state,
                    "fired_at": iso(timer.fired_at),
                    "outcome": timer.outcome,
                }
                for timer in schedule.timers
            ],
        }
    }
