"""Discourse's categories endpoints: the list, one category, and admins creating and changing them."""
import pytest
from sqlalchemy import func, select

from forum.database import write_unit
from forum.extensions import db
from forum.models import AuditLogEntry, Category, Post, Role, category_groups
from forum.services import categories, posts, topics
from tests.api.conftest import recorded_statements
from tests.api.spec import assert_matches_spec

OPENING = "## Opening\n\nWhat has worked for your organisation so far?"
REPLY = "## A reply\n\nWe trained supplier managers over two years."


@pytest.fixture
def public(admin):
    return categories.create_category(admin, {"name": "Tactics dialogues", "color": "0E76BD"})


@pytest.fixture
def restricted(admin, circle):
    return categories.create_category(admin, {"name": "Circle only", "color": "F7941D"}, {"circle": 1})


def _topic(author, category, title="How do organisations train staff?", replies=0):
    topic = topics.create_topic(author, title=title, raw=OPENING, category=category)
    for _ in range(replies):
        posts.create_reply(author, topic, raw=REPLY)
    return topic


def _category_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Category))


def _listed(client, headers, query="") -> dict:
    response = client.get(f"/categories.json{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "get", "/categories.json")
    return {item["name"]: item for item in response.json["category_list"]["categories"]}


# GET /categories.json


def test_restricted_category_is_listed_only_to_its_groups_and_staff(
    client, auth_headers, make_user, member, moderator, admin, public, restricted
):
    outsider = make_user(Role.MEMBER, "outsider")
    assert set(_listed(client, auth_headers(None))) == {"Tactics dialogues"}
    assert set(_listed(client, auth_headers(outsider))) == {"Tactics dialogues"}
    assert set(_listed(client, auth_headers(member))) == {"Tactics dialogues", "Circle only"}
    assert set(_listed(client, auth_headers(moderator))) == {"Tactics dialogues", "Circle only"}
    assert set(_listed(client, auth_headers(admin))) == {"Tactics dialogues", "Circle only"}
    assert client.get("/categories", headers={**auth_headers(member), "Accept": "application/json"}).status_code == 200


def test_list_flags_follow_the_caller(client, auth_headers, member, admin, public):
    anonymous = client.get("/categories.json").json["category_list"]
    assert (anonymous["can_create_category"], anonymous["can_create_topic"]) == (False, False)
    as_member = client.get("/categories.json", headers=auth_headers(member)).json["category_list"]
    assert (as_member["can_create_category"], as_member["can_create_topic"]) == (False, True)
    as_admin = client.get("/categories.json", headers=auth_headers(admin)).json["category_list"]
    assert (as_admin["can_create_category"], as_admin["can_create_topic"]) == (True, True)
    assert as_admin["categories"][0]["can_edit"] is True
    assert as_member["categories"][0]["can_edit"] is False
    assert anonymous["categories"][0]["permission"] == 3 and as_member["categories"][0]["permission"] == 1


def test_counts_include_only_what_the_caller_may_see(client, auth_headers, member, moderator, admin, public):
    _topic(member, public, replies=2)
    hidden = _topic(member, public, title="An unlisted topic about carrotmobs", replies=1)
    topics.set_status(moderator, hidden, "visible", False)
    gone = _topic(member, public, title="A topic that will be deleted soon")
    topics.delete_topic(admin, gone)
    with_deleted_reply = _topic(member, public, title="A topic with a deleted reply", replies=1)
    topics.set_status(moderator, with_deleted_reply, "closed", True)  # a small action: not a post people wrote
    second = db.session.scalar(select(Post).where(Post.topic_id == with_deleted_reply.id, Post.post_number == 2))
    posts.delete_post(admin, second)

    seen_by_member = _listed(client, auth_headers(member))["Tactics dialogues"]
    # Visible to members: the 3-post topic and the topic whose reply was deleted (1 post).
    assert (seen_by_member["topic_count"], seen_by_member["post_count"]) == (2, 4)
    assert seen_by_member["topics_all_time"] == 2 and seen_by_member["topics_day"] == 2
    assert seen_by_member["topics_week"] == seen_by_member["topics_month"] == seen_by_member["topics_year"] == 2
    seen_by_staff = _listed(client, auth_headers(moderator))["Tactics dialogues"]
    # Staff also see the unlisted topic (2 posts); deleted topics and posts count for nobody.
    assert (seen_by_staff["topic_count"], seen_by_staff["post_count"]) == (3, 6)


def test_counts_in_a_restricted_category_show_only_to_those_who_see_it(client, auth_headers, member, admin, restricted, public):
    _topic(member, restricted, replies=1)
    assert _listed(client, auth_headers(member))["Circle only"]["topic_count"] == 1
    assert _listed(client, auth_headers(member))["Circle only"]["post_count"] == 2
    assert "Circle only" not in _listed(client, auth_headers(None))


def test_list_takes_a_fixed_number_of_queries(client, auth_headers, admin, member):
    def queries_for_list() -> int:
        headers = auth_headers(member)
        client.get("/categories.json", headers=headers)  # warm up: authentication caches nothing per call
        with recorded_statements() as statements:
            assert client.get("/categories.json", headers=headers).status_code == 200
        return len(statements)

    first = categories.create_category(admin, {"name": "First", "color": "111"})
    _topic(member, first, replies=1)
    few = queries_for_list()
    for number in range(6):
        category = categories.create_category(admin, {"name": f"More {number}", "color": "222"})
        _topic(member, category, replies=2)
    assert queries_for_list() == few


def test_subcategories_appear_under_their_parent(client, auth_headers, admin, member, public):
    child = categories.create_category(admin, {"name": "Training", "color": "333", "parent_category_id": public.id})
    _topic(member, child)
    listed = _listed(client, auth_headers(member))
    assert set(listed) == {"Tactics dialogues"}
    parent = listed["Tactics dialogues"]
    assert parent["subcategory_ids"] == [child.id]
    assert (parent["has_children"], parent["subcategory_count"]) == (True, 1)
    assert "subcategory_list" not in parent

    nested = _listed(client, auth_headers(member), "?include_subcategories=true")["Tactics dialogues"]
    [sub] = nested["subcategory_list"]
    assert (sub["id"], sub["parent_category_id"], sub["topic_count"]) == (child.id, public.id, 1)


def test_a_public_child_of_a_restricted_parent_stands_alone_for_outsiders(client, auth_headers, admin, member, restricted, make_user):
    """Such a pair can no longer be made (see the permission conflict tests), but may be stored from before."""
    with write_unit(db.session):
        child = Category(name="Open corner", slug="open-corner", color="444", parent_category_id=restricted.id)
        db.session.add(child)
    outsider = make_user(Role.MEMBER, "outsider")
    assert set(_listed(client, auth_headers(outsider))) == {"Open corner"}
    as_member = _listed(client, auth_headers(member))
    assert set(as_member) == {"Circle only"} and as_member["Circle only"]["subcategory_ids"] == [child.id]


def test_a_restricted_child_is_not_counted_among_an_outsiders_subcategories(client, auth_headers, admin, public, circle):
    categories.create_category(admin, {"name": "Hidden child", "color": "555", "parent_category_id": public.id}, {"circle": 1})
    parent = _listed(client, auth_headers(None))["Tactics dialogues"]
    assert (parent["subcategory_ids"], parent["has_children"], parent["subcategory_count"]) == ([], False, 0)


def test_a_subcategory_may_not_be_more_open_than_its_parent(client, auth_headers, admin, restricted, circle, make_user):
    """Discourse's permission_conflict: whoever may read a subcategory may read its parent, whose id it shows."""
    other = categories.create_category(admin, {"name": "Another circle", "color": "555"}, {"circle": 1})
    categories.update_category(admin, other.id, {"name": "Another circle"}, {"staff": 1})  # staff only now
    before = _category_count()
    for parent, permissions, wider in (
        (restricted, None, "everyone"),
        (restricted, {"everyone": 1}, "everyone"),
        (other, {"circle": 1}, "circle"),
    ):
        body = {"name": "Open corner", "color": "444", "parent_category_id": parent.id, **({"permissions": permissions} if permissions else {})}
        response = client.post("/categories.json", json=body, headers=auth_headers(admin))
        assert response.status_code == 422 and response.json["error_type"] == "invalid_record", response.json
        assert response.json["errors"][0].endswith(f"no access to parent category: {wider}")
    assert _category_count() == before
    inside = client.post("/categories.json", json={"name": "Circle corner", "parent_category_id": restricted.id, "permissions": {"circle": 1}},
                         headers=auth_headers(admin))
    assert inside.status_code == 200, inside.json


def test_a_parent_may_not_be_closed_to_readers_of_its_subcategories(client, auth_headers, admin, public):
    child = categories.create_category(admin, {"name": "Open corner", "color": "444", "parent_category_id": public.id})
    response = client.put(f"/categories/{public.id}.json", json={"name": public.name, "permissions": {"staff": 1}}, headers=auth_headers(admin))
    assert response.status_code == 422 and response.json["errors"][0].endswith("no access to parent category: everyone")
    assert db.session.get(Category, public.id).read_restricted is False
    categories.update_category(admin, child.id, {"name": child.name}, {"staff": 1})
    response = client.put(f"/categories/{public.id}.json", json={"name": public.name, "permissions": {"staff": 1}}, headers=auth_headers(admin))
    assert response.status_code == 200, response.json


# GET /c/{id}/show.json


def test_show_matches_the_spec_for_every_caller(client, auth_headers, member, admin, public):
    _topic(member, public, replies=1)
    for user in (None, member, admin):
        response = client.get(f"/c/{public.id}/show.json", headers=auth_headers(user))
        assert response.status_code == 200
        assert_matches_spec(response, "get", "/c/{id}/show.json")
        assert (response.json["category"]["topic_count"], response.json["category"]["post_count"]) == (1, 2)
    assert client.get(f"/c/{public.id}/show").json["category"]["slug"] == "tactics-dialogues"


def test_show_of_a_restricted_category_is_not_found_outside_its_groups(client, auth_headers, make_user, member, moderator, restricted):
    outsider = make_user(Role.MEMBER, "outsider")
    for user in (None, outsider):
        response = client.get(f"/c/{restricted.id}/show.json", headers=auth_headers(user))
        assert response.status_code == 404
        assert response.json["error_type"] == "not_found"
    for user in (member, moderator):
        assert client.get(f"/c/{restricted.id}/show.json", headers=auth_headers(user)).status_code == 200
    assert client.get("/c/999999/show.json").status_code == 404
    assert client.get("/c/99999999999999999999/show.json").status_code == 404  # beyond the id column: still 404


def test_group_permissions_are_shown_to_admins_only(client, auth_headers, admin, member, restricted, circle, public):
    as_admin = client.get(f"/c/{restricted.id}/show.json", headers=auth_headers(admin)).json["category"]
    assert as_admin["group_permissions"] == [{"permission_type": 1, "group_name": "circle", "group_id": circle.id}]
    assert as_admin["available_groups"] == []
    public_as_admin = client.get(f"/c/{public.id}/show.json", headers=auth_headers(admin)).json["category"]
    assert public_as_admin["group_permissions"] == [{"permission_type": 1, "group_name": "everyone", "group_id": 0}]
    assert public_as_admin["available_groups"] == ["circle"]
    as_member = client.get(f"/c/{restricted.id}/show.json", headers=auth_headers(member)).json["category"]
    assert (as_member["group_permissions"], as_member["available_groups"]) == ([], [])


# POST /categories.json


def test_admin_creates_a_category_with_a_json_body(client, auth_headers, admin):
    response = client.post(
        "/categories.json",
        json={
            "name": "Practitioners lounge",
            "color": "49d9e9",
            "text_color": "F0FCFD",
            "description": "Peer support **between** practitioners.",
            "auto_close_hours": 48,
            "auto_close_based_on_last_post": True,
        },
        headers=auth_headers(admin),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "post", "/categories.json")
    body = response.json["category"]
    assert (body["name"], body["slug"], body["color"], body["text_color"]) == ("Practitioners lounge", "practitioners-lounge", "49D9E9", "F0FCFD")
    assert body["description"] == "Peer support <strong>between</strong> practitioners."
    assert body["description_text"] == "Peer support between practitioners."
    assert (body["auto_close_hours"], body["auto_close_based_on_last_post"]) == ("48", True)
    assert body["read_restricted"] is False
    stored = db.session.get(Category, body["id"])
    assert (stored.name, stored.auto_close_hours, stored.auto_close_based_on_last_post) == ("Practitioners lounge", 48, True)
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "category.create"))
    assert (entry.actor_id, entry.subject_id, entry.after["name"]) == (admin.id, stored.id, "Practitioners lounge")


