"""The review queue over HTTP: tactic suggestions and flags, decided one by one, in bulk, and undone."""
import json

import pytest
from sqlalchemy import func, select

from bots.tactics import PostText, Suggestion
from forum.extensions import db
from forum.database import write_unit
from forum.models import AuditLogEntry, Post, Reviewable, ReviewableStatus, TacticModel, Topic
from forum.services import posts, review, tactics, tags, topics
from tests.conftest import run_together

TRAINING_POST = (
    "## Training supplier managers\n\n"
    "We ran a two-day training for the managers of twelve garment suppliers on workers' rights. "
    "Afterwards the factories set up grievance committees."
)
CIRCLE_POST = (
    "## A restorative circle in the village\n\n"
    "The company, the families and the elders sat in a restorative circle for a whole afternoon. "
    "Each person spoke in turn about the harm done by the spill."
)


@pytest.fixture
def topic(member):
    return topics.create_topic(member, title="How do organisations work with companies on rights?",
                               raw="## Guiding questions\n\nWhat has worked for you when engaging a company?")


def suggest(post: Post, tactic: str, score: float = 0.9, evidence: str | None = None, model_version: str = "test-1"):
    """File what a model would suggest for ``post``: the queue's rules do not depend on which model."""
    tags = {tag.name: tag for tag in tactics.tactic_tags()}
    sentence = evidence or post.raw.splitlines()[-1].split(". ")[0]
    return review.file_tactic_suggestions(post, [Suggestion(tactic, score, (sentence,), model_version)], tags)


@pytest.fixture
def training_item(topic, make_user):
    post = posts.create_reply(make_user(), topic, raw=TRAINING_POST)
    [item] = suggest(post, "training")
    return item


def put(client, auth_headers, path, user, **body):
    return client.put(path, data=body, headers=auth_headers(user))


def test_the_tactics_group_is_seeded_with_four_described_tactics(client, auth_headers, admin):
    response = client.get("/tactics.json", headers=auth_headers(admin))
    assert response.status_code == 200
    names = [tactic["name"] for tactic in response.json["tactics"]]
    assert names == sorted(["training", "membership-association", "carrotmob", "restorative-circle"])
    assert all(tactic["description"] and len(tactic["examples"]) >= 3 for tactic in response.json["tactics"])


def test_only_staff_see_the_queue(client, auth_headers, member, moderator, training_item):
    assert client.get("/review.json").status_code == 403
    response = client.get("/review.json", headers=auth_headers(member))
    assert response.status_code == 403 and response.json["error_type"] == "invalid_access"
    assert client.get(f"/review/{training_item.id}.json", headers=auth_headers(member)).status_code == 403
    # The queue's length shows on the reviewers' current user only.
    assert client.get("/session/current.json", headers=auth_headers(member)).json["current_user"]["reviewable_count"] == 0
    assert client.get("/session/current.json", headers=auth_headers(moderator)).json["current_user"]["reviewable_count"] == 1


def test_a_pending_suggestion_shows_its_evidence_and_the_actions_the_moderator_may_take(client, auth_headers, moderator, training_item):
    response = client.get("/review.json", headers=auth_headers(moderator))
    assert response.status_code == 200
    [item] = response.json["reviewables"]
    assert item["type"] == "ReviewableTacticTag" and item["status"] == 0 and item["version"] == 1
    assert item["payload"]["tactic"] == "training"
    assert item["payload"]["evidence"] == ["We ran a two-day training for the managers of twelve garment suppliers on workers' rights"]
    assert item["payload"]["model_version"] == "test-1"
    assert [bundle["id"] for bundle in item["bundled_actions"]] == ["approve_tag", "reject_tag", "ignore"]
    assert item["target_url"].endswith("/2") and item["topic_id"] == training_item.topic_id
    assert response.json["meta"]["reviewable_count"] == 1
    assert {user["id"] for user in response.json["users"]} >= {training_item.post.user_id}


