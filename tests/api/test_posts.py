"""Discourse's post endpoints: latest posts, creating, reading, editing, deleting, recovering, replies,
revisions, likes and the raw export."""
import difflib
import re
import threading
import time

import pytest
from sqlalchemy import func, select, update

from forum.api.serializers.posts import MAX_DIFF_WORK
from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import AuditLogEntry, Post, PostAction, PostRevision, PostType, Tag, Topic, User
from forum.services import post_actions, posts, topics
from tests.api.conftest import recorded_statements
from tests.api.spec import assert_matches_spec
from tests.api.test_topics import (  # noqa: F401  (fixtures)
    OPENING,
    add_whisper,
    category,
    count,
    dialogue,
    insider,
    make_dialogue,
    other,
    post_ids,
    reply_text,
    restricted_topic,
)
from tests.conftest import run_together

REPLY = "## Response to the opening\n\nTraining supplier managers changed more than audits did."


def post_of(topic: Topic, post_number: int) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == post_number))


# GET /posts.json


def test_latest_posts_newest_first_across_topics(client, auth_headers, dialogue, member, other, moderator):
    elsewhere = make_dialogue(other, [member], 1, tag_names=())
    topics.set_status(moderator, elsewhere, "closed", True)  # a small action: not a post of the list
    posts.delete_post(moderator, post_of(dialogue, 5))
    response = client.get("/posts.json", headers=auth_headers(member))
    assert_matches_spec(response, "get", "/posts.json")
    latest = response.json["latest_posts"]
    expected = [post_of(elsewhere, 2), post_of(elsewhere, 1), post_of(dialogue, 4), post_of(dialogue, 3), post_of(dialogue, 2), post_of(dialogue, 1)]
    assert [post["id"] for post in latest] == [post.id for post in expected]
    newest = latest[0]
    assert (newest["topic_title"], newest["raw"], newest["post_url"]) == (elsewhere.title, reply_text(2), f"/t/{elsewhere.slug}/{elsewhere.id}/2")
    assert newest["excerpt"].startswith("Reply 2 Training supplier managers") and newest["truncated"] is False
    assert (latest[2]["category_id"], newest["category_id"]) == (dialogue.category_id, 0)  # 0: no category


def test_latest_posts_leave_out_what_the_caller_may_not_see(client, auth_headers, restricted_topic, insider, other, moderator):
    restricted = set(post_ids(restricted_topic))
    for user in (None, other):
        assert client.get("/posts.json", headers=auth_headers(user)).json["latest_posts"] == []
    for user in (insider, moderator):
        assert {post["id"] for post in client.get("/posts.json", headers=auth_headers(user)).json["latest_posts"]} == restricted


def test_latest_posts_page_with_before(client, member):
    topic = topics.create_topic(member, title="A long dialogue on buycotts", raw=OPENING)
    with write_unit(db.session):
        for n in range(2, 61):
            posts.append_post(topic, member, raw=reply_text(n), cooked=cook(reply_text(n)))
    ids = sorted(post_ids(topic), reverse=True)
    first = client.get("/posts.json").json["latest_posts"]
    assert [post["id"] for post in first] == ids[:50]
    second = client.get(f"/posts.json?before={first[-1]['id']}").json["latest_posts"]
    assert [post["id"] for post in second] == ids[50:]
    assert client.get("/posts?before=0").json == client.get("/posts.json").json
    assert client.get("/posts.json?before=soon").status_code == 400


# POST /posts.json


def test_a_new_topic_with_category_and_tags_from_a_json_body(client, auth_headers, member, category):
    body = {"title": "How do NGOs work with companies?", "raw": OPENING, "category": category.id, "tags": ["Training", "carrotmob"]}
    response = client.post("/posts.json", json=body, headers=auth_headers(member))
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/posts.json")
    created = response.json
    assert (created["post_number"], created["username"], created["raw"], created["yours"]) == (1, "member", OPENING, True)
    topic = db.session.get(Topic, created["topic_id"])
    assert (topic.title, topic.category_id, [tag.name for tag in topic.tags]) == (body["title"], category.id, ["carrotmob", "training"])
    assert created["topic_slug"] == topic.slug and created["post_url"] == f"/t/{topic.slug}/{topic.id}/1"


def test_a_new_topic_from_a_form_body_with_tags_list(client, auth_headers, member, category):
    form = {"title": "Buycott planning checklist", "raw": OPENING, "category": str(category.id), "tags[]": ["buycott", "planning"]}
    response = client.post("/posts", data=form, headers=auth_headers(member))
    assert response.status_code == 200, response.json
    topic = db.session.get(Topic, response.json["topic_id"])
    assert [tag.name for tag in topic.tags] == ["buycott", "planning"]


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_reply_to_a_post(client, auth_headers, dialogue, other, encoding):
    body = {"topic_id": dialogue.id, "raw": REPLY, "reply_to_post_number": 2}
    kwargs = {"json": body} if encoding == "json" else {"data": body}
    response = client.post("/posts.json", headers=auth_headers(other), **kwargs)
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/posts.json")
    assert (response.json["post_number"], response.json["reply_to_post_number"], response.json["posts_count"]) == (6, "2", 6)
    assert post_of(dialogue, 2).reply_count == 2


