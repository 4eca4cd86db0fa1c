"""PUT /admin/users/{id}/deactivate.json and /anonymize.json: staff close an account, or take the person out of it
while their posts stay, as Discourse's admins do."""
import pytest

from forum.extensions import db
from forum.models import ApiKey, AuditLogEntry, User
from forum.services import bots, users
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_session import sign_in, signed_in_username
from tests.api.test_topics import category, dialogue, other  # noqa: F401  (fixtures)


def test_a_deactivated_member_is_signed_out_and_cannot_sign_in_until_activated(app, client, auth_headers, other, moderator):
    signed_in = app.test_client()
    assert sign_in(signed_in, "yan_yan").status_code == 200
    response = client.put(f"/admin/users/{other.id}/deactivate.json", headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json == {"success": "OK"}
    assert_matches_spec(response, "put", "/admin/users/{id}/deactivate.json")
    assert signed_in_username(signed_in) is None
    assert sign_in(app.test_client(), "yan_yan").status_code != 200
    assert client.put(f"/admin/users/{other.id}/deactivate.json", headers=auth_headers(moderator)).status_code == 200  # again: nothing more
    assert db.session.query(AuditLogEntry).filter_by(action="user.deactivate", subject_id=other.id).count() == 1
    client.put(f"/admin/users/{other.id}/activate.json", headers=auth_headers(moderator))
    assert sign_in(app.test_client(), "yan_yan").status_code == 200


@pytest.mark.parametrize("path", ["deactivate", "anonymize"])
def test_who_may_not_be_deactivated_or_anonymized(client, auth_headers, make_user, member, moderator, admin, path):
    cases = [
        (member, moderator, "Only staff"),  # a member acts
        (moderator, moderator, "yourself" if path == "deactivate" else "Staff accounts"),
        (moderator, admin, "Only admins" if path == "deactivate" else "Staff accounts"),
        (admin, bots.system_user(), "bots"),
    ]
    for actor, target, says in cases:
        response = client.put(f"/admin/users/{target.id}/{path}.json", headers=auth_headers(actor))
        assert response.status_code == 403, (actor, target, response.json)
        assert response.json["error_type"] == "invalid_access" and says in response.json["errors"][0]
    missing = client.put(f"/admin/users/999999/{path}.json", headers=auth_headers(admin))
    assert missing.status_code == 404 and missing.json["error_type"] == "not_found"


def test_anonymizing_keeps_the_posts_and_nothing_that_names_the_person(app, client, auth_headers, dialogue, other, moderator):
    written = post_of(dialogue, 2).raw  # other's
    users.update_profile(other, other.username, name="Yan Yan Chen")
    signed_in = app.test_client()
    assert sign_in(signed_in, "yan_yan").status_code == 200
    _, key = users.create_api_key(other, created_by=moderator)
    before = client.get(f"/t/{dialogue.id}.json")  # a page anonymous readers may be served from the cache
    assert before.json["post_stream"]["posts"][1]["username"] == "yan_yan"

    response = client.put(f"/admin/users/{other.id}/anonymize.json", headers=auth_headers(moderator))
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "put", "/admin/users/{id}/anonymize.json")
    new_username = response.json["username"]
    assert new_username.startswith("anon") and len(new_username) == 12

    db.session.expire_all()
    user = db.session.get(User, other.id)
    assert (user.username, user.email, user.name, user.password_hash) == (
        new_username, f"{new_username}@anonymized.invalid", None, None)
    assert post_of(dialogue, 2).raw == written and post_of(dialogue, 2).user_id == other.id
    shown = client.get(f"/t/{dialogue.id}.json").json["post_stream"]["posts"][1]
    assert shown["username"] == new_username and "Yan Yan" not in str(shown) and "yan_yan" not in str(shown)
    assert client.get("/u/yan_yan.json").status_code == 404
    assert signed_in_username(signed_in) is None
    assert client.get("/session/current.json", headers={"Api-Key": key, "Api-Username": new_username}).status_code != 200
    assert db.session.query(ApiKey).filter(ApiKey.user_id == other.id, ApiKey.revoked_at.is_(None)).count() == 0
    entry = db.session.query(AuditLogEntry).filter_by(action="user.anonymize", subject_id=other.id).one()
    assert (entry.before, entry.after) == (None, None)  # the log keeps no name it would then have to forget


def test_an_anonymized_member_can_be_anonymized_again_and_gets_another_name(client, auth_headers, other, moderator):
    first = client.put(f"/admin/users/{other.id}/anonymize.json", headers=auth_headers(moderator)).json["username"]
    second = client.put(f"/admin/users/{other.id}/anonymize.json", headers=auth_headers(moderator)).json["username"]
    assert first != second and db.session.get(User, other.id).username == second


def test_an_account_that_left_nothing_behind_is_deleted_with_what_belongs_to_it(client, auth_headers, make_user, moderator):
    spam_id = make_user(username="spam_signup").id
    _, key = users.create_api_key(db.session.get(User, spam_id), created_by=moderator)
    response = client.delete(f"/admin/users/{spam_id}.json", headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json == {"deleted": True}
    assert_matches_spec(response, "delete", "/admin/users/{id}.json")
    db.session.expire_all()
    assert db.session.get(User, spam_id) is None
    assert users.find_api_key(key, "moderator") == (None, None)  # gone, not turned into a key for acting as anyone
    assert db.session.query(AuditLogEntry).filter_by(action="user.delete", subject_id=spam_id).count() == 1


def test_an_account_with_posts_or_actions_on_record_is_kept_and_unchanged(client, auth_headers, dialogue, make_user, other, moderator):
    for query in ("", "?delete_posts=true"):
        refused = client.delete(f"/admin/users/{other.id}.json{query}", headers=auth_headers(moderator))
        assert refused.status_code == 403
        assert refused.json["errors"] == ["yan_yan has written posts, which are kept: anonymize the account instead."]
    flagger = make_user(username="flagger")
    users.create_api_key(flagger, created_by=flagger)  # the audit log names it as the one who acted
    refused = client.delete(f"/admin/users/{flagger.id}.json", headers=auth_headers(moderator))
    assert refused.status_code == 403 and refused.json["errors"] == ["flagger's actions are on record: anonymize the account instead."]
    db.session.expire_all()
    assert db.session.get(User, flagger.id) is not None and db.session.get(User, other.id) is not None
    assert client.delete(f"/admin/users/{moderator.id}.json", headers=auth_headers(moderator)).status_code == 403
