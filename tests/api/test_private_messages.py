"""Private messages (Discourse's archetype private_message): sent with POST /posts.json to target_recipients, open only
to the people it is among (and admins), in no public list, count or search, read by no bot, and told to its people."""
import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Notification, NotificationType, Post, Role, Topic, topic_allowed_users
from forum.services import notifications, posts, summaries, tactics, topics
from tests.api.spec import assert_matches_spec

TITLE = "A word about the mining company's grievance desk"
BODY = "Between us: the grievance desk is not what the company says it is. Can we talk before the meeting?"


@pytest.fixture
def people(make_user):
    return {name: make_user(username=name) for name in ("amira", "sipho", "yanyan")}


def send(client, auth_headers, sender, recipients: str, **extra):
    body = {"title": TITLE, "raw": BODY, "archetype": "private_message", "target_recipients": recipients, **extra}
    return client.post("/posts.json", json=body, headers=auth_headers(sender))


@pytest.fixture
def message(client, auth_headers, people) -> Topic:
    """amira writes to sipho; yanyan is not among them."""
    response = send(client, auth_headers, people["amira"], "Sipho")
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/posts.json")
    return db.session.get(Topic, response.json["topic_id"])


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_message_is_among_its_author_and_recipients(client, auth_headers, people, message):
    assert message.archetype == "private_message" and message.category_id is None
    among = set(db.session.scalars(select(topic_allowed_users.c.user_id).where(topic_allowed_users.c.topic_id == message.id)))
    assert among == {people["amira"].id, people["sipho"].id}
    shown = client.get(f"/t/{message.id}.json", headers=auth_headers(people["sipho"]))
    assert shown.status_code == 200 and shown.json["archetype"] == "private_message"
    assert_matches_spec(shown, "get", "/t/{id}.json")


@pytest.mark.parametrize("who", ["yanyan", "moderator", None])
def test_nobody_else_may_open_it_or_answer_it(client, auth_headers, people, moderator, message, who):
    user = people.get(who) or (moderator if who == "moderator" else None)
    for path in (f"/t/{message.id}.json", f"/raw/{message.id}", f"/t/{message.id}/posts.json"):
        response = client.get(path, headers=auth_headers(user))
        assert response.status_code == 404, path
    first = db.session.scalar(select(Post.id).where(Post.topic_id == message.id))
    assert client.get(f"/posts/{first}.json", headers=auth_headers(user)).status_code == 404
    reply = client.post("/posts.json", json={"topic_id": message.id, "raw": "May I join this conversation?"},
                        headers=auth_headers(user))
    assert reply.status_code == (404 if user is not None else 403)  # an anonymous visitor is asked to sign in first
    assert db.session.scalar(select(func.count()).where(Post.topic_id == message.id)) == 1


def test_admins_may_open_it_as_in_discourse(client, auth_headers, make_user, message):
    shown = client.get(f"/t/{message.id}.json", headers=auth_headers(make_user(Role.ADMIN, "admin")))
    assert shown.status_code == 200 and shown.json["archetype"] == "private_message"
    assert [post["cooked"].strip() for post in shown.json["post_stream"]["posts"]] == [f"<p>{BODY}</p>"]


def test_it_shows_in_no_public_list_count_or_search(client, auth_headers, people, message, make_user):
    admin = make_user(Role.ADMIN, "admin")
    for viewer in (None, people["yanyan"], people["amira"], admin):
        headers = auth_headers(viewer)
        assert message.id not in [t["id"] for t in client.get("/latest.json", headers=headers).json["topic_list"]["topics"]]
        assert message.id not in [t["id"] for t in client.get("/top.json", headers=headers).json["topic_list"]["topics"]]
        assert client.get("/search.json", query_string={"q": "grievance desk"}, headers=headers).json["posts"] == []
        latest_posts = client.get("/posts.json", headers=headers).json["latest_posts"]
        assert message.id not in {post["topic_id"] for post in latest_posts}
        actions = client.get("/user_actions.json", query_string={"username": "amira", "filter": "4"}, headers=headers)
        assert actions.json["user_actions"] == []
        profile = client.get("/u/amira.json", headers=headers).json["user"]
        assert (profile["topic_count"], profile["post_count"]) == (0, 0)
        assert client.get("/site/statistics.json", headers=headers).json["topics_count"] == 0
        assert client.get("/about.json", headers=headers).json["about"]["stats"]["topics_count"] == 0
        directory = client.get("/directory_items.json", query_string={"period": "all"}, headers=headers).json
        assert all(item["topic_count"] == 0 for item in directory["directory_items"])
        if viewer is not None:
            for path in ("/new.json", "/unread.json"):
                assert client.get(path, headers=headers).json["topic_list"]["topics"] == [], path