def test_admin_creates_a_category_with_a_form_body_as_pydiscourse_sends_it(client, auth_headers, admin):
    response = client.post(
        "/categories",
        data={"name": "Resources", "color": "F7941D", "text_color": "000000", "permissions[everyone]": "1", "slug": "Shared Resources"},
        headers={**auth_headers(admin), "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "post", "/categories.json")
    assert (response.json["category"]["slug"], response.json["category"]["read_restricted"]) == ("shared-resources", False)


@pytest.mark.parametrize("role", [None, Role.MEMBER, Role.MODERATOR])
def test_only_admins_create_categories(client, auth_headers, make_user, role):
    user = make_user(role) if role else None
    response = client.post("/categories.json", json={"name": "Not allowed", "color": "123"}, headers=auth_headers(user))
    assert response.status_code == 403
    assert response.json["error_type"] == "invalid_access"
    assert _category_count() == 0


@pytest.mark.parametrize(
    "body, message",
    [
        ({"color": "123"}, "Name can't be blank."),
        ({"name": "   ", "color": "123"}, "Name can't be blank."),
        ({"name": "x" * 51}, "Name is too long (maximum is 50 characters)."),
        ({"name": "TACTICS DIALOGUES"}, "Category name 'TACTICS DIALOGUES' has already been taken."),
        ({"name": "Another", "slug": "Tactics-Dialogues"}, "Slug 'tactics-dialogues' has already been taken."),
        ({"name": "Tactics: dialogues!"}, "Slug 'tactics-dialogues' has already been taken."),
        ({"name": "Another", "slug": "!!!"}, "Slug '!!!' is invalid: it needs a letter, and may have digits and dashes."),
        ({"name": "Another", "slug": "2024"}, "Slug '2024' is invalid: it needs a letter, and may have digits and dashes."),
        ({"name": "Another", "color": "12345"}, "Color must be 3 or 6 hexadecimal digits, like 0088CC (got '12345')."),
        ({"name": "Another", "color": "#123456"}, "Color must be 3 or 6 hexadecimal digits, like 0088CC (got '#123456')."),
        ({"name": "Another", "text_color": "GGG"}, "Text color must be 3 or 6 hexadecimal digits, like 0088CC (got 'GGG')."),
        ({"name": "Another", "parent_category_id": 999999}, "Parent category 999999 does not exist."),
        ({"name": "Another", "auto_close_hours": -5}, "Auto-close hours must be between 0 and 87600."),
        ({"name": "Another", "auto_close_hours": 100000}, "Auto-close hours must be between 0 and 87600."),
        ({"name": "Another", "permissions": {"nobody": 1}}, "There is no group named 'nobody'."),
        (
            {"name": "Another", "permissions": {"everyone": 3}},
            "Permission 3 (readonly) for 'everyone' is not supported: this forum only grants groups full access (1).",
        ),
        ({"name": "Another", "permissions": {"everyone": 7}}, "Permission for 'everyone' must be one of 1, 2, 3."),
    ],
)
def test_invalid_categories_are_refused_and_nothing_is_stored(client, auth_headers, admin, public, body, message):
    before = _category_count()
    response = client.post("/categories.json", json=body, headers=auth_headers(admin))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json == {"errors": [message], "error_type": "invalid_record"}
    assert _category_count() == before
    assert db.session.scalar(select(func.count()).select_from(AuditLogEntry).where(AuditLogEntry.action == "category.create")) == 1


def test_every_problem_is_reported_at_once(client, auth_headers, admin):
    response = client.post("/categories.json", data={"name": "", "color": "zz", "text_color": "1"}, headers=auth_headers(admin))
    assert response.status_code == 422
    assert len(response.json["errors"]) == 3
    assert _category_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Bad hours", "auto_close_hours": "soon"},
        {"name": "Bad hours", "auto_close_hours": "nan"},
        {"name": "Bad parent", "parent_category_id": "first"},
        {"name": "Bad flag", "auto_close_based_on_last_post": "perhaps"},
        {"name": "Bad permission", "permissions[everyone]": "full"},
    ],
)
def test_malformed_values_are_invalid_parameters(client, auth_headers, admin, body):
    response = client.post("/categories.json", data=body, headers=auth_headers(admin))
    assert response.status_code == 400
    assert response.json["error_type"] == "invalid_parameters"
    assert _category_count() == 0