def test_approving_tags_the_post_and_its_topic_and_the_tag_finds_it(client, auth_headers, moderator, training_item):
    response = put(client, auth_headers, f"/review/{training_item.id}/perform/approve_tag.json", moderator, version=1)
    assert response.status_code == 200, response.json
    result = response.json["reviewable_perform_result"]
    assert (result["transition_to"], result["version"], result["remove_reviewable_ids"]) == ("approved", 2, [training_item.id])
    db.session.expire_all()
    post = db.session.get(Post, training_item.post_id)
    assert [tag.name for tag in post.tags] == ["training"]
    assert [tag.name for tag in post.topic.tags] == ["training"]
    topic_json = client.get(f"/t/{post.topic_id}.json").json
    assert [tag["name"] if isinstance(tag, dict) else tag for tag in topic_json["tags"]] == ["training"]
    listed = client.get("/tag/training.json").json["topic_list"]["topics"]
    assert [topic["id"] for topic in listed] == [post.topic_id]
    found = client.get("/search.json", query_string={"q": "garment tags:training"}).json
    assert [found_post["id"] for found_post in found["posts"]] == [post.id]
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "reviewable.approve_tag"))
    assert entry.actor_id == moderator.id


def test_a_stale_version_is_a_conflict_and_changes_nothing(client, auth_headers, moderator, admin, training_item):
    assert put(client, auth_headers, f"/review/{training_item.id}/perform/ignore.json", admin, version=1).status_code == 200
    response = put(client, auth_headers, f"/review/{training_item.id}/perform/approve_tag.json", moderator, version=1)
    assert response.status_code == 409
    assert response.json["error_type"] == "conflict" and response.json["errors"]
    db.session.expire_all()
    item = db.session.get(Reviewable, training_item.id)
    assert (item.status, item.version) == (ReviewableStatus.IGNORED, 2)
    assert db.session.get(Post, item.post_id).tags == []


def test_version_is_required_and_unknown_actions_are_refused(client, auth_headers, moderator, training_item):
    response = put(client, auth_headers, f"/review/{training_item.id}/perform/approve_tag.json", moderator)
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"
    response = put(client, auth_headers, f"/review/{training_item.id}/perform/agree_and_hide.json", moderator, version=1)
    assert response.status_code == 403
    assert put(client, auth_headers, "/review/999999/perform/ignore.json", moderator, version=1).status_code == 404


def test_rejecting_keeps_the_reason_in_the_history_and_the_decision_for_learning(client, auth_headers, moderator, training_item):
    response = put(client, auth_headers, f"/review/{training_item.id}/perform/reject_tag.json", moderator,
                   version=1, reason="A staff induction, not a training of the company's people.")
    assert response.status_code == 200
    shown = client.get(f"/review/{training_item.id}.json", headers=auth_headers(moderator)).json["reviewable"]
    assert [(entry["action"], entry["username"]) for entry in shown["history"]] == [("created", "tactics-bot"), ("reject_tag", "moderator")]
    assert shown["history"][-1]["reason"].startswith("A staff induction")
    assert [bundle["id"] for bundle in shown["bundled_actions"]] == ["reopen"]
    [decision] = tactics.decisions()
    assert (decision.tactic, decision.approved) == ("training", False)
    assert "two-day training" in decision.post.text


def test_reopening_an_approval_takes_the_tags_back(client, auth_headers, moderator, training_item):
    put(client, auth_headers, f"/review/{training_item.id}/perform/approve_tag.json", moderator, version=1)
    response = put(client, auth_headers, f"/review/{training_item.id}/perform/reopen.json", moderator, version=2)
    assert response.status_code == 200 and response.json["reviewable_perform_result"]["transition_to"] == "pending"
    db.session.expire_all()
    post = db.session.get(Post, training_item.post_id)
    assert post.tags == [] and post.topic.tags == []
    assert client.get("/tag/training.json").json["topic_list"]["topics"] == []
    history = [entry["action"] for entry in client.get(f"/review/{training_item.id}.json", headers=auth_headers(moderator)).json["reviewable"]["history"]]
    assert history == ["created", "approve_tag", "reopen"]


def test_reopening_keeps_a_topic_tag_someone_else_set(client, auth_headers, moderator, member):
    topic = topics.create_topic(member, title="Trainings that changed a supplier", raw=TRAINING_POST, tag_names=("training",))
    [item] = suggest(db.session.scalar(select(Post).where(Post.topic_id == topic.id)), "training")
    put(client, auth_headers, f"/review/{item.id}/perform/approve_tag.json", moderator, version=1)
    put(client, auth_headers, f"/review/{item.id}/perform/reopen.json", moderator, version=2)
    db.session.expire_all()
    assert [tag.name for tag in db.session.get(Topic, topic.id).tags] == ["training"]