def test_a_reply_reads_the_caller_and_the_topic_once(client, auth_headers, dialogue, other):
    """The forum's hot path: the caller (key and user in one query), the topic, whether its category is readable,
    then three writes (the statement numbering the post also says whether the topic has a timer to move). Nothing is read again after a commit, and the response shows what was stored."""
    headers, topic_id, username = auth_headers(other), dialogue.id, other.username
    db.session.remove()  # a fresh session, as a real request has
    with recorded_statements(requests_only=True) as statements:
        response = client.post("/posts.json", json={"topic_id": topic_id, "raw": REPLY}, headers=headers)
    assert response.status_code == 200, response.json
    queries = [statement for statement in statements if statement.split()[0].upper() not in {"BEGIN", "COMMIT"}]
    tables = [re.search(r"\b(?:FROM|UPDATE|INTO)\s+(\w+)", query, re.I).group(1) for query in queries]
    assert tables == ["api_keys", "topics", "categories", "topics", "posts", "topic_users"], "\n".join(queries)
    stored = db.session.get(Post, response.json["id"])
    assert (response.json["post_number"], response.json["posts_count"], response.json["username"]) == (stored.post_number, 6, username)


def test_fields_only_an_importer_sets_are_ignored(client, auth_headers, dialogue, member, other):
    body = {"topic_id": dialogue.id, "raw": REPLY, "user_id": member.id, "post_number": 99, "post_type": 4, "username": "member",
            "created_at": "2001-01-01T00:00:00Z"}  # fmt: skip
    response = client.post("/posts.json", json=body, headers=auth_headers(other))
    assert response.status_code == 200
    post = db.session.get(Post, response.json["id"])
    assert (post.user_id, post.post_number, post.post_type, post.created_at.year) == (other.id, 6, PostType.REGULAR, post.updated_at.year)
    assert post.created_at.year > 2001


def test_a_closed_topic_takes_replies_from_staff_only(client, auth_headers, dialogue, other, moderator):
    topics.set_status(moderator, dialogue, "closed", True)
    refused = client.post("/posts.json", json={"topic_id": dialogue.id, "raw": REPLY}, headers=auth_headers(other))
    assert refused.status_code == 403
    assert refused.json == {"errors": ["This topic is closed; it takes no new replies."], "error_type": "invalid_access"}
    assert count(Post, Post.user_id == other.id) == 2
    assert client.post("/posts.json", json={"topic_id": dialogue.id, "raw": REPLY}, headers=auth_headers(moderator)).status_code == 200


def test_an_edit_answers_with_the_post_as_it_left_it(client, auth_headers, dialogue, other, monkeypatch):
    """Another edit that commits between this edit's commit and its answer (here: a write on another connection, made
    as the answer's context is loaded) does not show in this edit's answer."""
    second = post_of(dialogue, 2)
    load_context = posts.load_context

    def context_after_a_later_edit(viewer, shown):
        with db.engine.begin() as other_request:
            other_request.execute(update(Post).where(Post.id == second.id).values(raw="A later edit, by someone else.", version=3))
        return load_context(viewer, shown)

    monkeypatch.setattr(posts, "load_context", context_after_a_later_edit)
    response = client.put(f"/posts/{second.id}.json", json={"post": {"raw": REPLY + " Mine."}}, headers=auth_headers(other))
    assert response.status_code == 200, response.json
    assert (response.json["post"]["raw"], response.json["post"]["version"]) == (REPLY + " Mine.", 2)


@pytest.mark.parametrize(
    "who, body, status",
    [
        (None, {"topic_id": "dialogue", "raw": REPLY}, 403),
        ("other", {"topic_id": "dialogue"}, 400),
        ("other", {"topic_id": "dialogue", "raw": ""}, 400),
        ("other", {"topic_id": "dialogue", "raw": "   too short   "}, 422),
        ("other", {"topic_id": "dialogue", "raw": "x" * 32001}, 422),
        ("other", {"topic_id": "dialogue", "raw": REPLY, "reply_to_post_number": 99}, 422),
        ("other", {"topic_id": "dialogue", "raw": REPLY, "reply_to_post_number": "two"}, 400),
        ("other", {"topic_id": "abc", "raw": REPLY}, 400),
        ("other", {"topic_id": 424242, "raw": REPLY}, 404),
        ("other", {"topic_id": "restricted", "raw": REPLY}, 404),
        ("other", {"title": "short", "raw": OPENING}, 422),
        ("other", {"raw": OPENING}, 422),
        ("other", {"title": "A good title for a topic", "raw": OPENING, "category": 424242}, 422),
        ("other", {"title": "A good title for a topic", "raw": OPENING, "category": "restricted"}, 422),
        ("other", {"title": "A good title for a topic", "raw": OPENING, "archetype": "banner"}, 400),
        ("other", {"title": "A good title for a topic", "raw": OPENING, "archetype": "regular", "target_recipients": "member"}, 400),
        ("other", {"title": "A good title for a topic", "raw": OPENING, "archetype": "private_message"}, 422),
        ("other", {"title": "A good title for a topic", "raw": OPENING, "target_recipients": "nobody_by_that_name"}, 422),
        ("other", {"title": "A good title for a topic", "raw": OPENING, "target_recipients": "member", "category": "restricted"}, 422),
    ],
)
def test_bad_posts_are_refused_and_nothing_is_stored(client, auth_headers, request, dialogue, restricted_topic, who, body, status):
    named = {"dialogue": dialogue.id, "restricted": restricted_topic.id}
    body = {key: named.get(value, value) if key == "topic_id" else value for key, value in body.items()}
    if body.get("category") == "restricted":
        body["category"] = restricted_topic.category_id
    user = request.getfixturevalue(who) if who else None
    before = (count(Post), count(Topic), count(Tag))
    response = client.post("/posts.json", json=body, headers=auth_headers(user))
    assert response.status_code == status, response.json
    assert response.json["errors"] and response.json["error_type"]
    assert (count(Post), count(Topic), count(Tag)) == before


