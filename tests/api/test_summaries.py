"""Topic summaries at Discourse AI's endpoint: cited key points, outdated tracking, the scan, opting out."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.content.text import plain_text
from forum.extensions import db
from forum.models import Post, PostActionType, Topic, TopicSummary
from forum.models.base import utcnow
from forum.services import bot_preferences, categories, posts, review, summaries, topics, users
from tests.api.factories import set_columns
from tests.api.test_session import limits_on

OPENING = (
    "## Guiding questions\n\n"
    "How do human rights organisations persuade companies to change their practices? "
    "What has worked when you trained managers, joined business associations or organised buyers?"
)
REPLIES = [
    "## Training as a door opener\n\nOur training sessions for factory managers opened a dialogue that audits never did. "
    "Managers asked us back to train their supervisors the following year.",
    "## Associations set the floor\n\nJoining the national business association let us put labour standards on its agenda. "
    "Members adopted a shared code after two years of meetings.",
    "## Buyers can reward good behaviour\n\nA carrotmob rewarded the shop that promised to pay a living wage. "
    "Customers spent their money there on one day and the owner kept the promise.",
    "## Response to the trainings\n\nI agree that training sessions for factory managers open a dialogue. "
    "In our case the supervisors became allies of the workers' committee.",
]


@pytest.fixture
def dialogue(member, make_user):
    topic = topics.create_topic(member, title="How do organisations work with corporations?", raw=OPENING)
    for n, raw in enumerate(REPLIES):
        posts.create_reply(make_user(), topic, raw=raw, reply_to_post_number=2 if n == 3 else 1)
    return topic


def texts_by_number(topic: Topic) -> dict[int, str]:
    rows = db.session.execute(select(Post.post_number, Post.cooked).where(Post.topic_id == topic.id))
    return {number: plain_text(cooked) for number, cooked in rows}


def test_summary_in_discourse_ai_shape_with_verbatim_cited_key_points(client, dialogue):
    response = client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json")
    assert response.status_code == 200, response.json
    summary = response.json["ai_topic_summary"]
    assert set(summary) == {"summarized_text", "algorithm", "outdated", "can_regenerate", "new_posts_since_summary", "updated_at"}
    assert summary["outdated"] is False and summary["new_posts_since_summary"] == 0 and summary["can_regenerate"] is False
    points = response.json["key_points"]
    assert points, "a five-post dialogue has key points"
    texts = texts_by_number(dialogue)
    for point in points:
        assert point["text"] in texts[point["post_numbers"][0]]
        assert f"/t/{dialogue.slug}/{dialogue.id}/{point['post_numbers'][0]})" in summary["summarized_text"]
    assert summary["summarized_text"].count("\n- ") + 1 == len(points)


def test_new_posts_make_it_outdated_and_regenerating_catches_up(client, auth_headers, dialogue, member):
    client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json")
    posts.create_reply(member, dialogue, raw="## One more\n\nA restorative circle brought the company and the families together.")
    summary = client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json").json["ai_topic_summary"]
    assert (summary["outdated"], summary["new_posts_since_summary"]) == (True, 1)
    response = client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json?skip_age_check=true", headers=auth_headers(member))
    assert response.status_code == 200
    assert response.json["ai_topic_summary"]["outdated"] is False
    assert response.json["ai_topic_summary"]["can_regenerate"] is True
    assert client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json?skip_age_check=true").status_code == 403


def test_an_edit_or_a_deletion_makes_it_outdated(client, moderator, dialogue):
    client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json")
    stored = db.session.get(TopicSummary, dialogue.id)
    assert summaries.is_outdated(dialogue, stored) is False
    third = db.session.scalar(select(Post).where(Post.topic_id == dialogue.id, Post.post_number == 3))
    posts.delete_post(moderator, third)
    db.session.expire_all()
    assert summaries.is_outdated(db.session.get(Topic, dialogue.id), db.session.get(TopicSummary, dialogue.id)) is True
    summaries.summarize_topic(dialogue.id)
    cited = {number for point in db.session.get(TopicSummary, dialogue.id).key_points for number in point["post_numbers"]}
    assert 3 not in cited


@pytest.mark.parametrize("removal", ["hidden by flags", "deleted"])
def test_a_summary_stops_quoting_a_post_hidden_or_deleted_after_it_was_made(client, moderator, make_user, dialogue, removal):
    """Until beat's scan makes it again, the stored summary is answered without the key points copied from the post,
    and without citing it."""
    points = client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json").json["key_points"]
    removed = next(point for point in points if point["post_numbers"][0] != 1)  # deleting the first post deletes the topic
    number = removed["post_numbers"][0]
    post = db.session.scalar(select(Post).where(Post.topic_id == dialogue.id, Post.post_number == number))
    if removal == "deleted":
        posts.delete_post(moderator, post)
    else:
        for _ in range(3):
            review.flag_post(make_user(), post, PostActionType.INAPPROPRIATE)
        assert db.session.get(Post, post.id).hidden_at is not None
    answer = client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json").json
    assert answer["ai_topic_summary"]["outdated"] is True
    assert answer["key_points"] == [
        {**point, "post_numbers": [n for n in point["post_numbers"] if n != number]} for point in points if point["post_numbers"][0] != number
    ]
    assert removed["text"] not in answer["ai_topic_summary"]["summarized_text"]
    assert f"/{dialogue.id}/{number})" not in answer["ai_topic_summary"]["summarized_text"]
    assert answer["ai_topic_summary"]["summarized_text"].count("\n- ") + 1 == len(answer["key_points"])


def test_unchanged_input_keeps_the_summary_and_running_twice_stores_one(dialogue):
    first = summaries.summarize_topic(dialogue.id)
    key_points, content_hash = list(first.key_points), first.content_hash
    second = summaries.summarize_topic(dialogue.id)
    assert second.key_points == key_points and second.content_hash == content_hash
    assert db.session.scalar(select(TopicSummary.topic_id).where(TopicSummary.topic_id == dialogue.id)) == dialogue.id


def test_opted_out_authors_are_never_quoted(client, dialogue):
    client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json")
    authors = {row.user.username for row in db.session.scalars(select(Post).where(Post.topic_id == dialogue.id))}
    for username in authors:
        bot_preferences.set_bot_opt_out(users.find_by_username(username), username, True)
    assert db.session.get(TopicSummary, dialogue.id) is None  # dropped at once
    assert client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json").status_code == 404


def test_visibility_follows_the_topic(client, auth_headers, admin, member, dialogue):
    staff_only = categories.create_category(admin, {"name": "Staff room", "color": "0088CC", "text_color": "FFFFFF"}, {"staff": 1})
    topics.update_topic(admin, dialogue, category_id=staff_only.id)
    assert client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json").status_code in (403, 404)
    assert client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json", headers=auth_headers(member)).status_code in (403, 404)
    assert client.get(f"/discourse-ai/summarization/t/{dialogue.id}.json", headers=auth_headers(admin)).status_code == 200


def test_the_scan_waits_for_quiet_then_backfills_within_budget(app, dialogue, member):
    long_ago = utcnow() - timedelta(hours=2)
    set_columns(Topic, dialogue.id, bumped_at=utcnow())
    assert summaries.topics_to_summarize() == []  # busy: not yet
    set_columns(Topic, dialogue.id, bumped_at=long_ago)
    assert summaries.topics_to_summarize() == [dialogue.id]  # quiet, and no summary yet
    summaries.summarize_topic(dialogue.id)
    assert summaries.topics_to_summarize() == []
    posts.create_reply(member, db.session.get(Topic, dialogue.id), raw="## Later\n\nWe are still waiting for the company's answer.")
    set_columns(Topic, dialogue.id, bumped_at=long_ago)
    assert summaries.topics_to_summarize() == [dialogue.id]  # outdated and quiet again
    app.config["SUMMARY_BACKFILL_PER_HOUR"] = 0
    try:
        summaries.summarize_topic(dialogue.id)
        other = topics.create_topic(member, title="Another dialogue about buycotts", raw=OPENING)
        for raw in REPLIES[:3]:
            posts.create_reply(member, other, raw=raw)
        set_columns(Topic, other.id, bumped_at=long_ago)
        assert summaries.topics_to_summarize() == []  # no budget left this hour
    finally:
        app.config["SUMMARY_BACKFILL_PER_HOUR"] = 200


def test_reading_summaries_counts_against_the_callers_default_limit(app, dialogue):
    """The regeneration limit was the route's only one: reading summaries was not limited at all."""
    with limits_on(app, RATELIMIT_DEFAULT="2 per minute") as limited:
        statuses = [limited.get(f"/discourse-ai/summarization/t/{dialogue.id}.json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