@pytest.mark.parametrize("reopened_first", ["the approval that tagged the topic", "the other approval"])
def test_reopening_every_approval_of_a_tactic_in_a_topic_takes_its_topic_tag_back_in_either_order(client, auth_headers, moderator, topic, make_user, reopened_first):
    """The first approval tagged the topic. Reopened while the second stood, it left the tag to the second, whose own
    approval had found the tag there: reopened last, it kept the tag with nothing approved left in the topic."""
    first, second = (suggest(posts.create_reply(make_user(), topic, raw=f"{TRAINING_POST} Post {n}."), "training")[0] for n in range(2))
    for item in (first, second):
        assert put(client, auth_headers, f"/review/{item.id}/perform/approve_tag.json", moderator, version=1).status_code == 200
    for item in (first, second) if reopened_first == "the approval that tagged the topic" else (second, first):
        assert put(client, auth_headers, f"/review/{item.id}/perform/reopen.json", moderator, version=2).status_code == 200
        db.session.expire_all()
        still_approved = [other for other in (first, second) if db.session.get(Reviewable, other.id).status == ReviewableStatus.APPROVED]
        assert [tag.name for tag in db.session.get(Topic, topic.id).tags] == (["training"] if still_approved else [])
    assert client.get("/tag/training.json").json["topic_list"]["topics"] == []


def test_bulk_decides_each_item_on_its_own(client, auth_headers, moderator, topic, make_user):
    items = [suggest(posts.create_reply(make_user(), topic, raw=TRAINING_POST + f" Round {n}."), "training")[0] for n in range(3)]
    put(client, auth_headers, f"/review/{items[1].id}/perform/ignore.json", moderator, version=1)  # now at version 2
    body = {"items": [{"id": item.id, "version": 1} for item in items] + [{"id": 999999, "version": 1}]}
    response = client.put("/review/bulk/perform/approve_tag.json", json=body, headers=auth_headers(moderator))
    assert response.status_code == 200
    results = {result["id"]: result for result in response.json["results"]}
    assert results[items[0].id]["success"] and results[items[2].id]["success"]
    assert (results[items[1].id]["success"], results[items[1].id]["status"]) == (False, 409)
    assert (results[999999]["success"], results[999999]["status"]) == (False, 404)
    db.session.expire_all()
    statuses = [db.session.get(Reviewable, item.id).status for item in items]
    assert statuses == [ReviewableStatus.APPROVED, ReviewableStatus.IGNORED, ReviewableStatus.APPROVED]


def test_bulk_refuses_malformed_requests_whole(client, auth_headers, moderator, training_item):
    for body in ({"items": []}, {"items": [{"id": "x", "version": 1}]}, {"items": [{"id": training_item.id, "version": 1}] * 2},
                 {"items": [{"id": n, "version": 1} for n in range(1, 102)]}, {"items": "all"}):
        response = client.put("/review/bulk/perform/ignore.json", json=body, headers=auth_headers(moderator))
        assert response.status_code == 400, body
    assert db.session.get(Reviewable, training_item.id).status == ReviewableStatus.PENDING


@pytest.mark.parametrize("reason", ["a NUL \x00 inside", "a lone surrogate \ud800"], ids=["NUL", "surrogate"])
def test_a_bulk_reason_no_database_can_store_is_refused_and_nothing_decided(client, auth_headers, moderator, training_item, reason):
    """The reason goes into every item's history: text that PostgreSQL or UTF-8 cannot hold is a 400 up front."""
    body = {"items": [{"id": training_item.id, "version": 1}], "reason": reason}
    response = client.put("/review/bulk/perform/reject_tag.json", data=json.dumps(body), content_type="application/json",
                          headers=auth_headers(moderator))
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters", response.get_data(as_text=True)
    assert db.session.get(Reviewable, training_item.id).status == ReviewableStatus.PENDING


def test_filters_sorting_and_paging(client, auth_headers, moderator, topic, make_user):
    training = suggest(posts.create_reply(make_user(), topic, raw=TRAINING_POST), "training", score=0.95)[0]
    circle = suggest(posts.create_reply(make_user(), topic, raw=CIRCLE_POST), "restorative-circle", score=0.7)[0]

    def ids(**query):
        response = client.get("/review.json", query_string=query, headers=auth_headers(moderator))
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["reviewables"]]

    assert ids() == [training.id, circle.id]
    assert ids(sort_order="score_asc") == [circle.id, training.id]
    assert ids(tactic="restorative-circle") == [circle.id]
    assert ids(min_score="0.8") == [training.id]
    assert ids(topic_id=topic.id, type="ReviewableTacticTag") == [training.id, circle.id]
    assert ids(status="approved") == []
    assert ids(status="all") == [training.id, circle.id]
    for bad in ({"status": "maybe"}, {"min_score": "high"}, {"sort_order": "random"}, {"type": "Nope"}):
        assert client.get("/review.json", query_string=bad, headers=auth_headers(moderator)).status_code == 400