# GET /posts/{id}.json and /posts/by_number


def test_a_single_post_with_its_markdown_and_likes(client, auth_headers, dialogue, member, other, moderator):
    second = post_of(dialogue, 2)
    post_actions.like(member, second)
    response = client.get(f"/posts/{second.id}.json", headers=auth_headers(member))
    assert_matches_spec(response, "get", "/posts/{id}.json")
    shown = response.json
    assert (shown["raw"], shown["post_number"], shown["reply_to_post_number"], shown["posts_count"]) == (reply_text(2), 2, "1", 5)
    assert shown["actions_summary"] == [{"id": 2, "count": 1, "acted": True, "can_undo": True}]
    seen_by_moderator = client.get(f"/posts/{second.id}.json", headers=auth_headers(moderator)).json
    assert seen_by_moderator["actions_summary"] == [{"id": 2, "count": 1, "can_act": True}]
    seen_by_author = client.get(f"/posts/{second.id}", headers=auth_headers(other)).json
    assert seen_by_author["actions_summary"] == [{"id": 2, "count": 1}]
    by_number = client.get(f"/posts/by_number/{dialogue.id}/2.json")
    assert_matches_spec(by_number, "get", "/posts/{id}.json")
    assert by_number.json["id"] == second.id


def test_a_deleted_post_is_seen_by_its_author_and_staff_only(client, auth_headers, dialogue, member, other, moderator):
    second = post_of(dialogue, 2)
    posts.delete_post(other, second)
    for user in (None, member):
        assert client.get(f"/posts/{second.id}.json", headers=auth_headers(user)).status_code == 404
        assert client.get(f"/posts/by_number/{dialogue.id}/2.json", headers=auth_headers(user)).status_code == 404
    for user in (other, moderator):
        assert client.get(f"/posts/{second.id}.json", headers=auth_headers(user)).json["deleted_at"] is not None


def test_posts_of_restricted_topics_and_whispers_are_not_found(client, auth_headers, restricted_topic, dialogue, insider, other, moderator):
    hidden = post_of(restricted_topic, 2)
    whisper = add_whisper(dialogue, moderator)
    for url in (f"/posts/{hidden.id}.json", f"/posts/{whisper.id}.json", f"/posts/by_number/{restricted_topic.id}/2", "/posts/424242.json"):
        response = client.get(url, headers=auth_headers(other))
        assert (response.status_code, response.json["error_type"]) == (404, "not_found"), url
    assert client.get(f"/posts/{hidden.id}.json", headers=auth_headers(insider)).status_code == 200
    assert client.get(f"/posts/{whisper.id}.json", headers=auth_headers(moderator)).status_code == 200


# PUT /posts/{id}.json


@pytest.mark.parametrize(
    "body_for",
    [
        lambda raw: {"json": {"post": {"raw": raw, "edit_reason": "clarity"}}},
        lambda raw: {"data": {"post[raw]": raw, "post[edit_reason]": "clarity"}},
        lambda raw: {"json": {"raw": raw, "edit_reason": "clarity"}},
    ],
    ids=["json-nested", "form-nested", "json-plain"],
)
def test_the_author_edits_a_post_and_a_revision_is_kept(client, auth_headers, dialogue, other, body_for):
    second = post_of(dialogue, 2)
    response = client.put(f"/posts/{second.id}.json", headers=auth_headers(other), **body_for(REPLY + " Edited."))
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "put", "/posts/{id}.json")
    edited = response.json["post"]
    assert (edited["version"], edited["raw"], edited["edit_reason"]) == (2, REPLY + " Edited.", "clarity")
    revision = db.session.scalar(select(PostRevision).where(PostRevision.post_id == second.id))
    assert (revision.number, revision.raw_before, revision.raw_after) == (2, reply_text(2), REPLY + " Edited.")


@pytest.mark.parametrize(
    "who, body, status",
    [
        (None, {"post": {"raw": REPLY}}, 403),
        ("member", {"post": {"raw": REPLY}}, 403),
        ("member", {"post": {"raw": "   tiny   "}}, 403),  # may not edit it: told that, not what the text lacks
        ("other", {"post": {}}, 400),
        ("other", {"post": {"raw": ""}}, 400),
        ("other", {"post": {"raw": "   tiny   "}}, 422),
        ("other", {"post": {"raw": ["a", "list"]}}, 400),
        ("other", {}, 400),
    ],
)
def test_bad_edits_are_refused_and_nothing_is_stored(client, auth_headers, request, dialogue, who, body, status):
    second = post_of(dialogue, 2)
    user = request.getfixturevalue(who) if who else None
    response = client.put(f"/posts/{second.id}.json", json=body, headers=auth_headers(user))
    assert response.status_code == status, response.json
    db.session.refresh(second)
    assert (second.raw, second.version, count(PostRevision)) == (reply_text(2), 1, 0)


def test_staff_edits_of_someone_elses_post_are_audited(client, auth_headers, dialogue, moderator):
    second = post_of(dialogue, 2)
    assert client.put(f"/posts/{second.id}", data={"post[raw]": REPLY}, headers=auth_headers(moderator)).status_code == 200
    assert count(AuditLogEntry, AuditLogEntry.action == "post.edit", AuditLogEntry.actor_id == moderator.id) == 1


def test_an_edit_of_a_post_one_cannot_see_is_not_found(client, auth_headers, restricted_topic, other):
    hidden = post_of(restricted_topic, 2)
    assert client.put(f"/posts/{hidden.id}.json", json={"post": {"raw": REPLY}}, headers=auth_headers(other)).status_code == 404


