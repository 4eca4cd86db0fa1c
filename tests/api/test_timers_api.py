"""Discourse's POST /t/{id}/timer.json, the pending timer in the topic JSON, and dialogue schedules."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import TimerState, TopicTimer
from forum.services import categories, timers, topics
from tests.api.spec import assert_matches_spec

BODY = "## Opening\n\nWhat has worked for your organisation so far?"


@pytest.fixture
def topic(member):
    return topics.create_topic(member, title="A dialogue with opening hours", raw=BODY)


def test_set_close_timer_in_hours_and_see_it_in_the_topic(client, auth_headers, moderator, topic):
    response = client.post(f"/t/{topic.id}/timer.json", data={"time": "24", "status_type": "close"}, headers=auth_headers(moderator))
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/t/{id}/timer.json")
    execute_at = datetime.fromisoformat(response.json["execute_at"].replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=59) < execute_at - datetime.now(timezone.utc) <= timedelta(hours=24)
    shown = client.get(f"/t/{topic.id}.json").json["topic_timer"]
    assert shown["status_type"] == "close" and shown["execute_at"] == response.json["execute_at"]


def test_json_body_with_iso_time_and_last_post_duration(client, auth_headers, moderator, topic):
    response = client.post(f"/t/{topic.id}/timer.json", json={"time": "2099-05-01T18:00:00Z", "status_type": "open"},
                           headers=auth_headers(moderator))
    assert response.json["execute_at"] == "2099-05-01T18:00:00.000Z"
    response = client.post(f"/t/{topic.id}/timer.json", json={"status_type": "close", "based_on_last_post": True,
                                                              "duration_minutes": 90}, headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json["based_on_last_post"] is True
    assert db.session.scalar(select(func.count()).select_from(TopicTimer).where(TopicTimer.state == TimerState.PENDING)) == 1


def test_empty_time_cancels(client, auth_headers, moderator, topic):
    client.post(f"/t/{topic.id}/timer.json", data={"time": "5"}, headers=auth_headers(moderator))
    response = client.post(f"/t/{topic.id}/timer.json", data={"time": ""}, headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json["execute_at"] is None
    assert client.get(f"/t/{topic.id}.json").json["topic_timer"] is None


def test_an_object_for_the_time_is_400_and_keeps_the_timer(client, auth_headers, moderator, topic):
    """Only an empty time cancels: an object, which a form cannot send as one field, is not an empty one."""
    client.post(f"/t/{topic.id}/timer.json", data={"time": "5"}, headers=auth_headers(moderator))
    for body in ({"time": {"hours": "24"}}, {"time": {"at": "", "hours": "24"}}):
        response = client.post(f"/t/{topic.id}/timer.json", json=body, headers=auth_headers(moderator))
        assert response.status_code == 400 and response.json["errors"] == ["time must be a string."], body
    response = client.post(f"/t/{topic.id}/timer.json", data={"time[hours]": "24"}, headers=auth_headers(moderator))
    assert response.status_code == 400
    assert client.get(f"/t/{topic.id}.json").json["topic_timer"]["status_type"] == "close"


@pytest.mark.parametrize("body, status", [
    ({"time": "tomorrowish"}, 400),
    ({"time": "3", "status_type": "explode"}, 400),
    ({"status_type": "close", "based_on_last_post": "true"}, 400),
    ({"time": "1", "duration_minutes": "99999999999999999999"}, 400),
    ({"status_type": "close", "time": "nan"}, 400),
    ({"status_type": "close", "time": "inf"}, 400),
    ({"status_type": "close", "time": "1e12"}, 400),
    ({"status_type": "close", "time": "nan", "based_on_last_post": "true"}, 400),
    ({"status_type": "close", "time": "1e12", "based_on_last_post": "true"}, 400),
    ({"status_type": "close", "duration_minutes": "2000000000", "based_on_last_post": "true"}, 400),
])
def test_bad_timer_requests_are_refused_and_store_nothing(client, auth_headers, moderator, topic, body, status):
    response = client.post(f"/t/{topic.id}/timer.json", data=body, headers=auth_headers(moderator))
    assert response.status_code == status and response.json["errors"]
    assert db.session.scalar(select(func.count()).select_from(TopicTimer)) == 0


def test_members_and_anonymous_may_not_set_timers(client, auth_headers, member, topic):
    assert client.post(f"/t/{topic.id}/timer.json", data={"time": "1"}, headers=auth_headers(member)).status_code == 403
    anonymous = client.post(f"/t/{topic.id}/timer.json", data={"time": "1"})
    assert anonymous.status_code == 403
    assert client.post("/t/999999/timer.json", data={"time": "1"}, headers=auth_headers(member)).status_code == 404


def test_a_topic_the_caller_may_not_see_is_a_404_for_timers_and_schedules_as_one_that_does_not_exist(client, auth_headers, admin, member, moderator, topic):
    """A 403 there told a member that a restricted or deleted topic exists."""
    staff_only = categories.create_category(admin, {"name": "Staff room"}, {"staff": 1})
    hidden = topics.create_topic(moderator, title="A dialogue the members cannot see", raw=BODY, category=staff_only)
    gone = topics.create_topic(member, title="A dialogue deleted by staff", raw=BODY)
    topics.delete_topic(moderator, gone)
    windows = {"windows": [{"open_at": "2099-01-01T00:00:00Z", "close_at": "2099-01-02T00:00:00Z"}]}
    for topic_id in (hidden.id, gone.id, 999999):
        for method, path, body in (("post", "timer", {"time": "1"}), ("post", "dialogue-schedule", windows), ("put", "dialogue-schedule", windows),
                                   ("delete", "dialogue-schedule", None), ("get", "dialogue-schedule", None)):
            response = client.open(f"/t/{topic_id}/{path}.json", method=method.upper(), json=body, headers=auth_headers(member))
            assert (response.status_code, response.json["error_type"]) == (404, "not_found"), (topic_id, method, path)
    assert client.post(f"/t/{hidden.id}/timer.json", data={"time": "1"}, headers=auth_headers(moderator)).status_code == 200


def test_dialogue_schedule_by_recurrence(client, auth_headers, moderator, member, topic):
    first = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    response = client.post(f"/t/{topic.id}/dialogue-schedule.json", headers=auth_headers(moderator), json={
        "first_open_at": first.isoformat(), "open_hours": 48, "every_days": 7, "count": 4})
    assert response.status_code == 200, response.json
    schedule = response.json["dialogue_schedule"]
    assert len(schedule["windows"]) == 4 and len(schedule["timers"]) == 8
    kinds = [timer["status_type"] for timer in schedule["timers"]]
    assert kinds == ["open", "close"] * 4
    assert client.get(f"/t/{topic.id}/dialogue-schedule.json").json == response.json  # readers see it too
    # The schedule's timers are not the topic's Discourse timer.
    assert client.get(f"/t/{topic.id}.json").json["topic_timer"] is None
    assert client.delete(f"/t/{topic.id}/dialogue-schedule.json", headers=auth_headers(moderator)).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(TopicTimer).where(TopicTimer.state == TimerState.PENDING)) == 0


def test_dialogue_schedule_windows_fire_in_turn(client, auth_headers, moderator, topic):
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    windows = [{"open_at": (soon + timedelta(days=d)).isoformat(), "close_at": (soon + timedelta(days=d, hours=6)).isoformat()}
               for d in (0, 7)]
    response = client.post(f"/t/{topic.id}/dialogue-schedule.json", json={"windows": windows}, headers=auth_headers(moderator))
    assert response.status_code == 200
    topics.set_status(moderator, topic, "closed", True)
    # The first window opens, then closes: each transition fires once, through the timer machinery.
    for expected_closed, at in ((False, soon), (True, soon + timedelta(hours=6))):
        for timer_id in timers.claim_due_timers(limit=10, now=at + timedelta(seconds=1)):
            timers.fire_timer(timer_id)
        db.session.rollback()
        assert db.session.get(type(topic), topic.id).closed is expected_closed
    states = db.session.scalars(select(TopicTimer.state).order_by(TopicTimer.execute_at)).all()
    assert states == ["fired", "fired", "pending", "pending"]


@pytest.mark.parametrize("windows", [
    [{"open_at": "2099-01-02T00:00:00Z", "close_at": "2099-01-01T00:00:00Z"}],
    [{"open_at": "2099-01-01T00:00:00Z", "close_at": "2099-01-03T00:00:00Z"},
     {"open_at": "2099-01-02T00:00:00Z", "close_at": "2099-01-04T00:00:00Z"}],
    [{"open_at": "2099-01-01T00:00:00Z"}],
    [],
])
def test_bad_schedules_are_refused(client, auth_headers, moderator, topic, windows):
    response = client.post(f"/t/{topic.id}/dialogue-schedule.json", json={"windows": windows}, headers=auth_headers(moderator))
    assert response.status_code in (400, 422) and response.json["errors"]
    assert db.session.scalar(select(func.count()).select_from(TopicTimer)) == 0


def test_members_cannot_schedule(client, auth_headers, member, topic):
    response = client.post(f"/t/{topic.id}/dialogue-schedule.json", json={"windows": [
        {"open_at": "2099-01-01T00:00:00Z", "close_at": "2099-01-02T00:00:00Z"}]}, headers=auth_headers(member))
    assert response.status_code == 403


@pytest.mark.parametrize("windows", [[{"open_at": "2099-01-01T00:00:00Z", "close_at": ""}], [{"open_at": " ", "close_at": "2099-01-01T00:00:00Z"}]])
def test_a_window_with_a_blank_timestamp_is_refused(client, auth_headers, moderator, topic, windows):
    response = client.post(f"/t/{topic.id}/dialogue-schedule.json", json={"windows": windows}, headers=auth_headers(moderator))
    assert response.status_code == 422 and response.json["errors"] == ["Each window needs open_at and close_at timestamps."]
    assert db.session.scalar(select(func.count()).select_from(TopicTimer)) == 0


@pytest.mark.parametrize(("recurrence", "status", "error"), [
    ({"first_open_at": " ", "open_hours": 48}, 400, "param is missing or the value is empty: first_open_at"),
    ({"first_open_at": "2099-01-01T18:00:00Z", "open_hours": 2**31}, 422, "A recurring schedule spans at most 10 years."),
    ({"first_open_at": "2099-01-01T18:00:00Z", "open_hours": 2, "every_days": 10**30, "count": 2}, 422,
     "A recurring schedule spans at most 10 years."),
    ({"first_open_at": "9999-12-31T00:00:00Z", "open_hours": 48}, 422, "A schedule must end before the year 10000."),
])  # fmt: skip
def test_recurrences_that_cannot_be_scheduled_are_refused(client, auth_headers, moderator, topic, recurrence, status, error):
    response = client.post(f"/t/{topic.id}/dialogue-schedule.json", json=recurrence, headers=auth_headers(moderator))
    assert response.status_code == status and response.json["errors"] == [error]
    assert db.session.scalar(select(func.count()).select_from(TopicTimer)) == 0


@pytest.mark.parametrize("open_hours", ["nan", "inf", "soon"])
def test_recurrence_numbers_must_be_real_numbers(client, auth_headers, moderator, topic, open_hours):
    response = client.post(f"/t/{topic.id}/dialogue-schedule.json", headers=auth_headers(moderator), json={
        "first_open_at": "2099-01-01T18:00:00Z", "open_hours": open_hours, "count": 2})
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"
    assert db.session.scalar(select(func.count()).select_from(TopicTimer)) == 0
