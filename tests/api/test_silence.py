"""PUT /admin/users/{id}/silence.json and /unsilence.json: staff silence a member, who then reads and signs in but
posts and edits nothing until the date set, as Discourse's silencing."""
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import AuditLogEntry, Post, User
from forum.models.base import utcnow
from forum.services import bots, posts, topics
from tests.api.factories import set_columns
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_topics import category, dialogue, other  # noqa: F401  (fixtures)

UNTIL = "2099-01-01T00:00:00Z"
REPLY = "Replying again with the same accusations as before, in capitals."


def silence(client, headers, user_id: int, **body):
    return client.put(f"/admin/users/{user_id}/silence.json", json={"silenced_till": UNTIL, "reason": "Repeated personal attacks", **body},
                      headers=headers)


def test_a_silenced_member_reads_and_likes_but_posts_and_edits_nothing_until_unsilenced(client, auth_headers, dialogue, other, moderator):
    own_topic = topics.create_topic(other, title="What our coalition asked of the brands", raw=REPLY)
    withdrawn = posts.create_reply(other, dialogue, raw="A reply I took back before the silence.")
    posts.delete_post(other, withdrawn)
    response = silence(client, auth_headers(moderator), other.id)
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "put", "/admin/users/{id}/silence.json")
    assert response.json["silence"]["silenced"] is True and response.json["silence"]["silenced_by"]["username"] == "moderator"
    assert response.json["silence"]["silenced_till"] == "2099-01-01T00:00:00.000Z"

    headers = auth_headers(other)
    assert client.get(f"/t/{dialogue.id}.json", headers=headers).status_code == 200
    posts_before = db.session.query(Post).count()
    for request in (
        lambda: client.post("/posts.json", json={"topic_id": dialogue.id, "raw": REPLY}, headers=headers),
        lambda: client.post("/posts.json", json={"title": "A new topic to shout in", "raw": REPLY}, headers=headers),
        lambda: client.put(f"/posts/{post_of(dialogue, 2).id}.json", json={"post": {"raw": REPLY}}, headers=headers),
        lambda: client.put(f"/t/-/{own_topic.id}.json", json={"title": "A title to shout in capitals"}, headers=headers),
        lambda: client.put(f"/posts/{withdrawn.id}/recover.json", headers=headers),
    ):
        refused = request()
        assert refused.status_code == 403, refused.json
        assert refused.json["errors"] == ["You have been silenced until 2099-01-01 00:00 UTC: you cannot post or edit."]
    assert db.session.query(Post).count() == posts_before
    liked = client.post("/post_actions.json", json={"id": post_of(dialogue, 3).id, "post_action_type_id": 2}, headers=headers)
    assert liked.status_code == 200

    unsilenced = client.put(f"/admin/users/{other.id}/unsilence.json", headers=auth_headers(moderator))
    assert unsilenced.status_code == 200 and unsilenced.json == {"unsilence": {"silenced": False}}
    assert client.post("/posts.json", json={"topic_id": dialogue.id, "raw": REPLY}, headers=headers).status_code == 200
    actions = [e.action for e in db.session.query(AuditLogEntry).filter(AuditLogEntry.action.like("user.%silence")).order_by(AuditLogEntry.id)]
    assert actions == ["user.silence", "user.unsilence"]


def test_a_silence_ends_on_its_own_date(client, auth_headers, dialogue, other, moderator):
    assert silence(client, auth_headers(moderator), other.id).status_code == 200
    set_columns(User, other.id, silenced_till=utcnow() - timedelta(seconds=1))
    assert client.post("/posts.json", json={"topic_id": dialogue.id, "raw": REPLY}, headers=auth_headers(other)).status_code == 200


@pytest.mark.parametrize("body, says", [
    ({"silenced_till": ""}, "param is missing or the value is empty: silenced_till"),
    ({"silenced_till": "tomorrow"}, "silenced_till must be an ISO 8601 date or time, such as 2121-02-22."),
    ({"silenced_till": "2001-01-01"}, "silenced_till must be in the future."),
    ({"reason": ""}, "param is missing or the value is empty: reason"),
])
def test_a_silence_without_a_future_end_or_a_reason_is_refused(client, auth_headers, other, moderator, body, says):
    response = silence(client, auth_headers(moderator), other.id, **body)
    assert response.status_code == 400 and response.json == {"errors": [says], "error_type": "invalid_parameters"}
    db.session.refresh(other)
    assert other.silenced_till is None


def test_who_may_not_be_silenced(client, auth_headers, member, other, moderator, admin):
    for actor, target, says in [
        (member, other, "Only staff can do that."),
        (admin, moderator, "Staff cannot be silenced: change their role first."),
        (moderator, moderator, "You cannot silence or unsilence yourself."),
        (moderator, admin, "Only admins can silence or unsilence an admin."),
        (admin, bots.system_user(), "The forum's bots cannot be silenced."),
    ]:
        response = silence(client, auth_headers(actor), target.id)
        assert response.status_code == 403 and response.json["errors"] == [says], (actor, target, response.json)


def test_silencing_the_silenced_is_refused_and_changes_nothing(client, auth_headers, other, moderator, admin):
    assert silence(client, auth_headers(moderator), other.id).status_code == 200
    again = silence(client, auth_headers(admin), other.id, silenced_till="2030-01-01", reason="Shorter")
    assert again.status_code == 422 and again.json["errors"] == ["yan_yan is already silenced."]
    db.session.refresh(other)
    assert (other.silence_reason, other.silenced_till.year) == ("Repeated personal attacks", 2099)