# DELETE /posts/{id}.json and PUT /posts/{id}/recover.json


def test_the_author_deletes_and_recovers_a_reply(client, auth_headers, dialogue, member, other):
    second = post_of(dialogue, 2)
    assert client.delete(f"/posts/{second.id}.json", headers=auth_headers(member)).status_code == 403
    response = client.delete(f"/posts/{second.id}.json", headers=auth_headers(other))
    assert (response.status_code, response.get_data()) == (200, b"")
    assert_matches_spec(response, "delete", "/posts/{id}.json")
    assert client.get(f"/t/{dialogue.id}.json").json["posts_count"] == 4

    recovered = client.put(f"/posts/{second.id}/recover.json", headers=auth_headers(other))
    assert recovered.status_code == 200
    assert_matches_spec(recovered, "get", "/posts/{id}.json")  # the same shape as GET /posts/{id}.json
    assert recovered.json["deleted_at"] is None
    assert client.get(f"/t/{dialogue.id}.json").json["posts_count"] == 5


def test_closing_stops_replies_but_not_the_authors_corrections_and_archiving_freezes_the_posts(client, auth_headers, dialogue, other, moderator):
    """As Discourse's PostGuardian: in a closed topic authors still edit, delete and recover their posts; in an archived
    one only staff do."""
    second = post_of(dialogue, 2)
    author = auth_headers(other)
    topics.set_status(moderator, dialogue, "closed", True)
    edited = client.put(f"/posts/{second.id}.json", json={"post": {"raw": REPLY + " Corrected after the close."}}, headers=author)
    assert edited.status_code == 200, edited.json
    assert client.delete(f"/posts/{second.id}.json", headers=author).status_code == 200
    assert client.put(f"/posts/{second.id}/recover.json", headers=author).status_code == 200

    posts.delete_post(other, second)
    topics.set_status(moderator, dialogue, "archived", True)
    refused = client.put(f"/posts/{second.id}/recover.json", headers=author)
    assert refused.json == {"errors": ["This topic is archived; its posts can no longer be recovered."], "error_type": "invalid_access"}
    third = post_of(dialogue, 4)  # by other too
    assert third.user_id == other.id
    assert client.put(f"/posts/{third.id}.json", json={"post": {"raw": REPLY + " Too late."}}, headers=author).status_code == 403
    assert client.delete(f"/posts/{third.id}.json", headers=author).status_code == 403
    db.session.refresh(second)
    db.session.refresh(third)
    assert second.is_deleted and not third.is_deleted and "Too late" not in third.raw
    assert client.put(f"/posts/{second.id}/recover.json", headers=auth_headers(moderator)).status_code == 200


def test_recovering_a_post_names_what_is_wrong(client, auth_headers, dialogue, member, other):
    second = post_of(dialogue, 2)
    assert client.put(f"/posts/{second.id}/recover.json", headers=auth_headers(other)).status_code == 200  # live: nothing to do
    refused = client.put(f"/posts/{second.id}/recover.json", headers=auth_headers(member))
    assert refused.json == {"errors": ["You can only recover your own posts."], "error_type": "invalid_access"}


def test_a_deleted_or_whispered_last_post_is_nobodys_last_post_nor_anyones_unread(client, auth_headers, dialogue, member, other, moderator):
    """As Discourse's Topic.reset_highest: the topic names its last live post's author and number again, and a member
    who read every post they can see has nothing unread. Numbers already given are never given again."""
    reader = auth_headers(member)
    last = posts.create_reply(other, dialogue, raw=REPLY)  # post 6, by other
    assert client.post("/topics/timings.json", json={"topic_id": dialogue.id, "topic_time": 1000, "timings": {str(n): 1000 for n in range(1, 6)}},
                       headers=reader).status_code == 200
    before = {t["id"]: t for t in client.get("/latest.json", headers=reader).json["topic_list"]["topics"]}[dialogue.id]
    assert (before["highest_post_number"], before["unread_posts"], before["last_poster_username"]) == (6, 1, other.username)

    assert client.delete(f"/posts/{last.id}.json", headers=auth_headers(other)).status_code == 200
    add_whisper(db.session.get(Topic, dialogue.id), moderator)  # post 7, for staff only
    five = post_of(dialogue, 5)
    for viewer in (member, None):
        listed = {t["id"]: t for t in client.get("/latest.json", headers=auth_headers(viewer)).json["topic_list"]["topics"]}[dialogue.id]
        assert (listed["highest_post_number"], listed["last_poster_username"]) == (5, five.user.username)
        assert listed["last_posted_at"].startswith(five.created_at.strftime("%Y-%m-%dT%H:%M"))
    assert dialogue.id not in [t["id"] for t in client.get("/unread.json", headers=reader).json["topic_list"]["topics"]]
    assert client.get(f"/t/{dialogue.id}.json", headers=reader).json["details"]["last_poster"]["username"] == five.user.username

    assert client.put(f"/posts/{last.id}/recover.json", headers=auth_headers(other)).status_code == 200
    listed = {t["id"]: t for t in client.get("/latest.json", headers=reader).json["topic_list"]["topics"]}[dialogue.id]
    assert (listed["highest_post_number"], listed["unread_posts"], listed["last_poster_username"]) == (6, 1, other.username)
    assert posts.create_reply(member, db.session.get(Topic, dialogue.id), raw=REPLY).post_number == 8  # after the whisper