def test_refiling_the_same_suggestion_changes_nothing_and_a_new_reading_updates_or_withdraws(moderator, topic, make_user):
    post = posts.create_reply(make_user(), topic, raw=TRAINING_POST)
    [first] = suggest(post, "training", score=0.9)
    [again] = suggest(post, "training", score=0.9)
    assert again.id == first.id and again.version == 1 and len(again.history) == 1
    [updated] = suggest(post, "training", score=0.8, model_version="test-2")
    assert (updated.id, updated.version, updated.payload["model_version"]) == (first.id, 2, "test-2")
    review.file_tactic_suggestions(post, [], {tag.name: tag for tag in tactics.tactic_tags()})
    db.session.expire_all()
    withdrawn = db.session.get(Reviewable, first.id)
    assert withdrawn.status == ReviewableStatus.DELETED and withdrawn.history[-1].action == "withdrawn"


def test_a_decided_item_stays_decided_when_the_bot_reads_the_post_again(client, auth_headers, moderator, training_item):
    put(client, auth_headers, f"/review/{training_item.id}/perform/reject_tag.json", moderator, version=1)
    suggest(db.session.get(Post, training_item.post_id), "training", score=0.99, model_version="test-2")
    db.session.expire_all()
    item = db.session.get(Reviewable, training_item.id)
    assert (item.status, item.version) == (ReviewableStatus.REJECTED, 2)


def test_flags_fill_one_item_and_hide_the_post_past_the_threshold(client, auth_headers, moderator, topic, make_user):
    author = make_user()
    post = posts.create_reply(author, topic, raw="Buy from the company that paid off the local officials!")
    flaggers = [make_user() for _ in range(3)]
    for flagger in flaggers[:2]:
        response = client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 4}, headers=auth_headers(flagger))
        assert response.status_code == 200, response.json
    assert db.session.get(Post, post.id).hidden_at is None
    again = client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 4}, headers=auth_headers(flaggers[0]))
    assert again.status_code == 403
    own = client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 8}, headers=auth_headers(author))
    assert own.status_code == 403
    client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 8, "message": "spam link"}, headers=auth_headers(flaggers[2]))
    db.session.expire_all()
    assert db.session.get(Post, post.id).hidden_at is not None
    shown = {user: client.get(f"/posts/{post.id}.json", headers=auth_headers(user)).json for user in (flaggers[0], author, moderator)}
    assert shown[flaggers[0]]["hidden"] is True and shown[flaggers[0]]["cooked"] == "" and shown[flaggers[0]]["raw"] == ""
    assert "local officials" in shown[author]["cooked"] and shown[author]["can_see_hidden_post"] is True
    assert "local officials" in shown[moderator]["raw"]
    [item] = client.get("/review.json", query_string={"type": "ReviewableFlaggedPost"}, headers=auth_headers(moderator)).json["reviewables"]
    assert item["score"] == 3.0 and len(item["reviewable_scores"]) == 3
    # Every flag is a change of the item, in its history: who flagged, and the message.
    assert [(entry["action"], entry["user_id"], entry["reason"]) for entry in item["history"]] == [
        ("created", flaggers[0].id, None), ("flagged", flaggers[1].id, None), ("flagged", flaggers[2].id, "spam link")]
    assert [bundle["id"] for bundle in item["bundled_actions"]] == ["agree_and_hide", "disagree", "ignore"]
    response = put(client, auth_headers, f"/review/{item['id']}/perform/disagree.json", moderator, version=item["version"])
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Post, post.id).hidden_at is None


HIDDEN_REFUSAL = "That post is hidden until a moderator reviews it; it cannot be flagged again."


