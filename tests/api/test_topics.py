"""Discourse's topic endpoints: the topic view, a topic's posts, editing, status, deleting and recovering."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import AuditLogEntry, Post, PostType, Role, Tag, Topic, TopicUser
from forum.models.base import utcnow
from forum.services import post_actions, posts, tactics, topics
from tests.api.demo_dialogue import decide, post_of
from tests.api.factories import make_category
from tests.api.spec import assert_matches_spec

OPENING = "## Guiding questions\n\nWhat has worked when you engaged a company directly?"


def reply_text(n: int) -> str:
    return f"## Reply {n}\n\nTraining supplier managers changed more than audits did, in case {n}."


def make_dialogue(author, others, replies: int, *, category=None, tag_names=("training",)) -> Topic:
    """A topic by ``author`` with ``replies`` replies by ``others`` in turn, each answering the post before."""
    topic = topics.create_topic(author, title="How do NGOs work with companies?", raw=OPENING, category=category, tag_names=tag_names)
    for n in range(replies):
        posts.create_reply(others[n % len(others)], topic, raw=reply_text(n + 2), reply_to_post_number=n + 1)
    return topic


def post_ids(topic: Topic) -> list[int]:
    return list(db.session.scalars(select(Post.id).where(Post.topic_id == topic.id).order_by(Post.post_number)))


def add_whisper(topic: Topic, author) -> Post:
    with write_unit(db.session):
        return posts.append_post(topic, author, raw="A note for staff only.", cooked=cook("A note for staff only."), post_type=PostType.WHISPER)


def small_actions(topic: Topic) -> list[str]:
    query = select(Post.action_code).where(Post.topic_id == topic.id, Post.post_type == PostType.SMALL_ACTION).order_by(Post.post_number)
    return list(db.session.scalars(query))


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


@pytest.fixture
def other(make_user):
    return make_user(Role.MEMBER, "yan_yan")


@pytest.fixture
def category(app):
    return make_category("Tactics dialogues")


@pytest.fixture
def dialogue(member, other, moderator, category):
    """The seed thread's shape: an opening post and replies, in a category, tagged."""
    return make_dialogue(member, [other, moderator], 4, category=category)


# The topic view


@pytest.mark.parametrize("viewer", [None, "member", "other", "moderator", "admin"])
def test_topic_view_matches_the_spec_for_every_kind_of_viewer(client, auth_headers, request, dialogue, moderator, viewer):
    topics.set_status(moderator, dialogue, "closed", True)  # a small-action post in the stream
    user = request.getfixturevalue(viewer) if viewer else None
    for url in (f"/t/{dialogue.id}.json", f"/t/{dialogue.slug}/{dialogue.id}.json", f"/t/{dialogue.slug}/{dialogue.id}/3.json"):
        response = client.get(url, headers=auth_headers(user))
        assert response.status_code == 200, response.json
        assert_matches_spec(response, "get", "/t/{id}.json")


def test_topic_view_shows_the_topic_its_first_chunk_and_every_post_id(client, dialogue, member, category):
    body = client.get(f"/t/{dialogue.id}.json").json
    assert (body["id"], body["title"], body["slug"], body["category_id"]) == (dialogue.id, dialogue.title, dialogue.slug, category.id)
    assert body["post_stream"]["stream"] == post_ids(dialogue)
    assert [post["post_number"] for post in body["post_stream"]["posts"]] == [1, 2, 3, 4, 5]
    first, second = body["post_stream"]["posts"][:2]
    assert "<h2>Guiding questions</h2>" in first["cooked"]
    assert (first["username"], first["reply_to_post_number"], second["reply_to_post_number"]) == ("member", None, "1")
    assert (body["posts_count"], body["reply_count"], body["highest_post_number"], body["chunk_size"]) == (5, 4, 5, 20)
    assert body["tags"] == [{"id": dialogue.tags[0].id, "name": "training", "slug": "training"}]
    assert body["details"]["created_by"]["username"] == "member"
    assert body["details"]["last_poster"]["username"] == "moderator"
    assert body["timeline_lookup"] == [[1, 0]]
    assert "current_post_number" not in body