def test_editing_the_last_post_bumps_the_topic_and_an_earlier_one_does_not(client, auth_headers, dialogue, member, other, moderator):
    """As Discourse's PostRevisor: a new version of the last post brings the topic up in /latest."""
    newer = make_dialogue(member, [other], 1)

    def latest_first() -> int:
        return client.get("/latest.json").json["topic_list"]["topics"][0]["id"]

    assert latest_first() == newer.id
    earlier = post_of(dialogue, 2)
    assert client.put(f"/posts/{earlier.id}.json", json={"post": {"raw": REPLY + " Edited earlier."}}, headers=auth_headers(earlier.user)).status_code == 200
    assert latest_first() == newer.id
    last = post_of(dialogue, 5)
    assert client.put(f"/posts/{last.id}.json", json={"post": {"raw": REPLY + " Edited last."}}, headers=auth_headers(last.user)).status_code == 200
    assert latest_first() == dialogue.id


def test_staff_fix_the_last_post_without_bumping_the_topic_when_they_ask(client, auth_headers, dialogue, member, other, moderator):
    """Discourse's bypass_bump: for staff only; a member's is ignored."""
    newer = make_dialogue(member, [other], 1)
    last = post_of(dialogue, 5)

    def latest_first() -> int:
        return client.get("/latest.json").json["topic_list"]["topics"][0]["id"]

    for body in ({"post": {"raw": REPLY + " A typo fixed."}, "bypass_bump": True}, {"post": {"raw": REPLY + " Another.", "bypass_bump": "true"}}):
        assert client.put(f"/posts/{last.id}.json", json=body, headers=auth_headers(moderator)).status_code == 200
        assert latest_first() == newer.id
    assert last.user.is_staff
    assert client.put(f"/posts/{last.id}.json", json={"post": {"raw": REPLY + " Bumped."}}, headers=auth_headers(moderator)).status_code == 200
    assert latest_first() == dialogue.id
    newer_last = post_of(newer, 2)  # a member's: their bypass_bump is ignored
    body = {"post": {"raw": REPLY + " The author's own change."}, "bypass_bump": True}
    assert client.put(f"/posts/{newer_last.id}.json", json=body, headers=auth_headers(newer_last.user)).status_code == 200
    assert latest_first() == newer.id


def test_an_edit_from_a_stale_copy_is_refused_instead_of_overwriting_anothers(client, auth_headers, dialogue, moderator):
    """Discourse's edit conflict: the composer sends the body it started from (original_text, or raw_old)."""
    reply = post_of(dialogue, 2)
    started_from = reply.raw
    assert client.put(f"/posts/{reply.id}.json", json={"post": {"raw": REPLY + " The moderator's rewrite."}},
                      headers=auth_headers(moderator)).status_code == 200
    for stale in ({"original_text": started_from}, {"raw_old": started_from}):
        response = client.put(f"/posts/{reply.id}.json", json={"post": {"raw": REPLY + " From a stale copy.", **stale}},
                              headers=auth_headers(reply.user))
        assert response.status_code == 409 and response.json["error_type"] == "conflict", stale
    db.session.expire_all()
    assert db.session.get(Post, reply.id).raw == REPLY + " The moderator's rewrite."
    current = {"raw": REPLY + " From the current text.", "original_text": REPLY + " The moderator's rewrite."}
    response = client.put(f"/posts/{reply.id}.json", data={f"post[{key}]": value for key, value in current.items()},
                          headers=auth_headers(reply.user))
    assert response.status_code == 200 and response.json["post"]["version"] == 3


def test_an_edit_reason_longer_than_its_column_is_400_and_changes_nothing(client, auth_headers, dialogue):
    """On PostgreSQL the 255-character column refused it with a 500."""
    reply = post_of(dialogue, 2)
    body = {"post": {"raw": REPLY + " With a long reason.", "edit_reason": "r" * 256}}
    response = client.put(f"/posts/{reply.id}.json", json=body, headers=auth_headers(reply.user))
    assert response.status_code == 400 and response.json["errors"] == ["edit_reason is too long (maximum is 255 characters)."]
    db.session.expire_all()
    assert db.session.get(Post, reply.id).version == 1
    body["post"]["edit_reason"] = "r" * 255
    assert client.put(f"/posts/{reply.id}.json", json=body, headers=auth_headers(reply.user)).status_code == 200


def test_deleting_the_first_post_deletes_the_topic(client, auth_headers, member, moderator):
    topic = topics.create_topic(member, title="A question nobody answered", raw=OPENING)
    first = post_of(topic, 1)
    assert client.delete(f"/posts/{first.id}", headers=auth_headers(member)).status_code == 200
    assert client.get(f"/t/{topic.id}.json", headers=auth_headers(member)).status_code == 404
    shown_to_staff = client.get(f"/posts/{first.id}.json", headers=auth_headers(moderator)).json
    assert shown_to_staff["deleted_at"] is not None and shown_to_staff["can_recover"] is True  # gone with its topic
    recovered = client.put(f"/posts/{first.id}/recover", headers=auth_headers(moderator)).json
    assert (recovered["can_delete"], recovered["deleted_at"]) == (True, None)
    assert client.get(f"/t/{topic.id}.json", headers=auth_headers(member)).status_code == 200


def test_the_author_cannot_recover_what_staff_deleted(client, auth_headers, dialogue, other, moderator):
    second = post_of(dialogue, 2)
    posts.delete_post(moderator, second)
    assert client.put(f"/posts/{second.id}/recover.json", headers=auth_headers(other)).status_code == 403
    db.session.refresh(second)
    assert second.is_deleted


