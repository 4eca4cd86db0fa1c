"""Every implemented endpoint that Discourse's OpenAPI file documents answers with a body its schema accepts."""
import pytest

from tests.api.spec import assert_matches_spec


# (method, spec path, url from the world, JSON body from the world or None)
CASES = [
    ("get", "/latest.json", lambda w: "/latest.json", None),
    ("get", "/top.json", lambda w: "/top.json", None),
    ("get", "/c/{slug}/{id}.json", lambda w: f"/c/{w.category.slug}/{w.category.id}.json", None),
    ("get", "/c/{id}/show.json", lambda w: f"/c/{w.category.id}/show.json", None),
    ("get", "/tag/{name}.json", lambda w: "/tag/training.json", None),
    ("get", "/t/{id}.json", lambda w: f"/t/{w.topic.id}.json", None),
    ("get", "/t/{id}/posts.json", lambda w: f"/t/{w.topic.id}/posts.json?post_ids[]={w.reply.id}", None),
    ("put", "/t/-/{id}.json", lambda w: f"/t/-/{w.topic.id}.json", lambda w: {"title": "How do NGOs train supplier staff?"}),
    ("put", "/t/{id}/status.json", lambda w: f"/t/{w.topic.id}/status.json", lambda w: {"status": "closed", "enabled": "true"}),
    ("post", "/t/{id}/notifications.json", lambda w: f"/t/{w.topic.id}/notifications.json", lambda w: {"notification_level": "3"}),
    ("delete", "/t/{id}.json", lambda w: f"/t/{w.topic.id}.json", None),
    ("get", "/posts.json", lambda w: "/posts.json", None),
    ("post", "/posts.json", lambda w: "/posts.json", lambda w: {"topic_id": w.topic.id, "raw": "## More\n\nAnother reply here."}),
    ("get", "/posts/{id}.json", lambda w: f"/posts/{w.reply.id}.json", None),
    ("put", "/posts/{id}.json", lambda w: f"/posts/{w.reply.id}.json", lambda w: {"post": {"raw": "## A reply\n\nWe trained many managers.", "edit_reason": "more"}}),
    ("delete", "/posts/{id}.json", lambda w: f"/posts/{w.reply.id}.json", None),
    ("get", "/posts/{id}/replies.json", lambda w: f"/posts/{w.reply.id}/replies.json", None),
    ("post", "/post_actions.json", lambda w: "/post_actions.json", lambda w: {"id": w.first_post.id, "post_action_type_id": 2}),
    ("get", "/categories.json", lambda w: "/categories.json", None),
    ("post", "/categories.json", lambda w: "/categories.json", lambda w: {"name": "Practitioners lounge", "color": "49d9e9", "text_color": "f0fcfd"}),
    ("put", "/categories/{id}.json", lambda w: f"/categories/{w.category.id}.json", lambda w: {"name": "Tactic dialogues", "color": "0E76BD"}),
    ("get", "/tags.json", lambda w: "/tags.json", None),
    ("get", "/tag_groups.json", lambda w: "/tag_groups.json", None),
    ("post", "/tag_groups.json", lambda w: "/tag_groups.json", lambda w: {"name": "Approaches", "tag_names": ["dialogue", "advocacy"]}),
    ("get", "/tag_groups/{id}.json", lambda w: f"/tag_groups/{w.tag_group.id}.json", None),
    ("put", "/tag_groups/{id}.json", lambda w: f"/tag_groups/{w.tag_group.id}.json", lambda w: {"name": "Tactics", "tag_names": ["training", "carrotmob"]}),
    ("post", "/users.json", lambda w: "/users.json", lambda w: {"name": "Sione T", "username": "sione_t", "email": "sione@example.com", "password": "a long password here", "active": True, "approved": True}),
    ("post", "/session/forgot_password.json", lambda w: "/session/forgot_password.json", lambda w: {"login": w.member.username}),
    ("get", "/u/{username}.json", lambda w: f"/u/{w.member.username}.json", None),
    ("get", "/admin/users/list/{flag}.json", lambda w: "/admin/users/list/active.json", None),
    ("get", "/admin/users.json", lambda w: "/admin/users.json?order=created&asc=true&show_emails=true", None),
    ("put", "/admin/users/{id}/suspend.json", lambda w: f"/admin/users/{w.member.id}/suspend.json", lambda w: {"suspend_until": "2099-01-01T00:00:00Z", "reason": "testing"}),
    ("put", "/admin/users/{id}/activate.json", lambda w: f"/admin/users/{w.member.id}/activate.json", None),
    ("get", "/u/{username}/emails.json", lambda w: f"/u/{w.member.username}/emails.json", None),
    ("put", "/u/{username}.json", lambda w: f"/u/{w.member.username}.json", lambda w: {"name": "Amara Okafor"}),
    ("get", "/user_actions.json", lambda w: f"/user_actions.json?username={w.member.username}&filter=4,5&offset=0", None),
    ("put", "/t/{id}/bookmark.json", lambda w: f"/t/{w.topic.id}/bookmark.json", None),
    ("put", "/posts/{id}/locked.json", lambda w: f"/posts/{w.reply.id}/locked.json", lambda w: {"locked": "true"}),
    ("get", "/notifications.json", lambda w: "/notifications.json", None),
    ("put", "/notifications/mark-read.json", lambda w: "/notifications/mark-read.json", None),
    ("get", "/admin/users/{id}.json", lambda w: f"/admin/users/{w.member.id}.json", None),
    ("put", "/admin/users/{id}/silence.json", lambda w: f"/admin/users/{w.member.id}/silence.json", lambda w: {"silenced_till": "2099-01-01T00:00:00Z", "reason": "testing"}),
    ("put", "/admin/users/{id}/deactivate.json", lambda w: f"/admin/users/{w.member.id}/deactivate.json", None),
    ("put", "/admin/users/{id}/anonymize.json", lambda w: f"/admin/users/{w.member.id}/anonymize.json", None),
    ("post", "/admin/users/{id}/log_out.json", lambda w: f"/admin/users/{w.member.id}/log_out.json", None),
    ("get", "/groups.json", lambda w: "/groups.json", None),
    ("get", "/groups/{name}.json", lambda w: f"/groups/{w.group.name}.json", None),
    ("get", "/groups/by-id/{id}.json", lambda w: f"/groups/by-id/{w.group.id}.json", None),
    ("get", "/groups/{name}/members.json", lambda w: f"/groups/{w.group.name}/members.json", None),
    ("post", "/admin/groups.json", lambda w: "/admin/groups.json", lambda w: {"group": {"name": "researchers", "full_name": "Field researchers"}}),
    ("put", "/groups/{id}.json", lambda w: f"/groups/{w.group.id}.json", lambda w: {"group": {"full_name": "Campaign organisers, 2026"}}),
    ("put", "/groups/{id}/members.json", lambda w: f"/groups/{w.group.id}/members.json", lambda w: {"usernames": w.admin.username}),
    ("delete", "/groups/{id}/members.json", lambda w: f"/groups/{w.group.id}/members.json", lambda w: {"usernames": w.member.username}),
    ("delete", "/admin/groups/{id}.json", lambda w: f"/admin/groups/{w.group.id}.json", None),
    ("post", "/t/{id}/timer.json", lambda w: f"/t/{w.topic.id}/timer.json", lambda w: {"time": "24", "status_type": "close"}),
    ("get", "/site.json", lambda w: "/site.json", None),
    ("get", "/site/basic-info.json", lambda w: "/site/basic-info.json", None),
    ("get", "/search.json", lambda w: "/search.json?q=trained", None),
]


@pytest.mark.parametrize("method, spec_path, url, body", CASES, ids=[f"{m.upper()} {p}" for m, p, _, _ in CASES])
def test_response_matches_discourse_schema(client, auth_headers, world, method, spec_path, url, body):
    response = client.open(url(world), method=method.upper(), json=body(world) if body else None, headers=auth_headers(world.admin))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, method, spec_path)