def test_the_plain_and_slugged_paths_answer_alike(client, dialogue):
    bodies = [client.get(url).json for url in (f"/t/{dialogue.id}", f"/t/{dialogue.id}.json", f"/t/any-slug/{dialogue.id}.json")]
    assert bodies[0] == bodies[1] == bodies[2]


@pytest.fixture
def long_dialogue(member, other):
    """60 posts, written quickly in one unit of work."""
    topic = topics.create_topic(member, title="A long dialogue on buycotts", raw=OPENING)
    with write_unit(db.session):
        for n in range(2, 61):
            posts.append_post(topic, other if n % 2 else member, raw=reply_text(n), cooked=cook(reply_text(n)))
    return topic


@pytest.mark.parametrize(
    "path_post_number, shown, current",
    [
        (None, range(1, 21), None),
        (1, range(1, 21), 1),
        (3, range(1, 21), 3),  # fewer than 5 posts before: the chunk starts at the first post
        (30, range(25, 45), 30),  # 5 posts before the one asked for, 15 from it
        (58, range(41, 61), 58),  # near the end: the chunk is the last 20
        (60, range(41, 61), 60),
        (999, range(41, 61), 60),  # beyond the end: the last chunk, at the last post
    ],
)
def test_the_chunk_shown_surrounds_the_post_asked_for(client, long_dialogue, path_post_number, shown, current):
    url = f"/t/{long_dialogue.slug}/{long_dialogue.id}" + (f"/{path_post_number}" if path_post_number else "") + ".json"
    body = client.get(url).json
    assert [post["post_number"] for post in body["post_stream"]["posts"]] == list(shown)
    assert len(body["post_stream"]["stream"]) == 60
    assert body.get("current_post_number") == current


def test_jumping_to_a_deleted_post_keeps_the_number_asked_for(client, auth_headers, long_dialogue, moderator, member):
    """As Discourse's current_post_number: the number asked for (at most the highest shown), not the next live one."""
    posts.delete_post(moderator, db.session.scalar(select(Post).where(Post.topic_id == long_dialogue.id, Post.post_number == 30)))
    body = client.get(f"/t/{long_dialogue.slug}/{long_dialogue.id}/30.json", headers=auth_headers(member)).json
    assert body["current_post_number"] == 30 and 30 not in [post["post_number"] for post in body["post_stream"]["posts"]]
    assert [post["post_number"] for post in body["post_stream"]["posts"]][:6] == [25, 26, 27, 28, 29, 31]


def test_a_numeric_second_segment_is_a_post_number(client, long_dialogue):
    body = client.get(f"/t/{long_dialogue.id}/40.json").json
    assert body["current_post_number"] == 40
    assert body["post_stream"]["posts"][0]["post_number"] == 35


def test_details_carry_the_viewers_permissions(client, auth_headers, dialogue, member, other, moderator):
    def details(user):
        return client.get(f"/t/{dialogue.id}.json", headers=auth_headers(user)).json["details"]

    author, stranger, staff, anonymous = details(member), details(other), details(moderator), details(None)
    assert (author["can_edit"], stranger["can_edit"], staff["can_edit"], anonymous["can_edit"]) == (True, False, True, False)
    assert (author["can_create_post"], stranger["can_create_post"], anonymous["can_create_post"]) == (True, True, False)
    # A topic with replies: only staff may delete it.
    assert (author["can_delete"], staff["can_delete"]) == (False, True)
    for flag in ("can_close_topic", "can_archive_topic", "can_pin_unpin_topic", "can_toggle_topic_visibility", "can_moderate_category"):
        assert (author[flag], staff[flag], anonymous[flag]) == (False, True, False), flag
    assert [(p["username"], p["post_count"]) for p in author["participants"]] == [("yan_yan", 2), ("moderator", 2), ("member", 1)]
    assert client.get(f"/t/{dialogue.id}.json").json["participant_count"] == 3

    topics.set_status(moderator, dialogue, "closed", True)
    assert (details(member)["can_create_post"], details(member)["can_edit"], details(moderator)["can_create_post"]) == (False, True, True)
    topics.set_status(moderator, dialogue, "archived", True)
    assert (details(member)["can_create_post"], details(member)["can_edit"], details(moderator)["can_edit"]) == (False, False, True)