def test_a_member_flags_a_post_once_whatever_the_type_so_one_member_cannot_hide_it(client, auth_headers, moderator, topic, make_user):
    """As Discourse: one flag per member and post. Before, flags of three types by one member weighed as three
    members' and hid the post; a moderator's two did too."""
    post = posts.create_reply(make_user(), topic, raw="Buy from the company that paid off the local officials!")
    member = make_user()
    for flagger in (member, moderator):
        assert client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 3}, headers=auth_headers(flagger)).status_code == 200
        # The moderator's flag hid the post, which no one flags any more.
        refusal = "You have already flagged this post." if flagger is member else HIDDEN_REFUSAL
        for other_type in (4, 8, 7):
            again = client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": other_type}, headers=auth_headers(flagger))
            assert again.status_code == 403 and again.json["errors"] == [refusal]
        db.session.expire_all()
        assert (db.session.get(Post, post.id).hidden_at is None) == (flagger is member)  # 1 of 3, then 1 + 2
    [item] = client.get("/review.json", query_string={"type": "ReviewableFlaggedPost"}, headers=auth_headers(moderator)).json["reviewables"]
    assert item["score"] == 3.0 and len(item["reviewable_scores"]) == 2  # a member's 1 and a moderator's 2
    assert client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 2}, headers=auth_headers(member)).status_code == 200  # a like is no flag


def test_deleting_a_flagged_post_or_its_topic_settles_its_flags_as_discourse_does(client, auth_headers, moderator, topic, make_user):
    """Agreed with when staff delete it, deferred when its author does; either way it leaves the pending queue and
    offers no action on a deleted post."""
    authors = [make_user() for _ in range(3)]
    flagged = [posts.create_reply(author, topic, raw=f"Buy from the company that paid off the officials! {n}") for n, author in enumerate(authors)]
    for post in flagged:
        assert client.post("/post_actions.json", data={"id": post.id, "post_action_type_id": 4}, headers=auth_headers(make_user())).status_code == 200
    assert client.delete(f"/posts/{flagged[0].id}.json", headers=auth_headers(moderator)).status_code == 200
    assert client.delete(f"/posts/{flagged[1].id}.json", headers=auth_headers(authors[1])).status_code == 200
    assert client.delete(f"/t/{topic.id}.json", headers=auth_headers(moderator)).status_code == 200

    items = {item["target_id"]: item for item in client.get("/review.json", query_string={"status": "all", "type": "ReviewableFlaggedPost"},
                                                             headers=auth_headers(moderator)).json["reviewables"]}
    settled = {post_id: (item["status_name"], item["history"][-1]["action"], item["bundled_actions"]) for post_id, item in items.items()}
    assert settled == {
        flagged[0].id: ("approved", "agreed_by_deletion", []),
        flagged[1].id: ("ignored", "deferred_by_deletion", []),
        flagged[2].id: ("approved", "agreed_by_deletion", []),  # with its topic, by a moderator
    }
    assert client.get("/review.json", headers=auth_headers(moderator)).json["reviewables"] == []


def test_opting_out_withdraws_pending_suggestions_and_is_the_users_own_choice(client, auth_headers, member, admin, training_item, make_user):
    author = db.session.get(Post, training_item.post_id).user
    assert put(client, auth_headers, f"/u/{author.username}/bot-preferences.json", member, bot_opt_out="true").status_code == 403
    response = put(client, auth_headers, f"/u/{author.username}/bot-preferences.json", author, bot_opt_out="true")
    assert response.status_code == 200 and response.json["bot_opt_out"] is True
    db.session.expire_all()
    assert db.session.get(Reviewable, training_item.id).status == ReviewableStatus.DELETED
    assert tactics.scorable_post(training_item.post_id) is None
    assert put(client, auth_headers, f"/u/{author.username}/bot-preferences.json", author, bot_opt_out="perhaps").status_code == 400


def test_an_opted_out_authors_decided_suggestion_is_not_reopened_into_the_queue(client, auth_headers, moderator, training_item):
    assert put(client, auth_headers, f"/review/{training_item.id}/perform/approve_tag.json", moderator, version=1).status_code == 200
    author = db.session.get(Post, training_item.post_id).user
    assert put(client, auth_headers, f"/u/{author.username}/bot-preferences.json", author, bot_opt_out="true").status_code == 200
    shown = client.get(f"/review/{training_item.id}.json", headers=auth_headers(moderator)).json["reviewable"]
    assert (shown["status_name"], shown["bundled_actions"]) == ("approved", [])  # the decision stays
    refused = put(client, auth_headers, f"/review/{training_item.id}/perform/reopen.json", moderator, version=shown["version"])
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Reviewable, training_item.id).status == ReviewableStatus.APPROVED


