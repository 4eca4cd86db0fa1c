"""Notifications: who a post tells (mentions, replies, watched topics), GET /notifications.json and
PUT /notifications/mark-read.json, as Discourse's clients read them."""
import pytest

from forum.extensions import db
from forum.models import Notification, NotificationLevel, NotificationType
from forum.services import notifications, post_actions, posts, reading, topics
from tests.api.spec import assert_matches_spec
from tests.api.test_posts import post_of
from tests.api.test_topics import category, dialogue, insider, other, restricted_topic  # noqa: F401  (fixtures)


def reply(author, topic, raw: str, reply_to: int | None = None):
    """A reply, and the notifications its task would send."""
    post = posts.create_reply(author, topic, raw=raw, reply_to_post_number=reply_to)
    notifications.notify_about_post(post.id)
    return post


def listed(client, headers, query: str = "") -> dict:
    response = client.get(f"/notifications.json{query}", headers=headers)
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "get", "/notifications.json")
    return response.json


def kinds(client, headers, query: str = "") -> list[tuple[int, int, int]]:
    return [(n["notification_type"], n["topic_id"], n["post_number"]) for n in listed(client, headers, query)["notifications"]]


def test_a_reply_tells_the_author_it_answers_and_the_topics_watchers_once_each(client, auth_headers, dialogue, member, other, moderator):
    # dialogue: member opened it (and watches it); other and moderator replied (and track it).
    answer = reply(other, dialogue, "Thank you, this is what we saw in the garment sector too.", reply_to=1)
    assert kinds(client, auth_headers(member)) == [(NotificationType.REPLIED, dialogue.id, answer.post_number)]
    assert kinds(client, auth_headers(other)) == []  # never told about their own post
    assert kinds(client, auth_headers(moderator)) == []  # tracking is not watching

    to_other = reply(moderator, dialogue, "Which companies answered your letters first?", reply_to=answer.post_number)
    assert kinds(client, auth_headers(other)) == [(NotificationType.REPLIED, dialogue.id, to_other.post_number)]
    [watched, replied] = listed(client, auth_headers(member))["notifications"]
    assert (watched["notification_type"], watched["post_number"]) == (NotificationType.POSTED, to_other.post_number)
    assert watched["data"]["display_username"] == "moderator" and watched["data"]["topic_title"] == dialogue.title
    assert watched["data"]["original_post_id"] == to_other.id and watched["slug"] == dialogue.slug
    assert replied["notification_type"] == NotificationType.REPLIED and not replied["read"]


def test_a_mention_in_the_authors_own_words_tells_who_it_names_and_outranks_the_rest(client, auth_headers, dialogue, member, other, moderator, make_user):
    outsider = make_user(username="outsider")
    mentioning = reply(other, dialogue, (
        "@Member and @outsider, what do you think?\n\n> @moderator wrote this earlier\n\n"
        "Not `@moderator` either, nor @nobody_here, nor https://mastodon.social/@moderator."), reply_to=1)
    assert kinds(client, auth_headers(member)) == [(NotificationType.MENTIONED, dialogue.id, mentioning.post_number)]
    assert kinds(client, auth_headers(outsider)) == [(NotificationType.MENTIONED, dialogue.id, mentioning.post_number)]
    assert kinds(client, auth_headers(moderator)) == []  # quoted, in code, a handle in a link: not a mention


def test_no_one_is_told_about_a_topic_they_may_not_open_or_muted(client, auth_headers, restricted_topic, dialogue, member, insider, other):
    reply(insider, restricted_topic, "@yan_yan and @member, have a look at this.")
    assert kinds(client, auth_headers(other)) == []  # outside the restricted category
    assert [kind for kind, topic_id, _ in kinds(client, auth_headers(member)) if topic_id == restricted_topic.id] == [NotificationType.MENTIONED]

    reading.set_notification_level(member, dialogue.id, NotificationLevel.MUTED)
    reply(other, dialogue, "@member, a question for you.", reply_to=1)
    assert all(topic_id != dialogue.id for _, topic_id, _ in kinds(client, auth_headers(member)))