def test_posts_carry_the_viewers_permissions(client, auth_headers, dialogue, member, other, moderator):
    def stream_posts(user):
        return client.get(f"/t/{dialogue.id}.json", headers=auth_headers(user)).json["post_stream"]["posts"]

    by_other = stream_posts(other)
    assert [(p["yours"], p["can_edit"], p["can_delete"]) for p in by_other[:3]] == [(False, False, False), (True, True, True), (False, False, False)]
    assert all(p["can_edit"] and p["can_delete"] and not p["can_recover"] for p in stream_posts(moderator))
    assert not any(p["can_edit"] or p["yours"] for p in stream_posts(None))


def test_read_state_comes_from_the_viewers_topic_user_row_and_viewing_writes_nothing(client, auth_headers, dialogue, member, make_user):
    with write_unit(db.session):
        db.session.merge(TopicUser(user_id=member.id, topic_id=dialogue.id, last_read_post_number=2))
    views, updated_at, read_states = dialogue.views, dialogue.updated_at, count(TopicUser)
    newcomer_user = make_user(Role.MEMBER, "newcomer")

    reader = client.get(f"/t/{dialogue.id}.json", headers=auth_headers(member)).json["post_stream"]["posts"]
    assert [post["read"] for post in reader] == [True, True, False, False, False]
    newcomer = client.get(f"/t/{dialogue.id}.json", headers=auth_headers(newcomer_user)).json["post_stream"]["posts"]
    assert not any(post["read"] for post in newcomer)
    assert all(post["read"] for post in client.get(f"/t/{dialogue.id}.json").json["post_stream"]["posts"])

    db.session.refresh(dialogue)
    assert (dialogue.views, dialogue.updated_at) == (views, updated_at)
    assert count(TopicUser) == read_states
    assert db.session.get(TopicUser, (member.id, dialogue.id)).last_read_post_number == 2


def test_like_state_shows_in_each_posts_actions(client, auth_headers, dialogue, member, other):
    second, third = post_ids(dialogue)[1:3]
    post_actions.like(member, db.session.get(Post, second))

    stream = client.get(f"/t/{dialogue.id}.json", headers=auth_headers(member)).json["post_stream"]["posts"]
    shown = {post["id"]: post["actions_summary"] for post in stream}
    assert shown[second] == []  # liked already
    assert shown[third] == [{"id": 2, "can_act": True}]
    assert shown[post_ids(dialogue)[0]] == []  # the viewer's own post
    anonymous = client.get(f"/t/{dialogue.id}.json").json["post_stream"]["posts"]
    assert all(post["actions_summary"] == [] for post in anonymous)
    assert client.get(f"/t/{dialogue.id}.json").json["like_count"] == 1


def test_deleted_posts_and_whispers_are_for_staff_only(client, auth_headers, dialogue, member, other, moderator):
    ids = post_ids(dialogue)
    posts.delete_post(other, db.session.get(Post, ids[1]))
    whisper = add_whisper(dialogue, moderator)

    for user in (None, member, other):
        body = client.get(f"/t/{dialogue.id}.json", headers=auth_headers(user)).json
        assert body["post_stream"]["stream"] == [ids[0], *ids[2:]]
        assert [post["id"] for post in body["post_stream"]["posts"]] == [ids[0], *ids[2:]]
        assert (body["has_deleted"], body["highest_post_number"]) == (False, 5)

    staff_view = client.get(f"/t/{dialogue.id}.json", headers=auth_headers(moderator))
    assert_matches_spec(staff_view, "get", "/t/{id}.json")
    body = staff_view.json
    assert body["post_stream"]["stream"] == [*ids, whisper.id]
    assert (body["has_deleted"], body["highest_post_number"]) == (True, 6)
    deleted = body["post_stream"]["posts"][1]
    assert deleted["deleted_at"] is not None and deleted["can_recover"] and not deleted["can_delete"]
    assert body["post_stream"]["posts"][-1]["post_type"] == PostType.WHISPER