def test_deleting_a_post_or_its_topic_withdraws_its_pending_suggestions_and_leaves_decisions(client, auth_headers, moderator, topic, make_user):
    first, second, third = (posts.create_reply(make_user(), topic, raw=TRAINING_POST) for _ in range(3))
    [pending_first], [pending_second], [decided] = suggest(first, "training"), suggest(second, "training"), suggest(third, "training")
    assert put(client, auth_headers, f"/review/{decided.id}/perform/approve_tag.json", moderator, version=1).status_code == 200
    assert client.delete(f"/posts/{first.id}.json", headers=auth_headers(moderator)).status_code == 200
    db.session.expire_all()
    withdrawn = db.session.get(Reviewable, pending_first.id)
    assert withdrawn.status == ReviewableStatus.DELETED and withdrawn.history[-1].reason == posts.DELETED_POST_REASON
    assert db.session.get(Reviewable, pending_second.id).status == ReviewableStatus.PENDING
    assert client.delete(f"/t/{topic.id}.json", headers=auth_headers(moderator)).status_code == 200
    db.session.expire_all()
    assert db.session.get(Reviewable, pending_second.id).status == ReviewableStatus.DELETED
    assert db.session.get(Reviewable, decided.id).status == ReviewableStatus.APPROVED
    queue = client.get("/review.json", headers=auth_headers(moderator)).json["reviewables"]
    assert [item["id"] for item in queue] == []
    shown = client.get(f"/review/{decided.id}.json", headers=auth_headers(moderator)).json["reviewable"]
    assert shown["bundled_actions"] == []  # nothing to reopen on a deleted post
    refused = put(client, auth_headers, f"/review/{decided.id}/perform/reopen.json", moderator, version=shown["version"])
    assert refused.status_code == 403


def test_admins_describe_tactics_and_rename_them(client, auth_headers, admin, moderator):
    body = {"description": "Consumers reward a company for doing better.", "examples": ["a buycott", "spend money to reward"]}
    assert client.put("/tactics/carrotmob.json", json=body, headers=auth_headers(moderator)).status_code == 403
    response = client.put("/tactics/carrotmob.json", json=body, headers=auth_headers(admin))
    assert response.status_code == 200 and response.json["tactic"]["examples"] == body["examples"]
    assert client.put("/tactics/unknown.json", json=body, headers=auth_headers(admin)).status_code == 404
    response = client.put("/tag/carrotmob.json", json={"tag": {"id": "buycott"}}, headers=auth_headers(admin))
    assert response.status_code == 200
    names = [tactic["name"] for tactic in client.get("/tactics.json", headers=auth_headers(admin)).json["tactics"]]
    assert "buycott" in names and "carrotmob" not in names
    [renamed] = [tactic for tactic in tactics.current_tactics() if tactic.name == "buycott"]
    assert renamed.description == body["description"]


def test_the_tactics_group_keeps_its_name_and_no_other_group_takes_it(client, auth_headers, admin, moderator):
    """The bot finds the tactics by the group's name: renamed away, the next look-up seeded a second "Tactics" over
    the same tags and answered 500."""
    group = tactics.tactics_group()
    for name in ("Tactics (old)", "tactics"):
        response = client.put(f"/tag_groups/{group.id}.json", json={"name": name}, headers=auth_headers(moderator))
        assert response.status_code == 422 and response.json["errors"] == [
            "The 'Tactics' group keeps its name: the tactics bot finds the tactics by it."], name
    other = client.post("/tag_groups.json", json={"name": "Approaches", "tag_names": ["dialogue"]}, headers=auth_headers(moderator)).json
    response = client.put(f"/tag_groups/{other['tag_group']['id']}.json", json={"name": "TACTICS"}, headers=auth_headers(moderator))
    assert response.status_code == 422
    assert client.put(f"/tag_groups/{group.id}.json", json={"name": "Tactics", "tag_names": ["training", "scorecard"]},
                      headers=auth_headers(admin)).status_code == 200  # its tags still change
    assert [t["name"] for t in client.get("/tactics.json", headers=auth_headers(admin)).json["tactics"]] == ["scorecard", "training"]


def test_a_group_renamed_before_the_name_was_kept_is_seeded_again_over_the_same_tags(client, auth_headers, admin):
    """A database where the group was renamed before its name was kept: the bot seeds "Tactics" again, and the tags
    that were tactics keep the examples admins wrote (a second profile per tag answered 500)."""
    assert client.put("/tactics/training.json", json={"examples": ["We coached the managers."]}, headers=auth_headers(admin)).status_code == 200
    with write_unit(db.session):
        tactics.tactics_group().name = "Tactics (old)"
    response = client.get("/tactics.json", headers=auth_headers(admin))
    assert response.status_code == 200
    [training] = [t for t in response.json["tactics"] if t["name"] == "training"]
    assert training["examples"] == ["We coached the managers."]


