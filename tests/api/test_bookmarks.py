"""Bookmarks of posts and topics, as Discourse's clients make and read them: POST /bookmarks.json, PUT and DELETE
/bookmarks/{id}.json, PUT /t/{id}/bookmark.json and /remove_bookmarks.json, GET /u/{username}/bookmarks.json, and the
topic view's bookmarked flags."""
import pytest

from forum.extensions import db
from forum.models import Bookmark
from forum.services import posts
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_topics import category, dialogue, insider, other, restricted_topic  # noqa: F401  (fixtures)


def bookmark(client, headers, bookmarkable_id: int, kind: str = "Post", **fields):
    return client.post("/bookmarks.json", json={"bookmarkable_id": bookmarkable_id, "bookmarkable_type": kind, **fields}, headers=headers)


def listed(client, headers, username: str, query: str = "") -> list[dict]:
    response = client.get(f"/u/{username}/bookmarks.json{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["user_bookmark_list"]["bookmarks"]


def test_bookmarked_posts_and_topics_show_in_the_topic_view_and_the_members_list(client, auth_headers, dialogue, other):
    headers = auth_headers(other)
    second, third = post_of(dialogue, 2), post_of(dialogue, 3)
    made = bookmark(client, headers, third.id, name="  Cite in the notebook: the  buycott  ")
    assert made.status_code == 200 and made.json == {"success": "OK", "id": db.session.query(Bookmark.id).scalar()}
    topic_mark = client.put(f"/t/{dialogue.id}/bookmark.json", headers=headers)
    assert topic_mark.status_code == 200
    assert_matches_spec(topic_mark, "put", "/t/{id}/bookmark.json")

    view = client.get(f"/t/{dialogue.id}.json", headers=headers)
    assert_matches_spec(view, "get", "/t/{id}.json")
    assert view.json["bookmarked"] is True
    assert [(b["bookmarkable_type"], b["bookmarkable_id"], b["name"]) for b in view.json["bookmarks"]] == [
        ("Post", third.id, "Cite in the notebook: the buycott"), ("Topic", dialogue.id, None)]
    assert {p["post_number"]: p["bookmarked"] for p in view.json["post_stream"]["posts"]}[3] is True
    assert {p["post_number"]: p["bookmarked"] for p in view.json["post_stream"]["posts"]}[2] is False
    assert client.get(f"/t/{dialogue.id}.json").json["bookmarked"] is False  # a reader's own, not anyone else's

    [topic_item, post_item] = listed(client, headers, "yan_yan")
    assert (post_item["bookmarkable_url"], post_item["linked_post_number"], post_item["title"]) == (
        f"/t/{dialogue.slug}/{dialogue.id}/3", 3, dialogue.title)
    assert post_item["excerpt"] and post_item["user"]["username"] == "moderator"  # post 3's author
    assert (topic_item["bookmarkable_url"], topic_item["linked_post_number"]) == (f"/t/{dialogue.slug}/{dialogue.id}", 1)
    assert second.id not in {item["bookmarkable_id"] for item in listed(client, headers, "yan_yan")}


def test_renaming_deleting_and_clearing_a_topics_bookmarks(client, auth_headers, dialogue, other):
    headers = auth_headers(other)
    first = bookmark(client, headers, post_of(dialogue, 2).id).json["id"]
    second = bookmark(client, headers, post_of(dialogue, 4).id).json["id"]
    renamed = client.put(f"/bookmarks/{first}.json", json={"name": "Training example", "reminder_at": "2027-01-15T09:00:00Z"}, headers=headers)
    assert renamed.status_code == 200
    item = next(b for b in listed(client, headers, "yan_yan") if b["id"] == first)
    assert (item["name"], item["reminder_at"]) == ("Training example", "2027-01-15T09:00:00.000Z")

    deleted = client.delete(f"/bookmarks/{first}.json", headers=headers)
    assert deleted.status_code == 200 and deleted.json == {"success": "OK", "topic_bookmarked": True}  # the second is left
    assert client.put(f"/t/{dialogue.id}/remove_bookmarks.json", headers=headers).json == {"success": "OK"}
    assert listed(client, headers, "yan_yan") == []
    assert client.delete(f"/bookmarks/{second}.json", headers=headers).status_code == 404


@pytest.mark.parametrize("cleared", ["", None], ids=["empty", "null"])
def test_a_name_or_reminder_sent_empty_is_cleared_and_one_not_sent_stays(client, auth_headers, dialogue, other, cleared):
    headers = auth_headers(other)
    made = bookmark(client, headers, post_of(dialogue, 2).id, name="Cite it", reminder_at="2027-01-15T09:00:00Z").json["id"]
    assert client.put(f"/bookmarks/{made}.json", json={"reminder_at": cleared}, headers=headers).status_code == 200
    (item,) = listed(client, headers, "yan_yan")
    assert (item["name"], item["reminder_at"]) == ("Cite it", None)
    assert client.put(f"/bookmarks/{made}.json", data={"name": ""}, headers=headers).status_code == 200
    (item,) = listed(client, headers, "yan_yan")
    assert item["name"] is None


def test_a_second_bookmark_of_the_same_post_is_refused_and_stores_nothing(client, auth_headers, dialogue, other):
    headers = auth_headers(other)
    post_id = post_of(dialogue, 2).id
    assert bookmark(client, headers, post_id).status_code == 200
    again = bookmark(client, headers, post_id, name="again")
    assert again.status_code == 400
    assert again.json == {"errors": ["You have already bookmarked this post."], "error_type": "invalid_parameters"}
    assert db.session.query(Bookmark).count() == 1


@pytest.mark.parametrize("fields, status", [
    ({"bookmarkable_type": "Category", "bookmarkable_id": 1}, 400),
    ({"bookmarkable_type": "Post"}, 400),
    ({"bookmarkable_type": "Post", "bookmarkable_id": "x"}, 400),
    ({"bookmarkable_type": "Post", "bookmarkable_id": 999999}, 404),
    ({"bookmarkable_type": "Post", "bookmarkable_id": "POST", "reminder_at": "soon"}, 400),
    ({"bookmarkable_type": "Post", "bookmarkable_id": "POST", "reminder_at": "next tuesday"}, 400),
    ({"bookmarkable_type": "Post", "bookmarkable_id": "POST", "name": "n" * 101}, 422),
    ({"bookmarkable_type": "Post", "bookmarkable_id": "POST", "reminder_at": "2001-01-01T09:00:00Z"}, 422),  # past
    ({"bookmarkable_type": "Post", "bookmarkable_id": "POST", "reminder_at": "2099-01-01T09:00:00Z"}, 422),  # too far
])
def test_bad_bookmarks_are_refused_clearly(client, auth_headers, dialogue, other, fields, status):
    fields = {key: post_of(dialogue, 2).id if value == "POST" else value for key, value in fields.items()}
    response = client.post("/bookmarks.json", json=fields, headers=auth_headers(other))
    assert response.status_code == status, response.json
    assert response.json["errors"] and response.json["error_type"]
    assert db.session.query(Bookmark).count() == 0


def test_bookmarks_are_their_owners_and_follow_what_the_owner_may_see(client, auth_headers, dialogue, restricted_topic, other, member, insider, admin):
    assert bookmark(client, auth_headers(other), post_of(restricted_topic, 2).id).status_code == 404  # outside its category
    assert bookmark(client, {}, post_of(dialogue, 2).id).status_code == 403
    made = bookmark(client, auth_headers(insider), post_of(restricted_topic, 2).id).json["id"]
    assert client.put(f"/bookmarks/{made}.json", json={"name": "mine"}, headers=auth_headers(member)).status_code == 404
    assert client.delete(f"/bookmarks/{made}.json", headers=auth_headers(member)).status_code == 404
    refused = client.get("/u/insider/bookmarks.json", headers=auth_headers(member))
    assert refused.status_code == 403 and refused.json["errors"] == ["You can only see your own bookmarks."]
    assert len(listed(client, auth_headers(admin), "insider")) == 1

    reply = bookmark(client, auth_headers(member), post_of(dialogue, 4).id)
    assert reply.status_code == 200
    posts.delete_post(post_of(dialogue, 4).user, post_of(dialogue, 4))
    assert listed(client, auth_headers(member), "member") == []  # a deleted post leaves the list; the bookmark stays
    assert db.session.query(Bookmark).filter_by(user_id=member.id).count() == 1


def test_the_list_comes_twenty_at_a_time(client, auth_headers, make_user, member, other):
    from tests.api.test_topics import make_dialogue

    long = make_dialogue(member, [other], 24)
    headers = auth_headers(other)
    for number in range(1, 25):
        assert bookmark(client, headers, post_of(long, number).id).status_code == 200
    first = client.get("/u/yan_yan/bookmarks.json", headers=headers).json["user_bookmark_list"]
    assert len(first["bookmarks"]) == 20 and first["more_bookmarks_url"] == "/u/yan_yan/bookmarks.json?page=1"
    rest = client.get(first["more_bookmarks_url"], headers=headers).json["user_bookmark_list"]
    assert len(rest["bookmarks"]) == 4 and "more_bookmarks_url" not in rest
    numbers = [b["linked_post_number"] for b in first["bookmarks"] + rest["bookmarks"]]
    assert numbers == list(range(24, 0, -1))  # newest first
