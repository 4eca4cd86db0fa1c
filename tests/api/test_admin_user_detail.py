"""GET /admin/users/{id}.json: an account as staff review it, as Discourse's admin user page reads it."""
from forum.models import PostActionType
from forum.services import post_actions, review, users
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_topics import category, dialogue, other  # noqa: F401  (fixtures)


def detail(client, headers, user_id: int) -> dict:
    response = client.get(f"/admin/users/{user_id}.json", headers=headers)
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "get", "/admin/users/{id}.json")
    return response.json


def test_staff_see_an_accounts_activity_restrictions_and_what_they_may_do(client, auth_headers, dialogue, member, other, moderator, circle):
    # dialogue: member opened it; other wrote posts 2 and 4; member is in the group "circle".
    post_actions.like(member, post_of(dialogue, 2))
    review.flag_post(member, post_of(dialogue, 4), PostActionType.OFF_TOPIC)
    users.create_api_key(other, created_by=moderator)
    users.silence(moderator, other.id, until="2099-01-01", reason="Personal attacks")

    shown = detail(client, auth_headers(moderator), other.id)
    assert (shown["username"], shown["post_count"], shown["topic_count"], shown["like_count"], shown["api_key_count"]) == (
        "yan_yan", 2, 0, 1, 1)
    assert (shown["flags_received_count"], shown["flags_given_count"]) == (1, 0)
    assert (shown["silence_reason"], shown["silenced_by"], shown["suspended_by"]) == ("Personal attacks", "moderator", None)
    assert (shown["can_deactivate"], shown["can_activate"], shown["can_be_anonymized"]) == (True, False, True)

    opener = detail(client, auth_headers(moderator), member.id)
    assert (opener["topic_count"], opener["like_given_count"], opener["flags_given_count"], opener["silenced_by"]) == (1, 1, 1, None)
    assert [group["name"] for group in opener["groups"]] == ["circle"]
    assert detail(client, auth_headers(moderator), moderator.id)["can_deactivate"] is False  # not oneself


def test_only_staff_and_only_accounts_that_exist(client, auth_headers, member, moderator):
    refused = client.get(f"/admin/users/{member.id}.json", headers=auth_headers(member))
    assert refused.status_code == 403 and refused.json["error_type"] == "invalid_access"
    assert client.get(f"/admin/users/{member.id}.json").status_code == 403
    missing = client.get("/admin/users/999999.json", headers=auth_headers(moderator))
    assert missing.status_code == 404 and missing.json["error_type"] == "not_found"
