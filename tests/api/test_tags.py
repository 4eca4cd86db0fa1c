"""Discourse's tags endpoints: tag names as Discourse cleans them, visible tag counts, and tag groups (staff)."""
import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditLogEntry, Role, Tag, TagGroup, Topic
from forum.services import categories, tags, topics
from forum.services.errors import ValidationFailed
from tests.api.spec import assert_matches_spec

OPENING = "## Opening\n\nWhat has worked for your organisation so far?"


def _tag_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Tag))


def _tag_group_count() -> int:
    return db.session.scalar(select(func.count()).select_from(TagGroup))


# Normalising tag names, as DiscourseTagging.clean_tag does.


@pytest.mark.parametrize(
    "given, expected",
    [
        ("Carrotmob", "carrotmob"),
        ("  Membership   Association ", "membership-association"),
        ("restorative\tcircle", "restorative-circle"),
        ("Business & Human Rights", "business-human-rights"),
        ("what?/#[]@!$&'()*+,;=.%`^|{}\"<>", "what"),
        ("a--b", "a-b"),
        ("Über Café", "über-café"),
        ("snake_case:ok~", "snake_case:ok~"),
        ("party 🎉 time", "party-time"),
        ("", ""),
        ("???", ""),
    ],
)
def test_tag_names_are_normalised_as_discourse_does(app, given, expected):
    assert tags.normalize_tag_name(given) == expected


def test_tag_names_are_cut_at_the_maximum_length(app, monkeypatch):
    assert tags.normalize_tag_name("x" * 40) == "x" * tags.DEFAULT_MAX_TAG_LENGTH
    monkeypatch.setitem(app.config, "MAX_TAG_LENGTH", 20)
    assert tags.normalize_tag_name("business-and-human-rights") == "business-and-human-r"


def test_a_list_of_names_is_normalised_once_each_and_refuses_empty_ones(app):
    assert tags.normalize_tag_names(["Training", "training ", "Carrot Mob"]) == ["training", "carrot-mob"]
    with pytest.raises(ValidationFailed) as refused:
        tags.normalize_tag_names(["fine", "!!!"])
    assert refused.value.messages == ["'!!!' is not a valid tag name."]


# GET /tags.json


@pytest.fixture
def circle_only(admin, circle):
    return categories.create_category(admin, {"name": "Circle only"}, {"circle": 1})


def _tags(client, headers) -> dict[str, dict]:
    response = client.get("/tags.json", headers=headers)
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/tags.json")
    assert response.json["extras"] == {"categories": []}
    return {item["name"]: item for item in response.json["tags"]}


def test_tags_show_the_topic_counts_the_caller_may_see(client, auth_headers, admin, member, moderator, make_user, circle_only):
    topics.create_topic(member, title="Training supplier managers", raw=OPENING, tag_names=("Training", "carrotmob"))
    topics.create_topic(member, title="Training inside the circle", raw=OPENING, category=circle_only, tag_names=("training", "secret-plan"))
    gone = topics.create_topic(member, title="A deleted training topic", raw=OPENING, tag_names=("training", "abandoned"))
    topics.delete_topic(admin, gone)

    anonymous = _tags(client, auth_headers(None))
    assert {name: item["count"] for name, item in anonymous.items()} == {"carrotmob": 1, "training": 1}
    outsider = _tags(client, auth_headers(make_user(Role.MEMBER, "outsider")))
    assert set(outsider) == {"carrotmob", "training"}
    insider = _tags(client, auth_headers(member))
    assert {name: item["count"] for name, item in insider.items()} == {"carrotmob": 1, "secret-plan": 1, "training": 2}
    staff = _tags(client, auth_headers(moderator))
    # Staff see every tag, also one whose only topic was deleted (it counts for nobody).
    assert {name: item["count"] for name, item in staff.items()} == {"abandoned": 0, "carrotmob": 1, "secret-plan": 1, "training": 2}
    training = staff["training"]
    assert (training["text"], training["pm_count"], training["target_tag"]) == ("training", 0, None)
    assert isinstance(training["id"], int)