def test_permissions_as_a_json_value_must_be_an_object(client, auth_headers, admin):
    response = client.post("/categories.json", json={"name": "Odd", "permissions": ["everyone"]}, headers=auth_headers(admin))
    assert response.status_code == 400
    assert _category_count() == 0


def test_zero_auto_close_hours_means_none(client, auth_headers, admin):
    response = client.post("/categories.json", json={"name": "No timers", "auto_close_hours": 0}, headers=auth_headers(admin))
    assert response.json["category"]["auto_close_hours"] is None


def test_a_name_without_ascii_letters_gets_a_slug_from_its_id(client, auth_headers, admin):
    response = client.post("/categories.json", json={"name": "日本語"}, headers=auth_headers(admin))
    assert response.status_code == 200
    body = response.json["category"]
    assert body["slug"] == f"{body['id']}-category"


def test_no_category_takes_the_slug_of_another_ones_id(client, auth_headers, admin):
    """A slug such as "12-category", given or made from a name, would block category 12 if its name had no ASCII
    letters: its creation failed with 'try again', and every retry the same way."""
    for body in ({"name": "Squatter", "slug": "99-category"}, {"name": "99 Category"}):
        response = client.post("/categories.json", json=body, headers=auth_headers(admin))
        assert response.status_code == 422, body
        assert response.json["errors"] == ["Slug '99-category' is kept for the category whose id it names."]
    first = client.post("/categories.json", json={"name": "Ελληνικά"}, headers=auth_headers(admin)).json["category"]
    second = client.post("/categories.json", json={"name": "Русский"}, headers=auth_headers(admin)).json["category"]
    assert (first["slug"], second["slug"]) == (f"{first['id']}-category", f"{second['id']}-category")
    renamed = client.put(f"/categories/{first['id']}.json", json={"name": "Ελληνικά 2"}, headers=auth_headers(admin))
    assert renamed.status_code == 200 and renamed.json["category"]["slug"] == first["slug"]