def test_its_people_find_it_in_their_message_lists(client, auth_headers, people, message, make_user):
    def listed(path, viewer):
        response = client.get(path, headers=auth_headers(viewer))
        assert response.status_code == 200, response.json
        assert_matches_spec(response, "get", path.replace("amira", "{username}").replace("sipho", "{username}"))
        return [(t["id"], t["archetype"]) for t in response.json["topic_list"]["topics"]]

    assert listed("/topics/private-messages/sipho.json", people["sipho"]) == [(message.id, "private_message")]
    assert listed("/topics/private-messages/amira.json", people["amira"]) == [(message.id, "private_message")]
    assert listed("/topics/private-messages-sent/amira.json", people["amira"]) == [(message.id, "private_message")]
    assert listed("/topics/private-messages-sent/sipho.json", people["sipho"]) == []  # has not written in it yet
    posts.create_reply(people["sipho"], message, raw="Yes, let us talk on Thursday.")
    assert listed("/topics/private-messages-sent/sipho.json", people["sipho"]) == [(message.id, "private_message")]
    assert listed("/topics/private-messages/sipho.json", make_user(Role.ADMIN, "admin")) == [(message.id, "private_message")]
    for viewer in (people["yanyan"], None):
        refused = client.get("/topics/private-messages/sipho.json", headers=auth_headers(viewer))
        assert refused.status_code == 403 and refused.json["errors"]


def test_each_post_tells_the_others_and_nobody_outside(people, message):
    first = db.session.scalar(select(Post).where(Post.topic_id == message.id))
    notifications.notify_about_post(first.id)
    reply = posts.create_reply(people["sipho"], message, raw="Yes. And @yanyan should not hear of it yet.")
    notifications.notify_about_post(reply.id)
    told = {(n.user_id, n.post_number, n.notification_type) for n in db.session.scalars(select(Notification))}
    assert told == {(people["sipho"].id, 1, NotificationType.PRIVATE_MESSAGE),
                    (people["amira"].id, 2, NotificationType.PRIVATE_MESSAGE)}


def test_no_bot_reads_it(people, message):
    first = db.session.scalar(select(Post).where(Post.topic_id == message.id))
    assert tactics.scorable_post(first.id) is None
    assert tactics.scorable_post_ids(message.id) == []
    assert summaries.summarize_topic(message.id) is None


@pytest.mark.parametrize("recipients, extra, status", [
    ("", {}, 422),
    ("amira", {}, 422),  # only oneself
    ("nobody_by_that_name", {}, 422),
    ("sipho, nobody_by_that_name", {}, 422),
    (",".join(f"someone{index}" for index in range(31)), {}, 422),
    ("system", {}, 403),  # a bot
    ("moderators", {}, 422),  # a group (an automatic one): no group inbox here
    ("sipho,circle_members", {}, 422),  # a group of ours
    ("sipho", {"tags": ["training"]}, 422),
    ("sipho", {"title": "short"}, 422),
])
def test_a_message_that_cannot_be_sent_stores_nothing(client, auth_headers, people, make_user, recipients, extra, status):
    from forum.services import groups

    for index in range(31):
        make_user(username=f"someone{index}")
    groups.create_group(make_user(Role.ADMIN, "admin"), name="circle_members")
    before = (count(Topic), count(Post), count(topic_allowed_users))
    response = send(client, auth_headers, people["amira"], recipients, **extra)
    assert response.status_code == status, response.json
    assert response.json["errors"] and response.json["error_type"]
    if "moderators" in recipients or "circle_members" in recipients:
        assert "not to groups" in response.json["errors"][0]
    assert (count(Topic), count(Post), count(topic_allowed_users)) == before


def test_a_message_keeps_no_category_and_no_tags(client, auth_headers, people, message):
    from tests.api.factories import make_category

    category = make_category("Corporate engagement")
    for change in ({"category_id": category.id}, {"tags": ["training"]}):
        response = client.put(f"/t/-/{message.id}.json", json=change, headers=auth_headers(people["amira"]))
        assert response.status_code == 422, change
    db.session.expire_all()
    assert db.session.get(Topic, message.id).category_id is None