def test_a_tactic_is_not_renamed_to_a_tag_that_exists(client, auth_headers, admin, member, topic):
    tactics.tactics_group()
    topics.create_topic(member, title="A topic with an ordinary tag", raw="## Hello\n\nA post with a tag on its topic.", tag_names=("scorecards",))
    response = client.put("/tag/carrotmob.json", json={"tag": {"id": "Scorecards"}}, headers=auth_headers(admin))
    assert response.status_code == 422 and response.json["errors"] == ["Name 'scorecards' has already been taken."]
    assert "carrotmob" in [t["name"] for t in client.get("/tactics.json", headers=auth_headers(admin)).json["tactics"]]


def test_items_show_a_renamed_tactic_by_its_new_name_decided_or_not(client, auth_headers, admin, moderator, topic, make_user):
    decided, pending = (suggest(posts.create_reply(make_user(), topic, raw=TRAINING_POST), "training")[0] for _ in range(2))
    assert put(client, auth_headers, f"/review/{decided.id}/perform/approve_tag.json", moderator, version=1).status_code == 200
    assert client.put("/tag/training.json", json={"tag": {"id": "capacity-building"}}, headers=auth_headers(admin)).status_code == 200
    listed = client.get("/review.json", query_string={"status": "all", "tactic": "capacity-building"}, headers=auth_headers(moderator)).json
    assert {(item["id"], item["payload"]["tactic"]) for item in listed["reviewables"]} == {(decided.id, "capacity-building"), (pending.id, "capacity-building")}
    assert client.get(f"/review/{decided.id}.json", headers=auth_headers(moderator)).json["reviewable"]["payload"]["tactic"] == "capacity-building"


def test_a_tactic_added_through_the_tag_group_api_is_used_by_the_next_model(client, auth_headers, admin):
    group = tactics.tactics_group()
    names = [tag.name for tag in tactics.tactic_tags()] + ["code-of-conduct"]
    response = client.put(f"/tag_groups/{group.id}.json", json={"name": "Tactics", "tag_names": names}, headers=auth_headers(admin))
    assert response.status_code == 200, response.json
    response = client.put("/tactics/code-of-conduct.json", headers=auth_headers(admin), json={
        "description": "A company adopts a written code of conduct for its suppliers.",
        "examples": ["adopted a supplier code of conduct", "the code of conduct bans child labour"],
    })
    assert response.status_code == 200, response.json
    model = tactics.refit_model().model
    assert tactics.current_model().version == model.version
    text = PostText(text="Last year the brand adopted a supplier code of conduct that bans child labour. It audits against it twice a year.")
    assert "code-of-conduct" in [suggestion.tactic for suggestion in model.score(text)]


def test_a_post_read_between_a_rename_and_its_refit_keeps_its_suggestion_under_the_new_name(admin, topic, make_user):
    """The model fitted before the rename knows only the old name: scoring with it withdrew the pending item as no
    longer supported, and the refit, which reads again only posts whose suggestions wait, never read the post again."""
    post = posts.create_reply(make_user(), topic, raw=TRAINING_POST)
    [item] = tactics.suggest_for_post(post.id)
    assert item.tag.name == "training" and item.status == ReviewableStatus.PENDING
    tags.rename_tag(admin, "training", "capacity-building")  # no worker here: the refit it queues does not run
    models_before = db.session.scalar(select(func.count()).select_from(TacticModel))

    [again] = tactics.suggest_for_post(post.id)
    assert (again.id, again.status, again.tag.name) == (item.id, ReviewableStatus.PENDING, "capacity-building")
    assert "capacity-building" in tactics.current_model().tactics and "training" not in tactics.current_model().tactics
    tactics.suggest_for_post(post.id)  # the model now knows the tactics: no second refit
    assert db.session.scalar(select(func.count()).select_from(TacticModel)) == models_before + 1


def test_a_model_stored_by_an_earlier_algorithm_is_refitted_not_used(app):
    with write_unit(db.session):
        db.session.add(TacticModel(version="tactics-old-algorithm:1", parameters={"algorithm": "tactics-old-algorithm"}))
    model = tactics.current_model()
    assert model.version != "tactics-old-algorithm:1"
    newest = db.session.scalar(select(TacticModel).order_by(TacticModel.id.desc()).limit(1))
    assert newest.version == model.version