# GET /posts/{id}/replies.json


def test_direct_replies_to_a_post(client, auth_headers, dialogue, member, other, moderator):
    first = post_of(dialogue, 1)
    side = posts.create_reply(moderator, dialogue, raw=REPLY, reply_to_post_number=1)
    removed = posts.create_reply(other, dialogue, raw=REPLY, reply_to_post_number=1)
    posts.delete_post(other, removed)
    response = client.get(f"/posts/{first.id}/replies.json", headers=auth_headers(member))
    assert_matches_spec(response, "get", "/posts/{id}/replies.json")
    assert [post["id"] for post in response.json] == [post_of(dialogue, 2).id, side.id]
    assert response.json[0]["reply_to_user"]["username"] == "member"
    assert response.json[0]["reply_to_post_number"] == 1
    assert len(client.get(f"/posts/{first.id}/replies.json", headers=auth_headers(moderator)).json) == 3
    assert client.get(f"/posts/{post_of(dialogue, 5).id}/replies").json == []


def test_a_post_answered_often_shows_its_replies_twenty_at_a_time(client, dialogue, other):
    """As Discourse's MAX_POST_REPLIES: the client asks for the next ones after the last post number it shows."""
    with write_unit(db.session):
        answers = [posts.append_post(dialogue, other, raw=reply_text(n), cooked=cook(reply_text(n)), reply_to_post_number=1) for n in range(25)]
    first = post_of(dialogue, 1)
    page = client.get(f"/posts/{first.id}/replies.json").json
    assert [post["id"] for post in page] == [post_of(dialogue, 2).id] + [answer.id for answer in answers[:19]]
    rest = client.get(f"/posts/{first.id}/replies.json?after={page[-1]['post_number']}").json
    assert [post["id"] for post in rest] == [answer.id for answer in answers[19:]]
    assert client.get(f"/posts/{first.id}/replies.json?after=-1").json == page  # below 1: from the start, as Discourse
    assert client.get(f"/posts/{first.id}/replies.json?after=two").json["error_type"] == "invalid_parameters"


def test_replies_to_a_post_one_cannot_see_are_not_found(client, auth_headers, restricted_topic, other):
    assert client.get(f"/posts/{post_of(restricted_topic, 1).id}/replies.json", headers=auth_headers(other)).status_code == 404


# GET /posts/{id}/revisions/{n}.json


def test_revisions_show_what_each_edit_changed(client, auth_headers, dialogue, other, moderator):
    second = post_of(dialogue, 2)
    posts.edit_post(other, second, raw=reply_text(2).replace("Training", "Coaching"), edit_reason="wording")
    posts.edit_post(moderator, second, raw=reply_text(2).replace("Training", "Coaching") + "\n\nA new paragraph & more.")

    first_edit = client.get(f"/posts/{second.id}/revisions/2.json", headers=auth_headers(other)).json
    navigation = {"post_id": second.id, "first_revision": 2, "previous_revision": None, "current_revision": 2, "next_revision": 3,
                  "last_revision": 3, "current_version": 2, "version_count": 3}  # fmt: skip
    assert {key: first_edit[key] for key in navigation} == navigation
    assert (first_edit["username"], first_edit["edit_reason"], first_edit["can_edit"]) == ("yan_yan", "wording", True)
    changes = first_edit["body_changes"]
    assert "<del>Training </del><ins>Coaching </ins>" in changes["inline"]
    assert changes["side_by_side"].count('<div class="revision-content">') == 2
    assert "<del>Training </del>" in changes["side_by_side"] and "<ins>Coaching </ins>" in changes["side_by_side"]
    assert '<td class="--previous">## Reply 2</td><td class="--current">## Reply 2</td>' in changes["side_by_side_markdown"]

    second_edit = client.get(f"/posts/{second.id}/revisions/latest.json").json
    assert (second_edit["current_revision"], second_edit["previous_revision"], second_edit["next_revision"]) == (3, 2, None)
    assert (second_edit["username"], second_edit["can_edit"]) == ("moderator", False)
    assert "<ins>A new paragraph &amp; more.</ins>" in second_edit["body_changes"]["inline"]
    assert '<td class="--current"><ins>A new paragraph &amp; more.</ins></td>' in second_edit["body_changes"]["side_by_side_markdown"]


def test_a_long_posts_revision_compares_only_what_changed_and_never_token_by_token_at_length(
    client, auth_headers, dialogue, other, monkeypatch
):
    """The diff ran difflib over every token of both versions on each read: a 32,000-character post of repeated words
    with one word changed took two minutes of CPU for anyone who asked. Now only the changed middle is compared, and
    a middle too long to compare is shown replaced whole."""
    compared = []
    original = difflib.SequenceMatcher.__init__
    monkeypatch.setattr(difflib.SequenceMatcher, "__init__",
                        lambda self, isjunk=None, a="", b="", autojunk=True: compared.append(len(a) * len(b)) or original(self, isjunk, a, b, autojunk))
    second = post_of(dialogue, 2)
    words = ["word"] * 6_000
    posts.edit_post(other, second, raw=" ".join(words))
    posts.edit_post(other, second, raw=" ".join(words[:3_000] + ["changed"] + words[3_001:]))
    changes = client.get(f"/posts/{second.id}/revisions/latest.json").json["body_changes"]
    assert changes["inline"].count("<ins>") == 1 and "<del>word </del><ins>changed </ins>" in changes["inline"]
    posts.edit_post(other, second, raw=" ".join(["first"] + words[1:-1] + ["last"]))
    changes = client.get(f"/posts/{second.id}/revisions/latest.json").json["body_changes"]
    assert changes["inline"].count("<ins>") == 1 and changes["inline"].count("<del>") == 1  # replaced whole
    assert max(compared) <= MAX_DIFF_WORK