@pytest.fixture
def insider(make_user):
    return make_user(Role.MEMBER, "insider")


@pytest.fixture
def restricted_topic(member, insider):
    category = make_category("Staff room", restricted_to=(member, insider))
    return make_dialogue(member, [insider], 2, category=category)


def test_a_restricted_topic_is_not_found_for_those_outside_its_category(client, auth_headers, restricted_topic, insider, other, moderator):
    for user in (None, other):
        for url in (f"/t/{restricted_topic.id}.json", f"/t/x/{restricted_topic.id}/2.json", f"/t/{restricted_topic.id}/posts.json"):
            response = client.get(url, headers=auth_headers(user))
            assert response.status_code == 404, url
            assert response.json == {"errors": ["That topic does not exist."], "error_type": "not_found"}
    for user in (insider, moderator):
        assert client.get(f"/t/{restricted_topic.id}.json", headers=auth_headers(user)).status_code == 200


def test_a_deleted_topic_is_not_found_except_for_staff(client, auth_headers, dialogue, member, moderator):
    topics.delete_topic(moderator, dialogue)
    for user in (None, member):
        assert client.get(f"/t/{dialogue.id}.json", headers=auth_headers(user)).status_code == 404
    response = client.get(f"/t/{dialogue.id}.json", headers=auth_headers(moderator))
    assert_matches_spec(response, "get", "/t/{id}.json")
    assert response.json["deleted_at"] is not None and response.json["deleted_by"] == "moderator"


def test_an_unknown_topic_is_not_found(client):
    response = client.get("/t/424242.json")
    assert (response.status_code, response.json["error_type"]) == (404, "not_found")


def test_a_topic_without_category_shows_category_zero(client, member):
    topic = topics.create_topic(member, title="A topic outside every category", raw=OPENING)
    response = client.get(f"/t/{topic.id}.json")
    assert_matches_spec(response, "get", "/t/{id}.json")
    assert response.json["category_id"] == 0


# GET /t/{id}/posts.json


def test_specific_posts_of_a_topic(client, auth_headers, dialogue, member, other):
    ids = post_ids(dialogue)
    elsewhere = make_dialogue(other, [member], 1)
    response = client.get(f"/t/{dialogue.id}/posts.json?post_ids[]={ids[3]}&post_ids[]={ids[1]}&post_ids[]={post_ids(elsewhere)[1]}")
    assert_matches_spec(response, "get", "/t/{id}/posts.json")
    assert response.json["id"] == dialogue.id
    assert [post["id"] for post in response.json["post_stream"]["posts"]] == [ids[1], ids[3]]

    posts.delete_post(other, db.session.get(Post, ids[1]))
    shown = client.get(f"/t/{dialogue.id}/posts.json?post_ids[]={ids[1]}&post_ids[]={ids[2]}", headers=auth_headers(member)).json
    assert [post["id"] for post in shown["post_stream"]["posts"]] == [ids[2]]


def test_topic_posts_page_after_and_before_a_post_number(client, long_dialogue):
    def numbers(query):
        return [post["post_number"] for post in client.get(f"/t/{long_dialogue.id}/posts.json{query}").json["post_stream"]["posts"]]

    assert numbers("") == list(range(1, 21))
    assert numbers("?post_number=20&asc=true") == list(range(21, 41))
    assert numbers("?post_number=50&asc=true") == list(range(51, 61))
    assert numbers("?post_number=30&asc=false") == list(range(10, 30))


@pytest.mark.parametrize("query", ["?post_ids[]=abc", "?post_number=x", "?asc=maybe", "?" + "&".join(["post_ids[]=1"] * 1001)])
def test_topic_posts_refuse_bad_parameters(client, dialogue, query):
    response = client.get(f"/t/{dialogue.id}/posts.json{query}")
    assert (response.status_code, response.json["error_type"]) == (400, "invalid_parameters")


# PUT /t/-/{id}.json


