"""Discourse's site endpoints: /site.json, /site/basic-info.json, /site/statistics.json and /about.json."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forum.database import write_unit
from forum.extensions import db
from forum.models import Post, Role, Topic, User
from forum.models.base import utcnow
from forum.services import categories, post_actions, posts, topics
from tests.api.spec import assert_matches_spec

OPENING = "## Opening\n\nWhat has worked for your organisation so far?"
REPLY = "## A reply\n\nWe trained supplier managers over two years."


@pytest.fixture
def world(admin, member, moderator, make_user, circle):
    """A public category with a topic and a like, and a circle-only category with its own topic, tag and like."""
    public = categories.create_category(admin, {"name": "Tactics dialogues"})
    child = categories.create_category(admin, {"name": "Training", "parent_category_id": public.id})
    hidden = categories.create_category(admin, {"name": "Circle only"}, {"circle": 1})
    outsider = make_user(Role.MEMBER, "outsider")
    open_topic = topics.create_topic(outsider, title="Training supplier managers", raw=OPENING, category=public, tag_names=("training",))
    reply = posts.create_reply(member, open_topic, raw=REPLY)
    post_actions.like(outsider, reply)
    secret = topics.create_topic(member, title="Planning inside the circle", raw=OPENING, category=hidden, tag_names=("secret-plan",))
    posts.create_reply(member, secret, raw=REPLY)
    post_actions.like(admin, _first_post(secret))
    return {"public": public, "child": child, "hidden": hidden, "outsider": outsider, "circle": circle}


def _first_post(topic: Topic) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == 1))


def _site(client, headers) -> dict:
    response = client.get("/site.json", headers=headers)
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/site.json")
    return response.json


# GET /site.json


def test_site_matches_the_spec_for_every_caller(client, auth_headers, world, member, moderator, admin):
    for user in (None, world["outsider"], member, moderator, admin):
        _site(client, auth_headers(user))
    assert client.get("/site", headers={"Accept": "application/json"}).status_code == 200


def test_site_shows_only_the_categories_the_caller_may_see(client, auth_headers, world, member, moderator):
    def names(user) -> set[str]:
        return {category["name"] for category in _site(client, auth_headers(user))["categories"]}

    assert names(None) == names(world["outsider"]) == {"Tactics dialogues", "Training"}
    assert names(member) == names(moderator) == {"Tactics dialogues", "Training", "Circle only"}


def test_site_categories_carry_counts_and_their_parent(client, auth_headers, world):
    by_name = {category["name"]: category for category in _site(client, auth_headers(None))["categories"]}
    public, child = by_name["Tactics dialogues"], by_name["Training"]
    assert (public["topic_count"], public["post_count"], public["has_children"]) == (1, 2, True)
    assert "parent_category_id" not in public
    assert child["parent_category_id"] == world["public"].id


def test_site_constants_are_discourses(client, auth_headers, world):
    site = _site(client, auth_headers(None))
    assert site["post_types"] == {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4}
    assert site["trust_levels"] == {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4}
    assert site["notification_types"]["mentioned"] == 1 and site["notification_types"]["watching_category_or_tag"] == 36
    assert site["default_archetype"] == "regular"
    [like] = site["post_action_types"]
    assert (like["id"], like["name_key"], like["is_flag"], like["is_used"]) == (2, "like", False, True)
    assert site["topic_flag_types"] == []


def test_site_tag_flags_and_top_tags_follow_the_caller(client, auth_headers, world, member):
    anonymous = _site(client, auth_headers(None))
    assert (anonymous["can_create_tag"], anonymous["can_tag_topics"], anonymous["can_tag_pms"]) == (False, False, False)
    assert [tag["name"] for tag in anonymous["top_tags"]] == ["training"]
    insider = _site(client, auth_headers(member))
    assert (insider["can_create_tag"], insider["can_tag_topics"]) == (True, True)
    assert sorted(tag["name"] for tag in insider["top_tags"]) == ["secret-plan", "training"]


def test_site_lists_groups(client, auth_headers, world):
    assert _site(client, auth_headers(None))["groups"] == [
        {"id": world["circle"].id, "name": "circle", "flair_url": None, "flair_bg_color": None, "flair_color": None, "automatic": False}
    ]


def test_site_with_nothing_in_it_matches_the_spec(client):
    site = _site(client, {})
    assert (site["categories"], site["groups"], site["top_tags"]) == ([], [], [])
    assert site["post_action_types"][0]["is_used"] is False


# GET /site/basic-info.json


def test_basic_info_comes_from_the_app_config(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_TITLE", "Tactics forum")
    monkeypatch.setitem(app.config, "SITE_DESCRIPTION", "Practitioners compare tactics.")
    response = client.get("/site/basic-info.json")
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/site/basic-info.json")
    assert (response.json["title"], response.json["description"]) == ("Tactics forum", "Practitioners compare tactics.")
    assert (response.json["login_required"], response.json["locale"]) == (False, "en")


def test_basic_info_without_a_description(client, app, monkeypatch):
    monkeypatch.delitem(app.config, "SITE_DESCRIPTION", raising=False)
    response = client.get("/site/basic-info")
    assert_matches_spec(response, "get", "/site/basic-info.json")
    assert response.json["description"] == ""


# GET /site/statistics.json and GET /about.json (not in the spec: Discourse's own shapes)

STAT_KEYS = {
    f"{prefix}_{period}"
    for prefix in ("topics", "posts", "users", "likes")
    for period in ("last_day", "7_days", "30_days", "count")
} | {f"{prefix}_{period}" for prefix in ("active_users", "participating_users") for period in ("last_day", "7_days", "30_days")}


def _statistics(client, headers) -> dict:
    response = client.get("/site/statistics.json", headers=headers)
    assert response.status_code == 200
    assert set(response.json) == STAT_KEYS
    return response.json


def test_statistics_count_only_what_the_caller_may_see(client, auth_headers, world, member, admin):
    outside = _statistics(client, auth_headers(world["outsider"]))
    assert (outside["topics_count"], outside["posts_count"], outside["likes_count"]) == (1, 2, 1)
    # The outsider and the member posted or liked where the outsider may look.
    assert outside["participating_users_7_days"] == 2
    inside = _statistics(client, auth_headers(member))
    assert (inside["topics_count"], inside["posts_count"], inside["likes_count"]) == (2, 4, 2)
    assert inside["participating_users_7_days"] == 3  # the admin liked inside the circle
    # People are not content: everyone sees the same number of accounts.
    assert outside["users_count"] == inside["users_count"] == 4 and outside["users_last_day"] == 4


def test_a_flag_does_not_count_its_flagger_as_participating(client, auth_headers, world, make_user):
    """Who flagged what is for staff: a flag is not a like, and would show anyone when someone flagged."""
    before = _statistics(client, auth_headers(None))["participating_users_last_day"]
    public_post = db.session.scalar(select(Post).where(Post.post_number == 1).order_by(Post.id))
    assert client.post("/post_actions.json", data={"id": public_post.id, "post_action_type_id": 4},
                       headers=auth_headers(make_user())).status_code == 200
    assert _statistics(client, auth_headers(None))["participating_users_last_day"] == before


def test_statistics_count_by_period_and_leave_out_deleted_and_small_action_posts(client, auth_headers, world, moderator):
    with write_unit(db.session):
        db.session.execute(
            update(Topic).where(Topic.title == "Training supplier managers").values(created_at=utcnow() - timedelta(days=10))
        )
    open_topic = db.session.scalar(select(Topic).where(Topic.title == "Training supplier managers"))
    topics.set_status(moderator, open_topic, "closed", True)
    stats = _statistics(client, auth_headers(None))
    assert (stats["topics_last_day"], stats["topics_7_days"], stats["topics_30_days"], stats["topics_count"]) == (0, 0, 1, 1)
    assert stats["posts_count"] == 2


def test_active_users_come_from_when_they_were_last_seen(client, auth_headers, world, member):
    with write_unit(db.session):
        db.session.execute(update(User).where(User.id == member.id).values(last_seen_at=utcnow() - timedelta(days=3)))
    stats = _statistics(client, {})
    assert (stats["active_users_last_day"], stats["active_users_7_days"], stats["active_users_30_days"]) == (0, 1, 1)


def test_about_follows_discourses_shape(client, auth_headers, world, admin, moderator, app, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_DESCRIPTION", "Practitioners compare tactics.")
    response = client.get("/about.json", headers=auth_headers(world["outsider"]))
    assert response.status_code == 200
    body = response.json
    about = body["about"]
    assert about["stats"] == _statistics(client, auth_headers(world["outsider"]))
    assert (about["title"], about["description"], about["locale"]) == (app.config["SITE_TITLE"], "Practitioners compare tactics.", "en")
    assert (about["admin_ids"], about["moderator_ids"]) == ([admin.id], [moderator.id])
    assert {user["username"] for user in body["users"]} == {"admin", "moderator"}
    assert set(body["users"][0]) == {"id", "username", "name", "avatar_template", "title", "last_seen_at"}
    assert about["site_creation_date"] is not None and about["can_see_about_stats"] is True
    assert body["categories"] == []