def test_profiles_say_who_may_be_written_to(client, auth_headers, people):
    seen_by_amira = client.get("/u/sipho.json", headers=auth_headers(people["amira"])).json["user"]
    assert (seen_by_amira["can_send_private_messages"], seen_by_amira["can_send_private_message_to_user"]) == (True, True)
    own = client.get("/u/amira.json", headers=auth_headers(people["amira"])).json["user"]
    assert own["can_send_private_message_to_user"] is False
    anonymous = client.get("/u/sipho.json").json["user"]
    assert (anonymous["can_send_private_messages"], anonymous["can_send_private_message_to_user"]) == (False, False)


def test_target_usernames_is_still_understood_and_recipients_alone_make_a_message(client, auth_headers, people):
    older = client.post("/posts.json", json={"title": TITLE, "raw": BODY, "target_usernames": "sipho,yanyan"},
                        headers=auth_headers(people["amira"]))
    assert older.status_code == 200, older.json
    topic = db.session.get(Topic, older.json["topic_id"])
    assert topic.archetype == "private_message"
    assert client.get(f"/t/{topic.id}.json", headers=auth_headers(people["yanyan"])).status_code == 200


# Invitations (POST /t/{id}/invite.json).


def invite(client, auth_headers, inviter, topic_id, **body):
    return client.post(f"/t/{topic_id}/invite.json", json=body, headers=auth_headers(inviter))