@pytest.mark.parametrize(
    "send",
    [
        lambda client, url, headers: client.put(url, json={"title": "How do NGOs train company staff?"}, headers=headers),
        lambda client, url, headers: client.put(url, json={"topic": {"title": "How do NGOs train company staff?"}}, headers=headers),
        lambda client, url, headers: client.put(url, data={"title": "How do NGOs train company staff?"}, headers=headers),
        lambda client, url, headers: client.put(url, data={"topic[title]": "How do NGOs train company staff?"}, headers=headers),
    ],
    ids=["json", "json-nested", "form", "form-nested"],
)
def test_the_author_renames_a_topic_and_its_slug(client, auth_headers, dialogue, member, send):
    response = send(client, f"/t/-/{dialogue.id}.json", auth_headers(member))
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "put", "/t/-/{id}.json")
    assert response.json["basic_topic"] == {
        "id": dialogue.id,
        "title": "How do NGOs train company staff?",
        "fancy_title": "How do NGOs train company staff?",
        "slug": "how-do-ngos-train-company-staff",
        "posts_count": 5,
    }
    db.session.refresh(dialogue)
    assert (dialogue.title, dialogue.slug) == ("How do NGOs train company staff?", "how-do-ngos-train-company-staff")
    assert count(AuditLogEntry, AuditLogEntry.action == "topic.edit") == 0  # the author's own edit


def test_staff_move_and_rename_someone_elses_topic_with_an_audit_record(client, auth_headers, dialogue, moderator, category):
    elsewhere = make_category("Buycotts")
    body = {"title": "Buycotts & <b>carrotmobs</b> compared", "category_id": elsewhere.id}
    response = client.put(f"/t/{dialogue.slug}/{dialogue.id}.json", json=body, headers=auth_headers(moderator))
    assert response.status_code == 200
    assert response.json["basic_topic"]["fancy_title"] == "Buycotts &amp; &lt;b&gt;carrotmobs&lt;/b&gt; compared"
    db.session.refresh(dialogue)
    assert dialogue.category_id == elsewhere.id
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "topic.edit"))
    assert (entry.actor_id, entry.subject_id) == (moderator.id, dialogue.id)
    assert entry.before == {"title": "How do NGOs work with companies?", "category_id": category.id}
    assert entry.after == {"title": "Buycotts & <b>carrotmobs</b> compared", "category_id": elsewhere.id}


def test_an_unchanged_title_changes_nothing(client, auth_headers, dialogue, moderator):
    response = client.put(f"/t/-/{dialogue.id}.json", json={"title": dialogue.title}, headers=auth_headers(moderator))
    assert response.status_code == 200
    assert count(AuditLogEntry, AuditLogEntry.action == "topic.edit") == 0


@pytest.mark.parametrize(
    "who, body, status, error_type",
    [
        (None, {"title": "A perfectly good new title"}, 403, "invalid_access"),
        ("other", {"title": "A perfectly good new title"}, 403, "invalid_access"),
        ("member", {"title": "short"}, 422, "invalid_record"),
        ("member", {"title": "x" * 256}, 422, "invalid_record"),
        ("member", {"category_id": "abc"}, 400, "invalid_parameters"),
        ("member", {"topic": {"category_id": "abc"}}, 400, "invalid_parameters"),
        ("member", {"category_id": 424242}, 422, "invalid_record"),
        ("member", {"topic": {"title": ["not", "a", "string"]}}, 400, "invalid_parameters"),
    ],
)
def test_bad_topic_edits_are_refused_and_change_nothing(client, auth_headers, request, dialogue, who, body, status, error_type):
    user = request.getfixturevalue(who) if who else None
    response = client.put(f"/t/-/{dialogue.id}.json", json=body, headers=auth_headers(user))
    assert (response.status_code, response.json["error_type"]) == (status, error_type)
    db.session.refresh(dialogue)
    assert (dialogue.title, dialogue.slug) == ("How do NGOs work with companies?", "how-do-ngos-work-with-companies")