def test_a_refit_is_new_only_when_decisions_changed_and_names_the_posts_to_read_again(client, auth_headers, moderator, topic, make_user):
    waiting = [suggest(posts.create_reply(make_user(), topic, raw=TRAINING_POST + f" Round {n}."), "training")[0] for n in range(2)]
    assert tactics.refit_model().is_new is True
    assert tactics.refit_model().is_new is False  # same tactics, same decisions
    put(client, auth_headers, f"/review/{waiting[0].id}/perform/reject_tag.json", moderator, version=1)
    assert tactics.refit_model().is_new is True
    assert review.posts_with_pending_suggestions(10) == [waiting[1].post_id]


def test_a_post_deleted_while_the_bot_scores_it_gets_no_suggestions(moderator, topic, make_user, monkeypatch):
    """The bot reads the post, and the post is deleted before it files what it found: it files nothing."""
    post = posts.create_reply(make_user(), topic, raw=TRAINING_POST)
    [earlier] = suggest(post, "training")
    real_model = tactics.current_model

    def model_while_a_moderator_deletes_the_post():
        posts.delete_post(moderator, db.session.get(Post, post.id))
        return real_model()

    monkeypatch.setattr(tactics, "current_model", model_while_a_moderator_deletes_the_post)
    assert tactics.suggest_for_post(post.id) == []
    db.session.expire_all()
    items = db.session.scalars(select(Reviewable).where(Reviewable.post_id == post.id)).all()
    assert [(item.id, item.status) for item in items] == [(earlier.id, ReviewableStatus.DELETED)]


# Two moderators on one topic's tactic at once.


def _two_training_items(make_user, round_: int) -> tuple[int, list[int]]:
    topic = topics.create_topic(make_user(), title=f"How do NGOs train company staff, round {round_}?", raw="## Opening\n\nWhat worked?")
    items = [suggest(posts.create_reply(make_user(), topic, raw=f"{TRAINING_POST} Post {k}."), "training")[0] for k in range(2)]
    return topic.id, [item.id for item in items]


def _race(app, headers: list[dict], requests: list[tuple[str, int]]) -> list[int]:
    """The requests (path, version), each with its own moderator's headers on its own connection, at once; their statuses."""
    statuses = [0] * len(requests)

    def work(start, index):
        start()
        path, version = requests[index]
        statuses[index] = app.test_client().put(path, data={"version": version}, headers=headers[index]).status_code

    assert not run_together(app, work, [(index,) for index in range(len(requests))])
    db.session.expire_all()
    return statuses


def test_concurrent_approvals_of_one_tactic_in_one_topic_tag_it_once(app, auth_headers, make_user):
    """Each approval tags the topic if it is not yet: unserialised, both saw it untagged and one failed (500, a
    duplicate topic tag on PostgreSQL), or aborted a bulk request half way."""
    headers = [auth_headers(make_user("moderator")) for _ in range(2)]  # once: each race ends the session
    for round_ in range(5):
        topic_id, ids = _two_training_items(make_user, round_)
        statuses = _race(app, headers, [(f"/review/{item_id}/perform/approve_tag.json", 1) for item_id in ids])
        assert statuses == [200, 200], f"round {round_}"
        assert [tag.name for tag in db.session.get(Topic, topic_id).tags] == ["training"]


def test_reopening_one_approval_while_another_is_made_keeps_the_topic_tagged(app, auth_headers, make_user):
    """The reopened approval had tagged the topic; the other one, made meanwhile, still needs the tag."""
    headers = [auth_headers(make_user("moderator")) for _ in range(2)]  # once: each race ends the session
    for round_ in range(5):
        topic_id, (first, second) = _two_training_items(make_user, round_)
        assert app.test_client().put(f"/review/{first}/perform/approve_tag.json", data={"version": 1}, headers=headers[0]).status_code == 200
        statuses = _race(app, headers,
                         [(f"/review/{first}/perform/reopen.json", 2), (f"/review/{second}/perform/approve_tag.json", 1)])
        assert statuses == [200, 200], f"round {round_}"
        assert db.session.get(Reviewable, second).status == ReviewableStatus.APPROVED
        assert [tag.name for tag in db.session.get(Topic, topic_id).tags] == ["training"], f"round {round_}"