def test_unknown_revisions_and_unseen_posts_are_not_found(client, auth_headers, dialogue, restricted_topic, other, insider):
    second = post_of(dialogue, 2)
    for number in (2, 99):
        assert client.get(f"/posts/{second.id}/revisions/{number}.json").status_code == 404
    for number in (0, 1):  # never a revision, as Discourse answers
        assert client.get(f"/posts/{second.id}/revisions/{number}.json").json["error_type"] == "invalid_parameters"
    assert client.get(f"/posts/{second.id}/revisions/latest.json").status_code == 404
    hidden = post_of(restricted_topic, 2)
    posts.edit_post(insider, hidden, raw=REPLY)
    assert client.get(f"/posts/{hidden.id}/revisions/2.json", headers=auth_headers(other)).status_code == 404
    assert client.get(f"/posts/{hidden.id}/revisions/2.json", headers=auth_headers(insider)).status_code == 200


# GET /raw/{topic_id}


def test_the_raw_export_of_a_topic(client, auth_headers, dialogue, other, moderator):
    posts.delete_post(moderator, post_of(dialogue, 3))
    response = client.get(f"/raw/{dialogue.id}", headers=auth_headers(other))
    assert (response.status_code, response.mimetype) == (200, "text/plain")
    text = response.get_data(as_text=True)
    first = post_of(dialogue, 1)
    assert text.startswith(f"member | {first.updated_at:%Y-%m-%d %H:%M:%S} UTC | #1\n\n{OPENING}\n\n-------------------------\n\n")
    assert [line.split(" | ")[2] for line in text.splitlines() if " | #" in line] == ["#1", "#2", "#4", "#5"]
    assert "#3" in client.get(f"/raw/{dialogue.id}", headers=auth_headers(moderator)).get_data(as_text=True)

    single = client.get(f"/raw/{dialogue.id}/2")
    assert (single.mimetype, single.get_data(as_text=True)) == ("text/plain", reply_text(2))
    assert client.get(f"/raw/{dialogue.id}/3", headers=auth_headers(other)).status_code == 404


def test_the_raw_export_pages_by_a_hundred_posts(client, member):
    topic = topics.create_topic(member, title="A very long dialogue indeed", raw=OPENING)
    with write_unit(db.session):
        for n in range(2, 131):
            posts.append_post(topic, member, raw=reply_text(n), cooked=cook(reply_text(n)))
    def headers(query: str) -> list[str]:
        return [line for line in client.get(f"/raw/{topic.id}{query}").get_data(as_text=True).splitlines() if " | #" in line]

    pages = [headers(""), headers("?page=2"), headers("?page=3")]
    assert [len(page) for page in pages] == [100, 30, 0]
    assert pages[1][0].endswith("| #101")
    assert client.get(f"/raw/{topic.id}?page=0").status_code == 400


def test_the_raw_export_of_a_restricted_topic_is_not_found(client, auth_headers, restricted_topic, other, insider):
    assert client.get(f"/raw/{restricted_topic.id}", headers=auth_headers(other)).status_code == 404
    assert client.get(f"/raw/{restricted_topic.id}/1", headers=auth_headers(other)).status_code == 404
    assert client.get(f"/raw/{restricted_topic.id}", headers=auth_headers(insider)).status_code == 200
    assert client.get("/raw/424242").status_code == 404


# POST /post_actions.json and DELETE /post_actions/{id}.json: likes


def like_counts(topic: Topic, post: Post) -> tuple[int, int, int]:
    db.session.refresh(post)
    db.session.refresh(topic)
    return post.like_count, topic.like_count, count(PostAction)


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_liking_is_counted_once_and_unliking_undoes_it(client, auth_headers, dialogue, member, encoding):
    second = post_of(dialogue, 2)
    body = {"id": second.id, "post_action_type_id": 2}
    kwargs = {"json": body} if encoding == "json" else {"data": body}
    for _ in range(2):
        response = client.post("/post_actions.json", headers=auth_headers(member), **kwargs)
        assert response.status_code == 200, response.json
        assert_matches_spec(response, "post", "/post_actions.json")
        assert response.json["actions_summary"] == [{"id": 2, "count": 1, "acted": True, "can_undo": True}]
        assert like_counts(dialogue, second) == (1, 1, 1)

    for _ in range(2):
        response = client.delete(f"/post_actions/{second.id}.json?post_action_type_id=2", headers=auth_headers(member))
        assert response.status_code == 200, response.json
        assert response.json["actions_summary"] == [{"id": 2, "can_act": True}]
        assert like_counts(dialogue, second) == (0, 0, 0)


def test_likes_of_several_users_add_up_in_the_topic(client, auth_headers, dialogue, member, other, moderator):
    second, third = post_of(dialogue, 2), post_of(dialogue, 3)
    client.post("/post_actions.json", json={"id": second.id, "post_action_type_id": 2}, headers=auth_headers(member))
    client.post("/post_actions.json", json={"id": second.id, "post_action_type_id": 2}, headers=auth_headers(moderator))
    client.post("/post_actions.json", json={"id": third.id, "post_action_type_id": 2}, headers=auth_headers(other))
    assert like_counts(dialogue, second) == (2, 3, 3)
    assert client.get(f"/t/{dialogue.id}.json").json["like_count"] == 3