def test_a_restricted_category_cannot_be_named_by_those_outside_it(client, auth_headers, dialogue, member, other):
    hidden = make_category("Board room", restricted_to=(other,))
    refused = client.put(f"/t/-/{dialogue.id}.json", json={"category_id": hidden.id}, headers=auth_headers(member))
    unknown = client.put(f"/t/-/{dialogue.id}.json", json={"category_id": 424242}, headers=auth_headers(member))
    assert refused.status_code == unknown.status_code == 422
    assert refused.json == unknown.json  # the same answer: its existence does not leak


def topic_tags(client, topic: Topic) -> list[str]:
    return [tag["name"] for tag in client.get(f"/t/{topic.id}.json").json["tags"]]


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_the_author_retags_a_topic_and_the_tags_sent_are_all_it_keeps(client, auth_headers, dialogue, member, encoding):
    """Discourse's PUT /t/-/{id} with tags: the topic keeps exactly the tags sent; none sent, its tags stay; an empty
    list takes them all off."""
    def edit(body):
        kwargs = {"json": body} if encoding == "json" else {"data": {f"{key}[]" if key == "tags" else key: value for key, value in body.items()}}
        return client.put(f"/t/-/{dialogue.id}.json", headers=auth_headers(member), **kwargs)

    assert topic_tags(client, dialogue) == ["training"]
    assert edit({"tags": ["Buycott", "retail"]}).status_code == 200
    assert topic_tags(client, dialogue) == ["buycott", "retail"]
    assert edit({"title": "How do NGOs work with retailers?"}).status_code == 200
    assert topic_tags(client, dialogue) == ["buycott", "retail"]
    assert edit({"tags": [] if encoding == "json" else [""]}).status_code == 200
    assert topic_tags(client, dialogue) == []


@pytest.mark.parametrize("body", [{"tags": {"0": "retail"}}, {"tags[0]": "retail"}])
def test_tags_sent_as_an_object_are_refused_not_read_as_none(client, auth_headers, dialogue, member, body):
    refused = client.put(f"/t/-/{dialogue.id}.json", json=body, headers=auth_headers(member))
    assert refused.json == {"errors": ["tags must be a list of strings."], "error_type": "invalid_parameters"}
    assert topic_tags(client, dialogue) == ["training"]


def test_a_bad_retag_changes_nothing_of_the_edit(client, auth_headers, dialogue, member, other):
    body = {"topic": {"title": "A title that must not be kept"}, "tags": [f"tag{n}" for n in range(6)]}
    refused = client.put(f"/t/-/{dialogue.id}.json", json=body, headers=auth_headers(member))
    assert refused.json == {"errors": ["A topic can have at most 5 tags."], "error_type": "invalid_record"}
    assert client.put(f"/t/-/{dialogue.id}.json", json={"tags": ["mine"]}, headers=auth_headers(other)).status_code == 403
    db.session.refresh(dialogue)
    assert (dialogue.title, topic_tags(client, dialogue)) == ("How do NGOs work with companies?", ["training"])
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 1


def test_an_approved_tactic_comes_off_through_the_review_queue_one_added_by_hand_by_editing(client, auth_headers, dialogue, member, moderator):
    tactics.tactics_group()  # training and carrotmob are tactics from here on
    decide(moderator, post_of(dialogue.id, 2), "carrotmob", "approve_tag")
    assert topic_tags(client, dialogue) == ["carrotmob", "training"]  # training by hand, carrotmob by the approval
    refused = client.put(f"/t/-/{dialogue.id}.json", json={"tags": ["retail"]}, headers=auth_headers(moderator))
    assert refused.json == {"errors": ["Approved tactics come off a topic through the review queue (reopen their approvals), not by "
                                       "editing it: keep carrotmob."], "error_type": "invalid_record"}
    assert topic_tags(client, dialogue) == ["carrotmob", "training"]
    assert client.put(f"/t/-/{dialogue.id}.json", json={"tags": ["carrotmob", "retail"]}, headers=auth_headers(member)).status_code == 200
    assert topic_tags(client, dialogue) == ["carrotmob", "retail"]


