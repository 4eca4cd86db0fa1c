"""A Discourse client library, unchanged, drives a live server over real HTTP."""
import pytest
from pydiscourse import DiscourseClient
from pydiscourse.exceptions import DiscourseClientError

from forum.models import Role
from forum.services import users


@pytest.fixture
def discourse(live_server, make_user):
    admin = make_user(Role.ADMIN, "admin")
    _, key = users.create_api_key(None, created_by=admin)
    return DiscourseClient(live_server, api_username="admin", api_key=key)


def test_a_dialogue_through_pydiscourse(discourse, make_user):
    category = discourse.create_category("Tactics dialogues", "0E76BD", description="Engaging companies")["category"]

    opening = discourse.create_post(
        "## Guiding questions\n\nHow have your organisations trained company staff on human rights?",
        category_id=category["id"],
        title="How do organisations work with corporations?",
        tags=["training"],
    )
    topic_id = opening["topic_id"]
    assert opening["post_number"] == 1

    reply = discourse.create_post(
        "## Response to the opening\n\nWe ran a training for supplier managers in 2009.",
        topic_id=topic_id,
        reply_to_post_number=1,
    )
    assert reply["post_number"] == 2

    edited = discourse.update_post(reply["id"], "## Response to the opening\n\nWe ran trainings for supplier managers.", edit_reason="plural")
    assert edited["post"]["version"] == 2

    topic = discourse.topic(opening["topic_slug"], topic_id)
    assert topic["title"] == "How do organisations work with corporations?"
    assert [post["post_number"] for post in topic["post_stream"]["posts"]] == [1, 2]
    assert "trainings for supplier managers" in topic["post_stream"]["posts"][1]["cooked"]
    assert "training" in [tag if isinstance(tag, str) else tag["name"] for tag in topic["tags"]]

    assert len(discourse.topic_posts(topic_id)["post_stream"]["posts"]) == 2
    assert discourse.post_by_number(topic_id, 2)["id"] == reply["id"]
    assert topic_id in [item["id"] for item in discourse.latest_topics()["topic_list"]["topics"]]
    assert reply["id"] in [post["id"] for post in discourse.latest_posts()["latest_posts"]]
    assert "Tactics dialogues" in [item["name"] for item in discourse.categories()]
    assert "training" in [tag["name"] for tag in discourse._get("/tags.json")["tags"]]

    found = discourse.search("supplier managers")
    assert reply["id"] in [post["id"] for post in found["posts"]]

    discourse.update_topic_status(topic_id, "closed", True)
    assert discourse.topic(opening["topic_slug"], topic_id)["closed"] is True
    member = make_user(Role.MEMBER, "tomas")
    _, member_key = users.create_api_key(member, created_by=member)
    as_member = DiscourseClient(discourse.host, api_username="tomas", api_key=member_key)
    with pytest.raises(DiscourseClientError) as refused:
        as_member.create_post("## Late reply\n\nThis should not be accepted at all.", topic_id=topic_id)
    assert refused.value.response.status_code == 403
    discourse.update_topic_status(topic_id, "closed", False)
    assert discourse.topic(opening["topic_slug"], topic_id)["closed"] is False
    as_member.create_post("## Late reply\n\nNow the topic is open again, so this lands.", topic_id=topic_id)

    profile = discourse.user("admin")
    assert profile["username"] == "admin" and profile["admin"] is True