def test_a_topic_counts_the_likes_of_its_live_posts_only(client, auth_headers, dialogue, member, moderator, admin):
    """As Discourse's Topic#update_action_counts: a deleted post's likes leave the topic's count and come back with the
    post; a whisper's likes, which only staff see, are never in it."""
    second, third = post_of(dialogue, 2), post_of(dialogue, 3)
    whisper = add_whisper(dialogue, moderator)
    post_actions.like(member, second)
    post_actions.like(moderator, second)
    post_actions.like(member, third)
    post_actions.like(admin, whisper)
    assert like_counts(dialogue, second) == (2, 3, 4)

    assert client.delete(f"/posts/{second.id}.json", headers=auth_headers(moderator)).status_code == 200
    assert like_counts(dialogue, second) == (2, 1, 4)
    assert client.get(f"/t/{dialogue.id}.json").json["like_count"] == 1
    assert client.put(f"/posts/{second.id}/recover.json", headers=auth_headers(moderator)).status_code == 200
    assert like_counts(dialogue, second) == (2, 3, 4)

    post_actions.unlike(admin, whisper)
    assert like_counts(dialogue, whisper) == (0, 3, 3)


@pytest.mark.parametrize(
    "who, body, status",
    [
        (None, {"id": "second", "post_action_type_id": 2}, 403),
        ("other", {"id": "second", "post_action_type_id": 2}, 403),  # one's own post
        ("member", {"id": "second", "post_action_type_id": 6}, 400),  # a private message to the author: not kept here
        ("member", {"id": "second"}, 400),
        ("member", {"post_action_type_id": 2}, 400),
        ("member", {"id": "abc", "post_action_type_id": 2}, 400),
        ("member", {"id": 424242, "post_action_type_id": 2}, 404),
        ("other", {"id": "restricted", "post_action_type_id": 2}, 404),
    ],
)
def test_bad_likes_are_refused_and_nothing_is_stored(client, auth_headers, request, dialogue, restricted_topic, who, body, status):
    named = {"second": post_of(dialogue, 2).id, "restricted": post_of(restricted_topic, 2).id}
    body = {key: named.get(value, value) for key, value in body.items()}
    user = request.getfixturevalue(who) if who else None
    response = client.post("/post_actions.json", json=body, headers=auth_headers(user))
    assert response.status_code == status, response.json
    assert count(PostAction) == 0
    assert db.session.scalar(select(func.sum(Topic.like_count))) == 0


def test_posts_of_archived_topics_cannot_be_liked_or_unliked(client, auth_headers, dialogue, member, moderator):
    second = post_of(dialogue, 2)
    post_actions.like(member, second)
    topics.set_status(moderator, dialogue, "archived", True)
    third = post_of(dialogue, 3)
    assert client.post("/post_actions.json", json={"id": third.id, "post_action_type_id": 2}, headers=auth_headers(member)).status_code == 403
    assert client.delete(f"/post_actions/{second.id}?post_action_type_id=2", headers=auth_headers(member)).status_code == 403
    assert like_counts(dialogue, second) == (1, 1, 1)


def test_unliking_needs_the_action_type(client, auth_headers, dialogue, member):
    assert client.delete(f"/post_actions/{post_of(dialogue, 2).id}.json", headers=auth_headers(member)).status_code == 400


def test_concurrent_likes_and_unlikes_keep_the_counters_in_step(app, dialogue, make_user):
    """Two clients per user like and unlike the same post at once: each counter ends equal to the likes stored."""
    liker_ids = [make_user().id for _ in range(4)]
    post_id, topic_id = post_of(dialogue, 2).id, dialogue.id

    def toggle(start, user_id: int):
        user = db.session.get(User, user_id)
        start()
        for n in range(5):
            act = post_actions.like if n % 2 == 0 else post_actions.unlike
            act(user, db.session.get(Post, post_id))

    errors = run_together(app, toggle, [(liker_id,) for liker_id in liker_ids for _ in range(2)])
    assert errors == []
    stored_likes = count(PostAction, PostAction.post_id == post_id)
    assert 1 <= stored_likes <= len(liker_ids)
    assert (db.session.get(Post, post_id).like_count, db.session.get(Topic, topic_id).like_count) == (stored_likes, stored_likes)


def test_a_deletion_waiting_on_a_reply_being_written_names_that_reply_the_last_post(app, dialogue, other, moderator):
    """The deletion recounts the topic's last live post; a reply that committed while the deletion waited for the
    topic's lock must be in that count (a snapshot taken before the wait left it out). PostgreSQL: SQLite's writers
    never overlap."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers never overlap")
    topic_id, doomed_id, replier_id, deleter_id = dialogue.id, post_of(dialogue, 3).id, other.id, moderator.id
    numbered, deleting = threading.Event(), threading.Event()

    def work(start, role: str):
        start()
        if role == "reply":
            with write_unit(db.session):  # holds the topic's lock from the numbering to the commit
                posts.append_post(db.session.get(Topic, topic_id), db.session.get(User, replier_id), raw=REPLY, cooked=cook(REPLY))
                numbered.set()
                assert deleting.wait(10)
                time.sleep(0.3)  # the deletion is queued on the topic's lock by now
        else:
            assert numbered.wait(10)
            deleting.set()
            posts.delete_post(db.session.get(User, deleter_id), db.session.get(Post, doomed_id))

    assert run_together(app, work, [("reply",), ("delete",)]) == []
    topic = db.session.get(Topic, topic_id)
    assert (topic.highest_post_number, topic.last_post_user_id, topic.posts_count) == (6, replier_id, 5)