def test_sending_twice_tells_no_one_twice_and_an_edit_tells_only_the_newly_mentioned(client, auth_headers, dialogue, member, other, moderator, make_user):
    answer = reply(other, dialogue, "A first answer to the question.", reply_to=1)
    assert notifications.notify_about_post(answer.id) == 0
    newcomer = make_user(username="newcomer")
    posts.edit_post(other, post_of(dialogue, answer.post_number), raw="A first answer to the question, @newcomer and @member.")
    assert notifications.notify_about_post(answer.id, edited=True) == 1
    assert kinds(client, auth_headers(newcomer)) == [(NotificationType.MENTIONED, dialogue.id, answer.post_number)]
    assert kinds(client, auth_headers(member)) == [(NotificationType.REPLIED, dialogue.id, answer.post_number)]


def test_a_deleted_post_or_topic_takes_its_notifications_with_it(client, auth_headers, dialogue, member, other, moderator):
    mention = reply(other, dialogue, "@moderator, this one is for you.", reply_to=1)
    topics.delete_topic(moderator, dialogue)
    assert listed(client, auth_headers(moderator))["notifications"] == []  # not even staff, who may still open it
    topics.recover_topic(moderator, dialogue)
    assert kinds(client, auth_headers(moderator)) == [(NotificationType.MENTIONED, dialogue.id, mention.post_number)]
    posts.delete_post(other, post_of(dialogue, mention.post_number))
    answer = reply(other, dialogue, "An answer I will take back.", reply_to=1)
    posts.delete_post(other, post_of(dialogue, answer.post_number))
    assert listed(client, auth_headers(member)) == {
        "notifications": [], "total_rows_notifications": 0, "seen_notification_id": 0,
        "load_more_notifications": "/notifications?offset=60&username=member"}
    assert notifications.notify_about_post(answer.id) == 0  # a task that runs late sends nothing for it


def test_the_menu_sees_them_and_mark_read_reads_them(client, auth_headers, dialogue, member, other):
    first = reply(other, dialogue, "The first answer to the question.", reply_to=1)
    second = reply(other, dialogue, "The second answer to the question.", reply_to=1)
    headers = auth_headers(member)
    current = client.get("/session/current.json", headers=headers).json["current_user"]
    assert (current["unread_notifications"], current["seen_notification_id"], current["reviewable_count"]) == (2, 0, 0)

    silent = listed(client, headers, "?recent=true&limit=1&silent=true")
    assert [n["post_number"] for n in silent["notifications"]] == [second.post_number] and silent["seen_notification_id"] == 0
    menu = listed(client, headers, "?recent=true&limit=1")
    newest = menu["notifications"][0]["id"]
    assert menu["seen_notification_id"] == newest and "total_rows_notifications" not in menu
    assert client.get("/session/current.json", headers=headers).json["current_user"]["unread_notifications"] == 0

    oldest = listed(client, headers)["notifications"][1]
    response = client.put("/notifications/mark-read.json", json={"id": oldest["id"]}, headers=headers)
    assert response.status_code == 200 and response.json == {"success": "OK"}
    assert [(n["post_number"], n["read"]) for n in listed(client, headers)["notifications"]] == [
        (second.post_number, False), (first.post_number, True)]
    assert client.put("/notifications/mark-read.json", headers=headers).json == {"success": "OK"}
    assert all(n["read"] for n in listed(client, headers)["notifications"])


def test_who_may_read_whose_notifications(client, auth_headers, dialogue, member, other, admin):
    reply(other, dialogue, "An answer to the question above.", reply_to=1)
    anonymous = client.get("/notifications.json")
    assert anonymous.status_code == 403 and anonymous.json["error_type"] == "not_logged_in"
    refused = client.get("/notifications.json?username=member", headers=auth_headers(other))
    assert refused.status_code == 403
    assert refused.json == {"errors": ["You can only see your own notifications."], "error_type": "invalid_access"}
    assert len(listed(client, auth_headers(admin), "?username=member")["notifications"]) == 1
    missing = client.get("/notifications.json?username=nobody", headers=auth_headers(admin))
    assert missing.status_code == 404 and missing.json["error_type"] == "not_found"
    # Another member's notification is not theirs to mark, and is not found.
    theirs = db.session.query(Notification).filter_by(user_id=member.id).one()
    response = client.put("/notifications/mark-read.json", json={"id": theirs.id}, headers=auth_headers(other))
    assert response.status_code == 404 and response.json["error_type"] == "not_found"
    db.session.refresh(theirs)
    assert not theirs.read