def test_resending_a_topics_tags_unchanged_is_not_checked_again(app, client, auth_headers, dialogue, member, monkeypatch):
    """Approvals may take a topic past the tag limit; a title edit that sends its tags back as they are still works."""
    assert client.put(f"/t/-/{dialogue.id}.json", json={"tags": ["training", "retail"]}, headers=auth_headers(member)).status_code == 200
    monkeypatch.setitem(app.config, "MAX_TAGS_PER_TOPIC", 1)
    body = {"topic": {"title": "How do NGOs work with retailers?"}, "tags": ["retail", "Training"]}
    assert client.put(f"/t/-/{dialogue.id}.json", json=body, headers=auth_headers(member)).status_code == 200
    db.session.refresh(dialogue)
    assert dialogue.title == "How do NGOs work with retailers?"


def test_staff_retagging_someone_elses_topic_is_audited(client, auth_headers, dialogue, moderator):
    assert client.put(f"/t/-/{dialogue.id}.json", json={"tags": ["training", "retail"]}, headers=auth_headers(moderator)).status_code == 200
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "topic.edit"))
    assert (entry.before, entry.after) == ({"tags": ["training"]}, {"tags": ["retail", "training"]})


def test_topic_edits_on_closed_archived_or_unseen_topics(client, auth_headers, dialogue, restricted_topic, member, other, moderator):
    topics.set_status(moderator, dialogue, "closed", True)
    assert client.put(f"/t/-/{dialogue.id}.json", json={"title": "A title while it is closed"}, headers=auth_headers(member)).status_code == 200
    topics.set_status(moderator, dialogue, "archived", True)
    refused = client.put(f"/t/-/{dialogue.id}.json", json={"title": "A title while it is archived"}, headers=auth_headers(member))
    assert refused.json == {"errors": ["This topic is archived; it can no longer be edited."], "error_type": "invalid_access"}
    assert db.session.get(Topic, dialogue.id).title == "A title while it is closed"
    assert client.put(f"/t/-/{restricted_topic.id}.json", json={"title": "A title from outside here"}, headers=auth_headers(other)).status_code == 404


# PUT /t/{id}/status.json


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_staff_close_and_open_a_topic(client, auth_headers, dialogue, moderator, encoding):
    def put(enabled: str):
        body = {"status": "closed", "enabled": enabled}
        kwargs = {"json": body} if encoding == "json" else {"data": body}
        return client.put(f"/t/{dialogue.id}/status.json", headers=auth_headers(moderator), **kwargs)

    response = put("true")
    assert_matches_spec(response, "put", "/t/{id}/status.json")
    assert response.json == {"success": "OK", "topic_status_update": None}
    assert client.get(f"/t/{dialogue.id}.json").json["closed"] is True
    put("true")  # again: nothing more happens
    put("false")
    assert small_actions(dialogue) == ["closed.enabled", "closed.disabled"]
    assert count(AuditLogEntry, AuditLogEntry.subject_id == dialogue.id, AuditLogEntry.action.like("topic.closed.%")) == 2


def test_pinning_until_a_date_and_unpinning(client, auth_headers, dialogue, moderator):
    until = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    body = {"status": "pinned", "enabled": "true", "until": until.isoformat()}
    response = client.put(f"/t/{dialogue.id}/status.json", json=body, headers=auth_headers(moderator))
    assert response.status_code == 200
    view = client.get(f"/t/{dialogue.id}.json")
    assert_matches_spec(view, "get", "/t/{id}.json")
    shown = view.json
    assert (shown["pinned"], shown["pinned_globally"], shown["pinned_until"]) == (True, False, until.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    assert shown["pinned_at"] is not None
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "topic.pinned.enabled"))
    assert entry.after == {"pinned": True, "until": until.isoformat()}

    client.put(f"/t/{dialogue.id}/status.json", data={"status": "pinned_globally", "enabled": "true"}, headers=auth_headers(moderator))
    shown = client.get(f"/t/{dialogue.id}.json").json
    assert (shown["pinned"], shown["pinned_globally"], shown["pinned_until"]) == (True, True, None)

    client.put(f"/t/{dialogue.id}/status.json", data={"status": "pinned_globally", "enabled": "false"}, headers=auth_headers(moderator))
    shown = client.get(f"/t/{dialogue.id}.json").json
    assert (shown["pinned"], shown["pinned_globally"], shown["pinned_at"], shown["pinned_until"]) == (False, False, None, None)
    assert small_actions(dialogue) == ["pinned.enabled", "pinned_globally.enabled", "pinned_globally.disabled"]