def test_a_tag_page_is_a_404_to_whoever_may_not_know_the_tag(client, auth_headers, admin, member, moderator, make_user, circle_only):
    """As in /tags.json and search: a tag used only in a restricted category, or only on a deleted topic, is not
    confirmed to exist (the name alone may be what the circle keeps to itself)."""
    topics.create_topic(member, title="Training inside the circle", raw=OPENING, category=circle_only, tag_names=("secret-plan",))
    gone = topics.create_topic(member, title="A deleted topic", raw=OPENING, tag_names=("abandoned",))
    topics.delete_topic(admin, gone)
    outsider = make_user(Role.MEMBER, "outsider")
    for name in ("secret-plan", "abandoned", "no-such-tag"):
        for viewer in (None, outsider):
            response = client.get(f"/tag/{name}.json", headers=auth_headers(viewer))
            assert response.status_code == 404 and response.json["error_type"] == "not_found", (name, viewer)
    assert client.get("/tag/secret-plan.json", headers=auth_headers(member)).json["topic_list"]["tags"][0]["topic_count"] == 1
    assert client.get("/tag/abandoned.json", headers=auth_headers(moderator)).json["topic_list"]["tags"][0]["topic_count"] == 0


def test_tags_of_a_tag_group_are_listed_even_before_they_are_used(client, auth_headers, admin):
    tags.create_tag_group(admin, name="Tactics", tag_names=["restorative circle"])
    assert _tags(client, auth_headers(None)) == {
        "restorative-circle": {
            "id": db.session.scalar(select(Tag.id)),
            "text": "restorative-circle",
            "name": "restorative-circle",
            "count": 0,
            "pm_count": 0,
            "target_tag": None,
        }
    }


# Tag groups


def test_staff_list_tag_groups(client, auth_headers, admin, moderator):
    tags.create_tag_group(admin, name="Tactics", tag_names=["training", "carrotmob"], one_per_topic=True)
    tags.create_tag_group(admin, name="Approaches", tag_names=["dialogue"])
    response = client.get("/tag_groups.json", headers=auth_headers(moderator))
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/tag_groups.json")
    listed = response.json["tag_groups"]
    assert [group["name"] for group in listed] == ["Approaches", "Tactics"]
    tactics = listed[1]
    assert [tag["name"] for tag in tactics["tags"]] == ["carrotmob", "training"]
    assert tactics["tags"][0]["slug"] == "carrotmob"
    assert (tactics["one_per_topic"], tactics["parent_tag"], tactics["permissions"]) == (True, [], {"0": 1})


@pytest.mark.parametrize("role", [None, Role.MEMBER])
def test_tag_groups_are_for_staff_only(client, auth_headers, admin, make_user, role):
    group = tags.create_tag_group(admin, name="Tactics", tag_names=["training"])
    headers = auth_headers(make_user(role) if role else None)
    for method, path, body in [
        ("GET", "/tag_groups.json", None),
        ("GET", f"/tag_groups/{group.id}.json", None),
        ("POST", "/tag_groups.json", {"name": "Mine", "tag_names": ["mine"]}),
        ("PUT", f"/tag_groups/{group.id}.json", {"name": "Taken over"}),
    ]:
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
        # Anonymous reads need a login; anonymous writes fail the CSRF check before that.
        expected = "not_logged_in" if role is None and method == "GET" else "invalid_access"
        assert response.json["error_type"] == expected
    db.session.refresh(group)
    assert (group.name, _tag_group_count(), _tag_count()) == ("Tactics", 1, 1)


def test_staff_create_a_tag_group_with_a_json_body(client, auth_headers, moderator):
    response = client.post(
        "/tag_groups.json",
        json={"name": "Tactics", "tag_names": ["Membership Association", "training", "TRAINING"], "one_per_topic": True},
        headers=auth_headers(moderator),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "post", "/tag_groups.json")
    created = response.json["tag_group"]
    assert [tag["name"] for tag in created["tags"]] == ["membership-association", "training"]
    assert created["one_per_topic"] is True
    stored = db.session.get(TagGroup, created["id"])
    assert sorted(tag.name for tag in stored.tags) == ["membership-association", "training"]
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "tag_group.create"))
    assert (entry.actor_id, entry.after["tag_names"]) == (moderator.id, ["membership-association", "training"])


