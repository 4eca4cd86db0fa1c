"""GET /user_actions.json: a member's topics, replies and likes, newest first, as Discourse's clients list them."""
import pytest

from forum.content import excerpt
from forum.database import write_unit
from forum.extensions import db
from forum.models.base import utcnow
from forum.services import post_actions, posts, users
from tests.api.conftest import recorded_statements
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_topics import add_whisper, make_dialogue
from tests.api.test_topics import category, dialogue, insider, other, restricted_topic  # noqa: F401  (fixtures)


def actions(client, query: str, headers=None) -> list[dict]:
    response = client.get(f"/user_actions.json?{query}", headers=headers or {})
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "get", "/user_actions.json")
    return response.json["user_actions"]


def test_a_members_topics_and_replies_newest_first(client, dialogue, member, other):
    # dialogue: member opened it; other wrote posts 2 and 4; moderator 3 and 5.
    started = actions(client, "username=member&filter=4&offset=0")
    assert [(a["action_type"], a["topic_id"], a["post_number"]) for a in started] == [(4, dialogue.id, 1)]
    assert (started[0]["title"], started[0]["username"], started[0]["acting_username"], started[0]["target_username"]) == (
        dialogue.title, "member", "member", "member")
    replies = actions(client, "username=yan_yan&filter=5")
    assert [a["post_number"] for a in replies] == [4, 2]
    assert replies[0]["excerpt"] and replies[0]["excerpt"] in excerpt(post_of(dialogue, 4).cooked)
    assert [a["post_number"] for a in actions(client, "username=yan_yan&filter=4,5")] == [4, 2]


def test_likes_given_and_received(client, dialogue, member, other):
    second = post_of(dialogue, 2)  # other's
    post_actions.like(member, second)
    given = actions(client, "username=member&filter=1")
    assert [(a["action_type"], a["post_id"], a["username"], a["acting_username"], a["target_username"]) for a in given] == [
        (1, str(second.id), "yan_yan", "member", "member")]
    received = actions(client, "username=yan_yan&filter=2")
    assert [(a["action_type"], a["post_id"], a["username"], a["acting_username"], a["target_username"]) for a in received] == [
        (2, str(second.id), "yan_yan", "member", "yan_yan")]


def test_nothing_the_viewer_may_not_see(client, auth_headers, dialogue, restricted_topic, member, other, moderator, insider):
    """Restricted topics, deleted posts and whispers stay out, whoever asks about whom."""
    posts.delete_post(other, post_of(dialogue, 4))
    add_whisper(dialogue, moderator)
    assert [a["post_number"] for a in actions(client, "username=yan_yan&filter=5")] == [2]
    assert [a["post_number"] for a in actions(client, "username=moderator&filter=5")] == [5, 3]
    restricted_replies = [a for a in actions(client, "username=insider&filter=4,5", auth_headers(insider)) if a["topic_id"] == restricted_topic.id]
    assert restricted_replies
    assert all(a["topic_id"] != restricted_topic.id for a in actions(client, "username=insider&filter=4,5", auth_headers(other)))


def test_a_hidden_post_is_listed_for_staff_and_its_author_only_and_whispers_for_staff(client, auth_headers, dialogue, member, other, moderator):
    second = post_of(dialogue, 2)  # other's
    post_actions.like(member, second)
    with write_unit(db.session):
        second.hidden_at = utcnow()
    whisper = add_whisper(dialogue, moderator)
    for headers in ({}, auth_headers(member)):
        assert [a["post_number"] for a in actions(client, "username=yan_yan&filter=5", headers)] == [4]
        assert actions(client, "username=member&filter=1", headers) == []
        assert whisper.post_number not in [a["post_number"] for a in actions(client, "username=moderator&filter=5", headers)]
    for viewer in (other, moderator):
        shown = actions(client, "username=yan_yan&filter=5", auth_headers(viewer))
        assert [(a["post_number"], a["hidden"]) for a in shown] == [(4, None), (2, "true")]
    assert whisper.post_number in [a["post_number"] for a in actions(client, "username=moderator&filter=5", auth_headers(moderator))]


def test_likes_of_posts_the_viewer_cannot_list_stay_out(client, auth_headers, restricted_topic, member, insider, other):
    post_actions.like(member, post_of(restricted_topic, 2))  # insider's reply, in a category member and insider read
    assert [a["action_type"] for a in actions(client, "username=member&filter=1", auth_headers(insider))] == [1]
    assert actions(client, "username=member&filter=1", auth_headers(other)) == []
    assert actions(client, "username=insider&filter=2", auth_headers(other)) == []


def test_pages_of_thirty(client, member, other):
    topic = make_dialogue(member, [other], 35)
    first = actions(client, "username=yan_yan&filter=5&offset=0")
    second = actions(client, "username=yan_yan&filter=5&offset=30")
    assert len(first) == 30 and len(second) == 5
    assert [a["post_number"] for a in first + second] == list(range(36, 1, -1))
    assert {a["topic_id"] for a in first} == {topic.id}


def test_a_page_costs_the_same_few_queries_however_many_actions(client, member, other):
    def statements_for(replies: int) -> int:
        make_dialogue(member, [other], replies)
        with recorded_statements(requests_only=True) as statements:
            assert actions(client, "username=yan_yan&filter=1,2,4,5")
        return len(statements)

    assert statements_for(2) == statements_for(30)


@pytest.mark.parametrize("query, status", [
    ("filter=4", 400),
    ("username=nobody&filter=4", 404),
    ("username=member&filter=four", 400),
    ("username=member&offset=-1", 400),
])
def test_bad_requests_say_what_is_wrong(client, member, query, status):
    response = client.get(f"/user_actions.json?{query}")
    assert response.status_code == status and response.json["errors"], response.json


def test_an_account_waiting_for_activation_is_not_found_but_by_staff(client, auth_headers, member, moderator):
    users.create_user("pending", email="pending@example.com", password=None, active=False)
    for headers in ({}, auth_headers(member)):
        assert client.get("/user_actions.json?username=pending", headers=headers).status_code == 404
    assert actions(client, "username=pending", auth_headers(moderator)) == []


def test_types_the_forum_does_not_keep_find_nothing(client, dialogue, member):
    assert actions(client, "username=member&filter=3,6,7") == []
    assert {a["action_type"] for a in actions(client, "username=member")} == {4}
