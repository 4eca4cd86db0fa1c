"""PUT /posts/{id}/locked.json: staff lock a post against its author's edits, as Discourse's locked posts."""
import pytest

from forum.extensions import db
from forum.models import AuditLogEntry
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_topics import category, dialogue, other  # noqa: F401  (fixtures)

EDIT = {"post": {"raw": "What I wrote before the moderator took the name out, put back."}}


def lock(client, headers, post_id: int, locked):
    return client.put(f"/posts/{post_id}/locked.json", json={"locked": locked}, headers=headers)


def test_a_locked_post_is_edited_by_staff_only_until_unlocked(client, auth_headers, dialogue, other, moderator):
    post = post_of(dialogue, 2)  # other's
    response = lock(client, auth_headers(moderator), post.id, "true")
    assert response.status_code == 200 and response.json == {"locked": True}
    assert_matches_spec(response, "put", "/posts/{id}/locked.json")

    refused = client.put(f"/posts/{post.id}.json", json=EDIT, headers=auth_headers(other))
    assert refused.status_code == 403
    assert refused.json == {"errors": ["This post is locked: only staff may edit it."], "error_type": "invalid_access"}
    shown = client.get(f"/posts/{post.id}.json", headers=auth_headers(other)).json
    assert shown["can_edit"] is False and shown["raw"] != EDIT["post"]["raw"]
    assert client.put(f"/posts/{post.id}.json", json={"post": {"raw": "Corrected again by the moderator, with no name."}},
                      headers=auth_headers(moderator)).status_code == 200

    assert lock(client, auth_headers(moderator), post.id, False).json == {"locked": False}
    assert client.put(f"/posts/{post.id}.json", json=EDIT, headers=auth_headers(other)).status_code == 200
    actions = [entry.action for entry in db.session.query(AuditLogEntry).filter(AuditLogEntry.action.like("post.%lock")).order_by(AuditLogEntry.id)]
    assert actions == ["post.lock", "post.unlock"]


def test_locking_twice_changes_nothing_more(client, auth_headers, dialogue, moderator):
    post = post_of(dialogue, 2)
    for _ in range(2):
        assert lock(client, auth_headers(moderator), post.id, True).json == {"locked": True}
    assert db.session.query(AuditLogEntry).filter_by(action="post.lock").count() == 1


def test_members_may_not_lock_even_their_own_posts(client, auth_headers, dialogue, other):
    post = post_of(dialogue, 2)  # other's
    response = lock(client, auth_headers(other), post.id, True)
    assert response.status_code == 403
    assert response.json == {"errors": ["Only staff can lock or unlock a post."], "error_type": "invalid_access"}
    db.session.refresh(post)
    assert post.locked_at is None
    assert lock(client, {}, post.id, True).status_code == 403


@pytest.mark.parametrize("body", [{}, {"locked": "maybe"}, {"locked": {"value": True}}])
def test_a_lock_without_a_clear_yes_or_no_is_refused(client, auth_headers, dialogue, moderator, body):
    post = post_of(dialogue, 2)
    response = client.put(f"/posts/{post.id}/locked.json", json=body, headers=auth_headers(moderator))
    assert response.status_code == 400, response.json
    assert response.json["error_type"] == "invalid_parameters"
    db.session.refresh(post)
    assert post.locked_at is None


def test_an_unknown_post_is_not_found(client, auth_headers, moderator):
    response = lock(client, auth_headers(moderator), 999_999, True)
    assert response.status_code == 404 and response.json["error_type"] == "not_found"


def test_a_locked_first_post_locks_the_topics_title_and_category_for_its_author(client, auth_headers, dialogue, member, moderator):
    assert lock(client, auth_headers(moderator), post_of(dialogue, 1).id, True).status_code == 200
    refused = client.put(f"/t/-/{dialogue.id}.json", json={"title": "A title its author put back"}, headers=auth_headers(member))
    assert refused.status_code == 403
    assert refused.json["errors"] == ["This topic's first post is locked: only staff may edit the topic."]
    assert client.put(f"/t/-/{dialogue.id}.json", json={"title": "A title the moderator chose"}, headers=auth_headers(moderator)).status_code == 200