def test_staff_create_a_tag_group_with_a_form_body(client, auth_headers, admin):
    tags.create_tag_group(admin, name="Existing", tag_names=["training"])
    response = client.post(
        "/tag_groups", data={"name": "Tactics", "tag_names[]": ["training", "carrot mob"]},
        headers={**auth_headers(admin), "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [tag["name"] for tag in response.json["tag_group"]["tags"]] == ["carrot-mob", "training"]
    assert response.json["tag_group"]["one_per_topic"] is False
    assert _tag_count() == 2  # "training" was reused, not made twice


@pytest.mark.parametrize(
    "body, message",
    [
        ({"tag_names": ["training"]}, "Name can't be blank."),
        ({"name": "tactics", "tag_names": ["training"]}, "Name 'tactics' is kept for the tactics bot's group, 'Tactics'."),
        ({"name": "TACTICS", "tag_names": ["training"]}, "Name 'TACTICS' is kept for the tactics bot's group, 'Tactics'."),
        ({"name": "Tactics", "tag_names": ["training"]}, "Name 'Tactics' has already been taken."),
        ({"name": "x" * 101}, "Name is too long (maximum is 100 characters)."),
        ({"name": "Approaches", "tag_names": ["dialogue", "%%%"]}, "'%%%' is not a valid tag name."),
    ],
)
def test_invalid_tag_groups_are_refused_and_nothing_is_stored(client, auth_headers, admin, body, message):
    tags.create_tag_group(admin, name="Tactics", tag_names=["carrotmob"])
    response = client.post("/tag_groups.json", json=body, headers=auth_headers(admin))
    assert response.status_code == 422
    assert response.json == {"errors": [message], "error_type": "invalid_record"}
    assert (_tag_group_count(), _tag_count()) == (1, 1)


def test_show_a_tag_group(client, auth_headers, admin):
    group = tags.create_tag_group(admin, name="Tactics", tag_names=["training", "carrotmob"])
    response = client.get(f"/tag_groups/{group.id}.json", headers=auth_headers(admin))
    assert response.status_code == 200
    assert_matches_spec(response, "get", "/tag_groups/{id}.json")
    assert response.json["tag_group"] == {
        "id": group.id,
        "name": "Tactics",
        "tag_names": ["carrotmob", "training"],
        "parent_tag_name": [],
        "one_per_topic": False,
        "permissions": {"everyone": 1},
    }
    for tag_group_id in (999999, 99999999999999999999):
        assert client.get(f"/tag_groups/{tag_group_id}.json", headers=auth_headers(admin)).status_code == 404


def test_update_renames_and_replaces_the_tags_creating_new_ones(client, auth_headers, admin):
    group = tags.create_tag_group(admin, name="Approaches", tag_names=["training", "carrotmob"])
    response = client.put(
        f"/tag_groups/{group.id}.json", json={"name": "Approaches we use", "tag_names": ["training", "Restorative Circle"]},
        headers=auth_headers(admin),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "put", "/tag_groups/{id}.json")
    assert response.json["success"] == "OK"
    assert (response.json["tag_group"]["name"], response.json["tag_group"]["tag_names"]) == (
        "Approaches we use",
        ["restorative-circle", "training"],
    )
    # The tag taken out of the group stays a tag.
    assert sorted(db.session.scalars(select(Tag.name))) == ["carrotmob", "restorative-circle", "training"]
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "tag_group.update"))
    assert (entry.before["tag_names"], entry.after["tag_names"]) == (["carrotmob", "training"], ["restorative-circle", "training"])


def test_update_with_a_form_body_changes_only_what_it_gives(client, auth_headers, admin):
    group = tags.create_tag_group(admin, name="Tactics", tag_names=["training"])
    response = client.put(f"/tag_groups/{group.id}", data={"one_per_topic": "true"}, headers={**auth_headers(admin), "Accept": "application/json"})
    assert response.status_code == 200
    body = response.json["tag_group"]
    assert (body["name"], body["tag_names"], body["one_per_topic"]) == ("Tactics", ["training"], True)


def test_invalid_updates_change_nothing(client, auth_headers, admin):
    tags.create_tag_group(admin, name="Approaches", tag_names=["dialogue"])
    group = tags.create_tag_group(admin, name="Dialogue forms", tag_names=["training"])
    for body, message in [
        ({"name": "APPROACHES"}, "Name 'APPROACHES' has already been taken."),
        ({"name": ""}, "Name can't be blank."),
        ({"tag_names": ["new-one", "..."]}, "'...' is not a valid tag name."),
    ]:
        response = client.put(f"/tag_groups/{group.id}.json", json=body, headers=auth_headers(admin))
        assert response.status_code == 422
        assert response.json["errors"] == [message]
    db.session.refresh(group)
    assert (group.name, [tag.name for tag in group.tags], _tag_count()) == ("Dialogue forms", ["training"], 2)