def notifications_of(user) -> list[tuple[int, int]]:
    db.session.expire_all()
    return [(item.notification_type, item.post_number)
            for item in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_one_of_its_people_invites_another_who_is_told_once(client, auth_headers, people, message):
    response = invite(client, auth_headers, people["sipho"], message.id, user="YanYan")
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/t/{id}/invite.json")
    assert response.json["user"]["username"] == "yanyan"
    assert client.get(f"/t/{message.id}.json", headers=auth_headers(people["yanyan"])).status_code == 200
    assert notifications_of(people["yanyan"]) == [(NotificationType.INVITED_TO_PRIVATE_MESSAGE, 1)]
    again = invite(client, auth_headers, people["amira"], message.id, user="yanyan")
    assert again.status_code == 200
    assert notifications_of(people["yanyan"]) == [(NotificationType.INVITED_TO_PRIVATE_MESSAGE, 1)]


def test_nobody_outside_a_message_invites_to_it(client, auth_headers, people, moderator, message, make_user):
    outsider = make_user(username="outsider")
    for inviter in (people["yanyan"], moderator):
        assert invite(client, auth_headers, inviter, message.id, user="outsider").status_code == 404
    assert invite(client, auth_headers, None, message.id, user="outsider").status_code == 403
    assert client.get(f"/t/{message.id}.json", headers=auth_headers(outsider)).status_code == 404


def test_a_message_takes_no_more_people_than_its_limit(client, auth_headers, people, make_user):
    names = [make_user(username=f"crowd{index}").username for index in range(30)]
    response = send(client, auth_headers, people["amira"], ",".join(names))
    assert response.status_code == 200, response.json
    refused = invite(client, auth_headers, people["amira"], response.json["topic_id"], user="sipho")
    assert refused.status_code == 422 and "at most 30" in refused.json["errors"][0]


def test_an_invitation_to_a_topic_tells_a_member_who_may_read_it(client, auth_headers, people, moderator):
    from tests.api.factories import make_category

    topic = topics.create_topic(people["amira"], title="Trainings for supplier managers", raw="Who has run one, and how?")
    assert invite(client, auth_headers, people["amira"], topic.id, user="sipho").status_code == 200
    assert notifications_of(people["sipho"]) == [(NotificationType.INVITED_TO_TOPIC, 1)]
    staff_room = make_category("Staff room", restricted_to=(moderator,))
    restricted = topics.create_topic(moderator, title="Planning the next audit visit", raw="Only staff read this.",
                                     category=staff_room)
    refused = invite(client, auth_headers, moderator, restricted.id, user="sipho")
    assert refused.status_code == 422 and "may not read" in refused.json["errors"][0]
    assert notifications_of(people["sipho"]) == [(NotificationType.INVITED_TO_TOPIC, 1)]


@pytest.mark.parametrize("body, status", [
    ({}, 400),
    ({"email": "someone@example.org"}, 403),  # an invitation to join the forum: staff's to send (see test_invites)
    ({"user": "nobody_by_that_name"}, 422),
    ({"user": "system"}, 403),
    ({"user": "amira"}, 403),  # oneself
])
def test_bad_invitations_are_refused(client, auth_headers, people, message, body, status):
    before = count(topic_allowed_users)
    response = invite(client, auth_headers, people["amira"], message.id, **body)
    assert response.status_code == status, response.json
    assert response.json["errors"] and response.json["error_type"]
    assert count(topic_allowed_users) == before


@pytest.mark.parametrize("as_form, recipients, expected", [
    (True, "sipho", {"amira", "sipho"}),  # target_recipients[]=sipho
    (False, ["sipho", "yanyan"], {"amira", "sipho", "yanyan"}),
])
def test_recipients_sent_in_any_shape_never_make_a_public_topic(client, auth_headers, people, as_form, recipients, expected):
    headers = auth_headers(people["amira"])
    sent = (client.post("/posts.json", data={"title": TITLE, "raw": BODY, "target_recipients[]": recipients}, headers=headers)
            if as_form else client.post("/posts.json", json={"title": TITLE, "raw": BODY, "target_recipients": recipients},
                                        headers=headers))
    assert sent.status_code == 200, sent.json
    topic = db.session.get(Topic, sent.json["topic_id"])
    assert topic.archetype == "private_message"
    assert client.get(f"/t/{topic.id}.json").status_code == 404
    among = set(db.session.scalars(select(topic_allowed_users.c.user_id).where(topic_allowed_users.c.topic_id == topic.id)))
    assert among == {people[name].id for name in expected}


def test_an_empty_list_of_recipients_makes_nothing(client, auth_headers, people):
    sent = client.post("/posts.json", json={"title": TITLE, "raw": BODY, "target_recipients": []},
                       headers=auth_headers(people["amira"]))
    assert sent.status_code == 422 and "at least one recipient" in sent.json["errors"][0]
    assert count(Topic) == 0


@pytest.mark.parametrize("extra", [{"archetype": "private_message"}, {"target_recipients": "sipho"}])
def test_a_private_reply_to_a_public_topic_is_refused_not_published(client, auth_headers, people, extra):
    public = topics.create_topic(people["amira"], title="Trainings for supplier managers", raw="Who has run one, and how?")
    response = client.post("/posts.json", json={"topic_id": public.id, "raw": "Secret, only for sipho to read here.", **extra},
                           headers=auth_headers(people["amira"]))
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"
    assert db.session.scalar(select(func.count()).where(Post.topic_id == public.id)) == 1


def test_a_reply_in_a_message_may_say_it_is_private(client, auth_headers, people, message):
    response = client.post("/posts.json", json={"topic_id": message.id, "raw": "Thursday works for me, at ten.",
                                                "archetype": "private_message"}, headers=auth_headers(people["sipho"]))
    assert response.status_code == 200, response.json
    assert response.json["topic_id"] == message.id
    assert db.session.scalar(select(func.count()).where(Post.topic_id == message.id)) == 2


def test_an_admin_mentioned_in_a_message_is_told_nothing(people, make_user, message):
    admin = make_user(Role.ADMIN, "admin")
    reply = posts.create_reply(people["sipho"], message, raw="Should we ask @admin about this? Not yet, I think.")
    notifications.notify_about_post(reply.id)
    assert db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all() == []
    told = db.session.scalars(select(Notification.user_id).where(Notification.post_number == reply.post_number)).all()
    assert told == [people["amira"].id]  # the message's other person is told as ever


def test_messages_and_invitations_are_rate_limited_per_member_and_replies_are_not(app, people, message):
    from forum.services import users
    from tests.api.test_session import limits_on

    key = users.create_api_key(people["amira"], created_by=people["amira"])[1]
    headers = {"Api-Key": key, "Api-Username": "amira"}
    body = {"title": TITLE, "raw": BODY, "target_recipients": "sipho"}
    with limits_on(app, MESSAGE_RATE_LIMIT="2 per hour", INVITE_RATE_LIMIT="1 per hour") as limited:
        assert [limited.post("/posts.json", json=body, headers=headers).status_code for _ in range(3)] == [200, 200, 429]
        reply = {"topic_id": message.id, "raw": "A reply is not a new message to anyone."}
        assert [limited.post("/posts.json", json=reply, headers=headers).status_code for _ in range(3)] == [200, 200, 200]
        public = {"title": "Trainings for supplier managers", "raw": "Who has run one, and how did it go?"}
        assert limited.post("/posts.json", json=public, headers=headers).status_code == 200
        invitations = [limited.post(f"/t/{message.id}/invite.json", json={"user": "yanyan"}, headers=headers).status_code
                       for _ in range(2)]
    assert invitations == [200, 429]


def test_its_people_search_it_with_in_messages_and_nobody_else_finds_it(client, auth_headers, people, message, make_user):
    public = topics.create_topic(people["yanyan"], title="The grievance desk at the mine, in public",
                                 raw="The grievance desk should answer within a week.")

    def found(viewer, q):
        response = client.get("/search.json", query_string={"q": q}, headers=auth_headers(viewer))
        assert response.status_code == 200, response.json
        assert_matches_spec(response, "get", "/search.json")
        return [post["topic_id"] for post in response.json["posts"]]

    assert found(people["sipho"], "grievance desk in:messages") == [message.id]
    assert found(people["sipho"], "in:personal") == [message.id]  # the operator alone lists them
    assert found(people["sipho"], "grievance desk") == [public.id]
    for outsider in (people["yanyan"], make_user(Role.ADMIN, "admin"), None):
        assert found(outsider, "grievance desk in:messages") == []


# Leaving a message, and taking someone out of it (PUT /t/{id}/remove-allowed-user.json).


def remove(client, auth_headers, actor, topic_id, username):
    return client.put(f"/t/{topic_id}/remove-allowed-user.json", json={"username": username}, headers=auth_headers(actor))


def test_one_leaves_a_message_and_may_no_longer_open_it(client, auth_headers, people, message):
    details = client.get(f"/t/{message.id}.json", headers=auth_headers(people["sipho"])).json["details"]
    assert (details["can_remove_self_id"], details["can_remove_allowed_users"]) == (people["sipho"].id, False)
    author_view = client.get(f"/t/{message.id}.json", headers=auth_headers(people["amira"])).json["details"]
    assert author_view["can_remove_allowed_users"] is True
    posts.create_reply(people["sipho"], message, raw="I will say this once, and then leave.")
    assert remove(client, auth_headers, people["sipho"], message.id, "sipho").json == {"success": "OK"}
    assert client.get(f"/t/{message.id}.json", headers=auth_headers(people["sipho"])).status_code == 404
    assert client.get("/topics/private-messages/sipho.json", headers=auth_headers(people["sipho"])).json["topic_list"]["topics"] == []
    kept = client.get(f"/t/{message.id}.json", headers=auth_headers(people["amira"])).json
    assert kept["posts_count"] == 2  # what they wrote stays
    later = posts.create_reply(people["amira"], message, raw="Noted; thank you for the warning.")
    notifications.notify_about_post(later.id)
    assert db.session.scalars(select(Notification).where(Notification.user_id == people["sipho"].id)).all() == []


def test_only_the_author_or_an_admin_takes_others_out(client, auth_headers, people, message, make_user):
    assert invite(client, auth_headers, people["amira"], message.id, user="yanyan").status_code == 200
    refused = remove(client, auth_headers, people["sipho"], message.id, "yanyan")
    assert refused.status_code == 403 and refused.json["errors"]
    assert remove(client, auth_headers, people["amira"], message.id, "yanyan").status_code == 200
    assert client.get(f"/t/{message.id}.json", headers=auth_headers(people["yanyan"])).status_code == 404
    admin = make_user(Role.ADMIN, "admin")
    assert remove(client, auth_headers, admin, message.id, "sipho").status_code == 200
    assert remove(client, auth_headers, admin, message.id, "sipho").status_code == 422  # not among them now
    assert remove(client, auth_headers, admin, message.id, "amira").status_code == 403  # the author stays
    assert remove(client, auth_headers, people["amira"], message.id, "amira").status_code == 200  # unless they leave
    public = topics.create_topic(people["amira"], title="Trainings for supplier managers", raw="Who has run one, and how?")
    assert remove(client, auth_headers, people["amira"], public.id, "sipho").status_code == 422
    assert remove(client, auth_headers, people["amira"], message.id, "nobody_by_that_name").status_code == 404
    assert client.put(f"/t/{message.id}/remove-allowed-user.json", json={}, headers=auth_headers(people["amira"])).status_code == 400


def test_staff_who_may_not_open_a_message_count_none_of_its_likes(client, auth_headers, people, moderator, message, make_user):
    from forum.services import post_actions

    reply = posts.create_reply(people["sipho"], message, raw="Thursday works for me, at ten.")
    post_actions.like(people["amira"], reply)
    admin = make_user(Role.ADMIN, "admin")

    def likes(viewer):
        shown = client.get(f"/admin/users/{people['sipho'].id}.json", headers=auth_headers(viewer)).json
        return shown["like_count"]

    assert (likes(admin), likes(moderator)) == (1, 0)