def test_the_description_is_sanitised(client, auth_headers, admin):
    response = client.post(
        "/categories.json", json={"name": "Careful", "description": "Hello <script>alert(1)</script> *there*\n\nSecond"},
        headers=auth_headers(admin),
    )
    description = response.json["category"]["description"]
    assert "<script" not in description and "<em>there</em>" in description
    assert description.startswith("<p>")  # two paragraphs keep their markup
    assert response.json["category"]["description_excerpt"] == "Hello alert(1) there Second"


# Discourse's permissions[group_name]=1 encoding


def test_permissions_in_a_form_restrict_the_category_to_those_groups(client, auth_headers, admin, member, circle, make_user):
    response = client.post(
        "/categories.json", data={"name": "Circle room", "color": "123", "permissions[circle]": "1"}, headers=auth_headers(admin)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    created = response.json["category"]
    assert created["read_restricted"] is True
    assert created["group_permissions"] == [{"permission_type": 1, "group_name": "circle", "group_id": circle.id}]
    outsider = make_user(Role.MEMBER, "outsider")
    assert client.get(f"/c/{created['id']}/show.json", headers=auth_headers(outsider)).status_code == 404
    assert client.get(f"/c/{created['id']}/show.json", headers=auth_headers(member)).status_code == 200


def test_permissions_as_a_json_object_with_group_names_in_any_case(client, auth_headers, admin, circle):
    response = client.post("/categories.json", json={"name": "Circle room", "permissions": {"CIRCLE": 1}}, headers=auth_headers(admin))
    assert response.status_code == 200
    category_id = response.json["category"]["id"]
    assert db.session.scalars(select(category_groups.c.group_id).where(category_groups.c.category_id == category_id)).all() == [circle.id]


def test_everyone_among_the_permissions_makes_the_category_public(client, auth_headers, admin, circle):
    response = client.post(
        "/categories.json", data={"name": "Open", "permissions[everyone]": "1", "permissions[circle]": "1"}, headers=auth_headers(admin)
    )
    assert response.json["category"]["read_restricted"] is False


def test_staff_only_permissions_hide_the_category_from_members(client, auth_headers, admin, member, moderator):
    response = client.post("/categories.json", data={"name": "Staff room", "permissions[staff]": "1"}, headers=auth_headers(admin))
    created = response.json["category"]
    assert created["read_restricted"] is True and created["group_permissions"] == []
    assert client.get(f"/c/{created['id']}/show.json", headers=auth_headers(member)).status_code == 404
    assert client.get(f"/c/{created['id']}/show.json", headers=auth_headers(moderator)).status_code == 200


def test_an_empty_permissions_object_leaves_the_category_to_staff(client, auth_headers, admin, member):
    response = client.post("/categories.json", json={"name": "Staff room", "permissions": {}}, headers=auth_headers(admin))
    assert response.json["category"]["read_restricted"] is True
    assert client.get(f"/c/{response.json['category']['id']}/show.json", headers=auth_headers(member)).status_code == 404


# PUT /categories/{id}.json


def test_admin_updates_a_category(client, auth_headers, admin, public):
    response = client.put(
        f"/categories/{public.id}.json", json={"name": "Tactic dialogues", "color": "0E76BD", "description": "Engaging companies"},
        headers=auth_headers(admin),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "put", "/categories/{id}.json")
    assert response.json["success"] == "OK"
    body = response.json["category"]
    assert (body["name"], body["slug"], body["description"]) == ("Tactic dialogues", "tactics-dialogues", "Engaging companies")
    entry = db.session.scalar(select(AuditLogEntry).where(AuditLogEntry.action == "category.update"))
    assert (entry.before["name"], entry.after["name"]) == ("Tactics dialogues", "Tactic dialogues")


def test_update_with_a_form_body_changes_only_what_it_gives(client, auth_headers, admin, public):
    response = client.put(
        f"/categories/{public.id}", data={"slug": "dialogues", "auto_close_hours": "1.5"},
        headers={**auth_headers(admin), "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json["category"]
    assert (body["name"], body["slug"], body["color"], body["auto_close_hours"]) == ("Tactics dialogues", "dialogues", "0E76BD", "1.5")


def test_update_can_clear_the_parent_and_description(client, auth_headers, admin, public):
    child = categories.create_category(admin, {"name": "Child", "parent_category_id": public.id, "description": "About it"})
    response = client.put(f"/categories/{child.id}.json", data={"parent_category_id": "", "description": ""}, headers=auth_headers(admin))
    assert response.status_code == 200
    db.session.refresh(child)
    assert (child.parent_category_id, child.description) == (None, None)


def test_update_replaces_permissions_only_when_given(client, auth_headers, admin, member, public, circle):
    client.put(f"/categories/{public.id}.json", json={"name": "Tactics dialogues"}, headers=auth_headers(admin))
    db.session.refresh(public)
    assert public.read_restricted is False
    response = client.put(f"/categories/{public.id}.json", json={"permissions": {"circle": 1}}, headers=auth_headers(admin))
    assert response.json["category"]["read_restricted"] is True
    response = client.put(f"/categories/{public.id}.json", data={"permissions[everyone]": "1"}, headers=auth_headers(admin))
    assert response.json["category"]["read_restricted"] is False
    assert db.session.scalar(select(func.count()).select_from(category_groups)) == 0


@pytest.mark.parametrize("role", [None, Role.MEMBER, Role.MODERATOR])
def test_only_admins_update_categories(client, auth_headers, make_user, public, role):
    user = make_user(role) if role else None
    response = client.put(f"/categories/{public.id}.json", json={"name": "Taken over"}, headers=auth_headers(user))
    assert response.status_code == 403
    db.session.refresh(public)
    assert public.name == "Tactics dialogues"


def test_updating_an_unknown_category_is_not_found(client, auth_headers, admin):
    for category_id in (999999, 99999999999999999999):
        assert client.put(f"/categories/{category_id}.json", json={"name": "Ghost"}, headers=auth_headers(admin)).status_code == 404


def test_categories_nest_two_levels_as_in_discourse(client, auth_headers, admin, public):
    """Lists and search gather a category's topics with its subcategories', one level down: a third level's topics
    were missing from its grandparent's list, search and counts. Nor can a category be its own parent."""
    child = categories.create_category(admin, {"name": "Child", "parent_category_id": public.id})
    other = categories.create_category(admin, {"name": "Other"})
    refused = client.post("/categories.json", json={"name": "Grandchild", "color": "0088CC", "text_color": "FFFFFF",
                                                    "parent_category_id": child.id}, headers=auth_headers(admin))
    assert refused.status_code == 422 and refused.json["errors"] == ["A subcategory cannot have subcategories of its own."]
    for category, parent, error in ((other, child, "A subcategory cannot have subcategories of its own."),
                                    (public, other, "A category with subcategories cannot become a subcategory."),
                                    (public, public, "A category cannot be its own parent."),
                                    (public, child, "A subcategory cannot have subcategories of its own.")):
        response = client.put(f"/categories/{category.id}.json", json={"parent_category_id": parent.id}, headers=auth_headers(admin))
        assert (response.status_code, response.json["errors"]) == (422, [error])
    db.session.refresh(public)
    db.session.refresh(other)
    assert (public.parent_category_id, other.parent_category_id) == (None, None)
    assert client.put(f"/categories/{other.id}.json", json={"parent_category_id": public.id}, headers=auth_headers(admin)).status_code == 200


def test_update_validation_leaves_the_category_unchanged(client, auth_headers, admin, public):
    categories.create_category(admin, {"name": "Other"})
    response = client.put(f"/categories/{public.id}.json", json={"name": "other", "color": "nothex"}, headers=auth_headers(admin))
    assert response.status_code == 422
    assert len(response.json["errors"]) == 2
    db.session.refresh(public)
    assert (public.name, public.color) == ("Tactics dialogues", "0E76BD")
    assert db.session.scalar(select(func.count()).select_from(AuditLogEntry).where(AuditLogEntry.action == "category.update")) == 0


def test_a_duplicate_that_slips_past_validation_is_refused_by_the_database(client, auth_headers, admin, public, monkeypatch):
    # What a second admin saving the same name at the same moment meets: the check saw no duplicate yet.
    monkeypatch.setattr(categories, "_taken", lambda condition, current: False)
    response = client.post("/categories.json", json={"name": "Tactics dialogues"}, headers=auth_headers(admin))
    assert response.status_code == 422
    assert response.json["errors"] == ["That name or slug was just taken by another change; please try again."]
    assert _category_count() == 1


def test_show_loads_the_groups_only_for_those_who_may_edit(client, auth_headers, member, admin, public):
    for viewer, reads_groups in ((None, False), (member, False), (admin, True)):
        with recorded_statements(requests_only=True) as statements:
            response = client.get(f"/c/{public.id}/show.json", headers=auth_headers(viewer))
        assert response.status_code == 200
        assert any("FROM groups" in statement for statement in statements) == reads_groups, viewer
        assert bool(response.json["category"]["available_groups"] or response.json["category"]["group_permissions"]) == reads_groups