def test_topics_tags_and_tag_groups_share_one_tag(client, auth_headers, admin, member):
    topics.create_topic(member, title="Carrotmob planning notes", raw=OPENING, tag_names=("carrotmob",))
    group = tags.create_tag_group(admin, name="Tactics", tag_names=["CarrotMob"])
    assert [tag.name for tag in group.tags] == ["carrotmob"] and _tag_count() == 1


def test_where_only_staff_create_tags_members_choose_existing_ones(app, client, auth_headers, member, moderator, monkeypatch):
    """FORUM_MEMBERS_CREATE_TAGS off, as Discourse's default min_trust_to_create_tag: a member's topic with a tag nobody
    created is refused with the tag named, and nothing is stored; staff create it, and then members use it."""
    monkeypatch.setitem(app.config, "MEMBERS_CREATE_TAGS", False)
    opening = {"title": "Which retailers joined the buycott?", "raw": "## Retailers\n\nWhich ones joined, and why?"}
    refused = client.post("/posts.json", json={**opening, "tags": ["Buycott"]}, headers=auth_headers(member))
    assert refused.json == {"errors": ["The tag 'buycott' does not exist, and only staff create tags here: choose an existing one."],
                            "error_type": "invalid_record"}
    assert (_tag_count(), db.session.scalar(select(func.count()).select_from(Topic))) == (0, 0)
    assert client.get("/site.json", headers=auth_headers(member)).json["can_create_tag"] is False

    assert client.get("/site.json", headers=auth_headers(moderator)).json["can_create_tag"] is True
    staff_topic = {"title": "Buycotts we have seen work", "raw": "## Buycotts\n\nA list of the ones that worked."}
    assert client.post("/posts.json", json={**staff_topic, "tags": ["buycott"]}, headers=auth_headers(moderator)).status_code == 200
    accepted = client.post("/posts.json", json={**opening, "tags": ["Buycott"]}, headers=auth_headers(member))
    assert accepted.status_code == 200, accepted.json
    assert db.session.get(Topic, accepted.json["topic_id"]).tags[0].name == "buycott"


def test_where_only_staff_create_tags_a_tag_members_cannot_see_is_not_confirmed(app, client, auth_headers, make_user, moderator, circle_only, monkeypatch):
    """A tag used only in a category the member cannot read answers as one that does not exist."""
    monkeypatch.setitem(app.config, "MEMBERS_CREATE_TAGS", False)
    topics.create_topic(moderator, title="Planning the secret boycott", raw=OPENING, category=circle_only, tag_names=("secret-plan",))
    opening = {"title": "Guessing at the staff's tags", "raw": "## Guess\n\nIs there a tag named like this one?"}
    outsider = make_user()  # not in the circle
    refused = client.post("/posts.json", json={**opening, "tags": ["secret-plan"]}, headers=auth_headers(outsider))
    assert refused.json["errors"] == ["The tag 'secret-plan' does not exist, and only staff create tags here: choose an existing one."]


def test_a_topic_takes_at_most_five_tags_and_one_of_each_one_per_topic_group(client, auth_headers, admin, member):
    """Discourse's max_tags_per_topic (5) and one_per_topic groups: refused with what to change, and nothing stored,
    not even the new tags."""
    tags.create_tag_group(admin, name="Approaches", tag_names=["dialogue", "advocacy", "partnership"], one_per_topic=True)
    before = (_tag_count(), db.session.scalar(select(func.count()).select_from(Topic)))
    opening = {"title": "Which approach works with retailers?", "raw": "## Retailers\n\nWhich approach worked for you?"}
    for tag_names, errors in (
        ([f"tag{n}" for n in range(6)], ["A topic can have at most 5 tags."]),
        (["dialogue", "Partnership", "retail"],
         ["The tags dialogue, partnership cannot be used together: the group 'Approaches' allows one per topic."]),
    ):
        response = client.post("/posts.json", json={**opening, "tags": tag_names}, headers=auth_headers(member))
        assert response.status_code == 422 and response.json == {"errors": errors, "error_type": "invalid_record"}, tag_names
        db.session.rollback()
        assert (_tag_count(), db.session.scalar(select(func.count()).select_from(Topic))) == before
    response = client.post("/posts.json", json={**opening, "tags": ["dialogue", "retail", "tag1", "tag2", "TAG2", "tag3"]},
                           headers=auth_headers(member))
    assert response.status_code == 200  # five once the same tag written twice counts once