def test_an_expired_pin_is_no_pin(app, dialogue, moderator):
    topics.set_status(moderator, dialogue, "pinned", True, until=utcnow() + timedelta(seconds=1))
    with write_unit(db.session):
        dialogue.pinned_until = utcnow() - timedelta(seconds=1)
    assert not topics.is_pinned(dialogue)
    topics.set_status(moderator, dialogue, "pinned", True)  # pins again, without an end
    assert topics.is_pinned(dialogue) and dialogue.pinned_until is None


@pytest.mark.parametrize(
    "who, body, status",
    [
        ("member", {"status": "closed", "enabled": "true"}, 403),
        (None, {"status": "closed", "enabled": "true"}, 403),
        ("moderator", {"status": "melted", "enabled": "true"}, 400),
        ("moderator", {"status": "closed"}, 400),
        ("moderator", {"enabled": "true"}, 400),
        ("moderator", {"status": "closed", "enabled": "perhaps"}, 400),
        ("moderator", {"status": "pinned", "enabled": "true", "until": "next tuesday"}, 400),
        ("moderator", {"status": "pinned", "enabled": "true", "until": "2001-01-01"}, 400),
    ],
)
def test_bad_status_changes_are_refused_and_change_nothing(client, auth_headers, request, dialogue, who, body, status):
    user = request.getfixturevalue(who) if who else None
    response = client.put(f"/t/{dialogue.id}/status.json", json=body, headers=auth_headers(user))
    assert response.status_code == status, response.json
    db.session.refresh(dialogue)
    assert (dialogue.closed, dialogue.pinned_at, dialogue.highest_post_number) == (False, None, 5)
    assert count(AuditLogEntry, AuditLogEntry.subject_type == "topic") == 0


# DELETE /t/{id}.json and PUT /t/{id}/recover.json


def test_the_author_deletes_a_topic_without_replies_and_staff_recover_it(client, auth_headers, member, moderator):
    topic = topics.create_topic(member, title="A question nobody answered", raw=OPENING)
    response = client.delete(f"/t/{topic.id}.json", headers=auth_headers(member))
    assert (response.status_code, response.get_data()) == (200, b"")
    assert_matches_spec(response, "delete", "/t/{id}.json")
    assert client.get(f"/t/{topic.id}.json", headers=auth_headers(member)).status_code == 404
    assert client.put(f"/t/{topic.id}/recover.json", headers=auth_headers(member)).status_code == 404

    assert client.put(f"/t/{topic.id}/recover.json", headers=auth_headers(moderator)).status_code == 200
    assert client.get(f"/t/{topic.id}.json", headers=auth_headers(member)).status_code == 200
    entries = db.session.scalars(select(AuditLogEntry.action).where(AuditLogEntry.subject_type == "topic").order_by(AuditLogEntry.id))
    assert list(entries) == ["topic.delete", "topic.recover"]


@pytest.mark.parametrize("who, status", [(None, 403), ("member", 403), ("other", 403), ("moderator", 200)])
def test_only_staff_delete_a_topic_with_replies(client, auth_headers, request, dialogue, who, status):
    user = request.getfixturevalue(who) if who else None
    assert client.delete(f"/t/{dialogue.id}", headers=auth_headers(user)).status_code == status
    db.session.refresh(dialogue)
    assert dialogue.is_deleted == (status == 200)


def test_deleting_a_topic_one_cannot_see_is_not_found(client, auth_headers, restricted_topic, other):
    assert client.delete(f"/t/{restricted_topic.id}.json", headers=auth_headers(other)).status_code == 404
    assert client.delete("/t/424242.json", headers=auth_headers(other)).status_code == 404