@pytest.mark.parametrize("query", ["?offset=-1", "?offset=x", "?recent=true&limit=0", "?recent=maybe"])
def test_bad_paging_is_refused_clearly(client, auth_headers, member, query):
    response = client.get(f"/notifications.json{query}", headers=auth_headers(member))
    assert response.status_code == 400, response.json
    assert response.json["error_type"] == "invalid_parameters"


def test_pages_of_sixty_newest_first(client, auth_headers, dialogue, member, other):
    for n in range(notifications.PAGE_SIZE + 2):
        reply(other, dialogue, f"Answer number {n} to the question.", reply_to=1)
    first = listed(client, auth_headers(member))
    assert len(first["notifications"]) == notifications.PAGE_SIZE and first["total_rows_notifications"] == notifications.PAGE_SIZE + 2
    numbers = [n["post_number"] for n in first["notifications"]]
    assert numbers == sorted(numbers, reverse=True)
    rest = listed(client, auth_headers(member), "?offset=60&username=member")
    assert [n["post_number"] for n in rest["notifications"]] == [numbers[-1] - 1, numbers[-1] - 2]


def test_likes_tell_the_author_in_one_notification_each_new_like_renews(client, auth_headers, dialogue, member, other, moderator):
    second = post_of(dialogue, 2)  # other's
    post_actions.like(member, second)
    [first] = listed(client, auth_headers(other))["notifications"]
    assert (first["notification_type"], first["post_number"], first["data"]["display_username"], first["data"]["count"]) == (
        NotificationType.LIKED, 2, "member", 1)
    listed(client, auth_headers(other), "?recent=true")  # seen
    client.put("/notifications/mark-read.json", headers=auth_headers(other))

    post_actions.like(moderator, post_of(dialogue, 2))
    [renewed] = listed(client, auth_headers(other))["notifications"]
    assert renewed["id"] > first["id"] and renewed["read"] is False
    assert (renewed["data"]["display_username"], renewed["data"]["username2"], renewed["data"]["count"]) == ("moderator", "member", 2)
    assert client.get("/session/current.json", headers=auth_headers(other)).json["current_user"]["unread_notifications"] == 1


def test_a_like_on_a_post_in_a_muted_topic_tells_no_one(client, auth_headers, dialogue, member, other):
    reading.set_notification_level(other, dialogue.id, NotificationLevel.MUTED)
    post_actions.like(member, post_of(dialogue, 2))
    assert listed(client, auth_headers(other))["notifications"] == []


def test_a_like_taken_back_leaves_the_notification_and_given_again_is_no_news(client, auth_headers, dialogue, member, other, moderator):
    second = post_of(dialogue, 2)  # other's
    post_actions.like(member, second)
    post_actions.like(moderator, post_of(dialogue, 2))
    post_actions.unlike(moderator, post_of(dialogue, 2))
    [left] = listed(client, auth_headers(other))["notifications"]
    assert (left["data"]["display_username"], left["data"]["count"], "username2" in left["data"]) == ("member", 1, False)
    client.put("/notifications/mark-read.json", headers=auth_headers(other))
    post_actions.unlike(member, post_of(dialogue, 2))
    assert listed(client, auth_headers(other))["notifications"] == []  # no like left
    post_actions.like(member, post_of(dialogue, 2))
    post_actions.unlike(member, post_of(dialogue, 2))
    post_actions.like(member, post_of(dialogue, 2))
    [again] = listed(client, auth_headers(other))["notifications"]
    assert (again["data"]["display_username"], again["data"]["count"]) == ("member", 1)


def test_an_anonymized_member_leaves_no_username_in_others_notifications(client, auth_headers, dialogue, member, other, moderator):
    reply(other, dialogue, "Answering the opening post, @member.", reply_to=1)
    post_actions.like(other, post_of(dialogue, 3))  # moderator's post
    new_name = client.put(f"/admin/users/{other.id}/anonymize.json", headers=auth_headers(moderator)).json["username"]
    for viewer in (member, moderator):
        [told] = listed(client, auth_headers(viewer))["notifications"]
        assert "yan_yan" not in str(told) and told["data"]["display_username"] == new_name
