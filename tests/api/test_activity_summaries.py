"""Activity summaries (Discourse's digest mail): a member away longer than their digest_after_minutes is mailed the new
topics, the topics with new replies and their unread notifications; once per span, only what they may see, and never
an empty summary."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import NotificationLevel, Post, PostType, Role, Topic, User
from forum.models.base import utcnow
from forum.services import activity_summaries, notifications, posts, reading, sessions, topics, unsubscribes
from tests.api.factories import make_category, set_columns
from tests.api.test_session import sign_in
from tests.conftest import wait_until

WEEK = timedelta(minutes=activity_summaries.DEFAULT_FREQUENCY)


def away(user: User, for_: timedelta) -> None:
    """The member was last there ``for_`` ago; their account is older still."""
    set_columns(User, user.id, last_seen_at=utcnow() - for_, created_at=utcnow() - for_ - timedelta(days=30))


def written_before(topic: Topic, ago: timedelta) -> None:
    """The topic and its posts so far were written ``ago``."""
    set_columns(Topic, topic.id, created_at=utcnow() - ago)
    for post_id in db.session.scalars(select(Post.id).where(Post.topic_id == topic.id)).all():
        set_columns(Post, post_id, created_at=utcnow() - ago)


def summary_of(user: User):
    db.session.expire_all()
    user = db.session.get(User, user.id)
    return activity_summaries.summary_for(user, activity_summaries._since(user, utcnow()))


def due_ids() -> set[int]:
    """The members a run claims now (each claim recorded, as a run's is)."""
    before = utcnow()
    activity_summaries.send_due(limit=1000)
    db.session.expire_all()
    return set(db.session.scalars(select(User.id).where(User.digest_attempted_at >= before)))


@pytest.fixture
def others(make_user):
    return make_user(username="sipho"), make_user(username="yanyan")


# What a summary tells.


def test_new_topics_and_new_replies_the_busiest_first(member, others):
    sipho, yanyan = others
    old = topics.create_topic(member, title="Codes of conduct with mining firms", raw="What did the codes change?")
    quiet_old = topics.create_topic(sipho, title="Trainings for supplier managers", raw="Who ran them, and for whom?")
    written_before(old, 2 * WEEK)
    written_before(quiet_old, 2 * WEEK)
    away(member, WEEK + timedelta(hours=1))
    posts.create_reply(sipho, old, raw="The code made audits public.")
    posts.create_reply(yanyan, old, raw="And it named the suppliers.")
    posts.create_reply(yanyan, quiet_old, raw="We ran them in Bogotá.")
    busy = topics.create_topic(yanyan, title="A carrotmob at the corner shop", raw="Forty neighbours came and bought.")
    posts.create_reply(sipho, busy, raw="How did you choose the shop?")
    lone = topics.create_topic(sipho, title="Restorative circles after a spill", raw="The firm met the fishers at last.")

    summary = summary_of(member)
    assert [(item.topic.id, item.new_posts, item.first_new_post_number) for item in summary.new_topics] == [
        (busy.id, 2, 1), (lone.id, 1, 1)]
    assert summary.new_topics[0].excerpt == "Forty neighbours came and bought."
    assert [(item.topic.id, item.new_posts, item.first_new_post_number) for item in summary.active_topics] == [
        (old.id, 2, 2), (quiet_old.id, 1, 2)]
    assert (summary.new_topics[0].path, summary.active_topics[0].path) == (f"/t/{busy.slug}/{busy.id}", f"/t/{old.slug}/{old.id}/2")
    assert summary.unread_notifications == 0  # notifications are made by a worker: none was here

    posts.create_reply(sipho, old, raw="@member what do you think?")
    notifications.notify_about_post(db.session.scalars(select(Post.id).where(Post.topic_id == old.id)
                                                       .order_by(Post.post_number.desc())).first())
    assert summary_of(member).unread_notifications == 1


def test_only_what_others_wrote_and_the_member_may_see(member, others, moderator, make_user):
    sipho, _ = others
    away(member, WEEK + timedelta(hours=1))
    topics.create_topic(member, title="My own question on buycotts", raw="Written through the API while away.")
    hidden_room = make_category("Staff room", restricted_to=(moderator,))
    topics.create_topic(moderator, title="Restricted planning for the audit", raw="Only for the staff to read.", category=hidden_room)
    muted = topics.create_topic(sipho, title="A topic the member muted at once", raw="Nothing to tell the member here.")
    reading.set_notification_level(member, muted.id, NotificationLevel.MUTED)
    shown = topics.create_topic(sipho, title="Membership associations and dues", raw="Dues fund the audits.")
    whisper = posts.create_reply(moderator, shown, raw="A whisper among staff.")
    set_columns(Post, whisper.id, post_type=PostType.WHISPER)
    hidden = posts.create_reply(sipho, shown, raw="Hidden by flags since it was written.")
    set_columns(Post, hidden.id, hidden_at=utcnow())
    deleted = posts.create_reply(sipho, shown, raw="Deleted by its author.")
    posts.delete_post(sipho, deleted)
    message = topics.create_topic(sipho, title="A private word about the audit", raw="Between the two of us, please.",
                                  private_to=[moderator])

    summary = summary_of(member)
    assert [(item.topic.id, item.new_posts) for item in summary.new_topics] == [(shown.id, 1)]
    assert summary.active_topics == []
    told_the_moderator = {item.topic.id for item in summary_of(moderator).new_topics}
    assert message.id not in told_the_moderator  # even to one of its people: it has its own notification
    admin = make_user(Role.ADMIN, "admin")
    away(admin, WEEK + timedelta(hours=1))
    told_staff = {item.topic.title: item.new_posts for item in summary_of(admin).new_topics}
    assert told_staff == {"Restricted planning for the audit": 1, "Membership associations and dues": 2,
                          "My own question on buycotts": 1, "A topic the member muted at once": 1}


def test_the_summary_starts_when_the_member_was_last_there_or_last_summarised(member, others):
    sipho, _ = others
    away(member, 3 * WEEK)
    before_the_last_summary = topics.create_topic(sipho, title="Told in the last summary", raw="Written two weeks ago, told then.")
    written_before(before_the_last_summary, 2 * WEEK)
    set_columns(User, member.id, digest_attempted_at=utcnow() - WEEK - timedelta(hours=1))
    after_it = topics.create_topic(sipho, title="Not told in any summary yet", raw="Written since that summary went out.")
    assert [item.topic.id for item in summary_of(member).new_topics] == [after_it.id]


def test_nothing_is_mailed_when_there_is_nothing_to_tell(member, others):
    sipho, _ = others
    away(member, WEEK + timedelta(hours=1))
    since = utcnow() - WEEK
    assert activity_summaries.mail_summary(member.id, since) is False
    topics.create_topic(sipho, title="A carrotmob at the corner shop", raw="Forty neighbours came and bought.")
    assert activity_summaries.mail_summary(member.id, since) is True
    set_columns(User, member.id, email=None)
    assert activity_summaries.mail_summary(member.id, since) is False


def test_a_summary_reaches_back_one_span_at_most(member, others):
    sipho, _ = others
    away(member, 10 * WEEK)
    long_ago = topics.create_topic(sipho, title="Written while the member was away", raw="Nine weeks ago, this was new.")
    written_before(long_ago, 9 * WEEK)
    recent = topics.create_topic(sipho, title="Written in the last week", raw="Only days ago, this was new.")
    summary = summary_of(member)
    assert [item.topic.id for item in summary.new_topics] == [recent.id]
    assert summary.since >= utcnow() - WEEK - timedelta(minutes=1)


# Who is due.


@pytest.mark.parametrize("absence, minutes, attempted_ago, due", [
    (WEEK + timedelta(minutes=1), 10080, None, True),
    (WEEK - timedelta(minutes=5), 10080, None, False),  # back within the week
    (WEEK + timedelta(minutes=1), 10080, WEEK - timedelta(minutes=5), False),  # summarised within the week
    (WEEK + timedelta(minutes=1), 10080, WEEK + timedelta(minutes=1), True),
    (timedelta(days=2), 1440, None, True),  # daily
    (timedelta(days=2), 10080, None, False),
])
def test_a_member_is_due_when_away_for_their_span_and_not_summarised_within_it(member, absence, minutes, attempted_ago, due):
    away(member, absence)
    set_columns(User, member.id, digest_after_minutes=minutes,
                digest_attempted_at=None if attempted_ago is None else utcnow() - attempted_ago)
    assert (member.id in due_ids()) is due


def test_nobody_is_claimed_twice_and_nobody_who_cannot_or_would_not_be_mailed(make_user, moderator):
    wants, declined, suspended, bot, no_address = (make_user(username=name) for name in
                                                  ("wants", "declined", "suspended", "botlike", "noaddress"))
    for user in (wants, declined, suspended, bot, no_address):
        away(user, 2 * WEEK)
    set_columns(User, declined.id, email_digests=False)
    set_columns(User, suspended.id, suspended_till=utcnow() + WEEK)
    set_columns(User, bot.id, is_bot=True)
    set_columns(User, no_address.id, email=None)
    assert due_ids() == {wants.id}
    assert activity_summaries.send_due(limit=1000) == 0  # claimed: not due again within the week


def test_two_runs_at_once_claim_each_member_once(app, make_user, monkeypatch):
    import time

    from tests.conftest import run_together

    members = [make_user(username=f"raced{index}") for index in range(4)]
    for user in members:
        away(user, 2 * WEEK)
    claimed = []
    since = activity_summaries._since

    def slow_since(user, now):  # a claim held open a while, so that the other run looks for members meanwhile
        time.sleep(0.05)
        return since(user, now)

    monkeypatch.setattr(activity_summaries, "_since", slow_since)

    def run(start):
        start()
        claimed.append(activity_summaries.send_due(limit=1000))

    assert run_together(app, run, [(), ()]) == []
    assert sum(claimed) == len(members)


def test_a_run_claims_at_most_its_limit(make_user):
    members = [make_user(username=f"away{index}") for index in range(3)]
    for user in members:
        away(user, 2 * WEEK)
    assert activity_summaries.send_due(limit=2) == 2
    assert activity_summaries.send_due(limit=2) == 1


# Preferences.


def test_a_member_sets_their_summary_preferences_and_sees_them(client, auth_headers, member, moderator, make_user):
    def option(user, viewer):
        return client.get(f"/u/{user.username}.json", headers=auth_headers(viewer)).json["user"]["user_option"]

    assert (option(member, member)["email_digests"], option(member, member)["digest_after_minutes"]) == (True, 10080)
    response = client.put("/u/member.json", json={"digest_after_minutes": 1440}, headers=auth_headers(member))
    assert response.status_code == 200 and response.json["user"]["user_option"]["digest_after_minutes"] == 1440
    assert client.put("/u/member.json", data={"digest_after_minutes": "0"}, headers=auth_headers(member)).status_code == 200
    assert (option(member, member)["email_digests"], option(member, member)["digest_after_minutes"]) == (False, 1440)
    assert option(member, moderator)["email_digests"] is False  # staff see a member's own
    assert option(member, make_user(username="neighbour"))["email_digests"] is True  # others, the forum's default
    again = client.put("/u/member.json", json={"email_digests": True}, headers=auth_headers(member))
    assert again.json["user"]["user_option"]["email_digests"] is True

    for refused in ({"digest_after_minutes": 45}, {"digest_after_minutes": -1}, {"email_digests": "maybe"}):
        response = client.put("/u/member.json", json=refused, headers=auth_headers(member))
        assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters", refused
    not_theirs = client.put("/u/member.json", json={"email_digests": False}, headers=auth_headers(moderator))
    assert not_theirs.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, member.id).email_digests is True


def test_the_summary_unsubscribe_link_stops_summaries_only(app, member):
    key = unsubscribes.link_for(member, unsubscribes.MailKind.ACTIVITY_SUMMARIES).rsplit("/", 1)[1]
    page = app.test_client().get(f"/email/unsubscribe/{key}")
    assert "Stop mailing <strong>member</strong> their activity summaries?" in page.get_data(as_text=True)
    done = app.test_client().post(f"/email/unsubscribe/{key}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "is mailed no more activity summaries" in done.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(User, member.id)
    assert (stored.email_digests, stored.email_level) == (False, 1)


def test_a_link_mailed_before_summaries_still_stops_notifications(app, member):
    from itsdangerous import URLSafeSerializer

    key = URLSafeSerializer(app.config["SECRET_KEY"], salt="forum.unsubscribe").dumps(
        [member.id, member.created_at.isoformat()])
    response = app.test_client().post(f"/email/unsubscribe/{key}", data={"List-Unsubscribe": "One-Click"})
    assert "is mailed no more notifications" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, member.id).email_level == 2


# Being there.


def test_a_signed_in_member_is_seen_as_they_come_back_not_on_every_request(app, member):
    client = app.test_client()
    assert sign_in(client, "member").status_code == 200
    set_columns(User, member.id, last_seen_at=utcnow() - WEEK)
    client.get("/latest.json")
    db.session.expire_all()
    seen = db.session.get(User, member.id).last_seen_at
    assert seen > utcnow() - timedelta(minutes=1)
    set_columns(User, member.id, last_seen_at=seen - sessions.SEEN_PRECISION / 2)
    client.get("/latest.json")
    db.session.expire_all()
    assert db.session.get(User, member.id).last_seen_at == seen - sessions.SEEN_PRECISION / 2


# The mail, by a real worker.


def test_a_worker_mails_the_summary(make_user, worker, inbox, instance_path):
    from bots.tasks import send_activity_summaries

    reader = make_user(username="summary_reader")  # an address no other test mails: the inbox lasts the whole session
    sipho = make_user(username="summary_writer")
    away(reader, WEEK + timedelta(hours=1))
    topic = topics.create_topic(sipho, title="Buycotts that rewarded fair employers", raw="Shoppers chose the fair shop.")
    posts.create_reply(sipho, topic, raw="It sold out by noon that day.")
    send_activity_summaries.delay()
    describe = lambda: (instance_path / "worker.log").read_text()[-3000:]  # noqa: E731
    (message,) = wait_until(lambda: inbox.to("summary_reader@example.com"), timeout=60, describe=describe)
    assert message["Subject"].startswith("[forum] Summary since ")
    body = message.get_content().replace("\r\n", "\n")
    assert "New topics\n- Buycotts that rewarded fair employers: 2 new posts" in body
    assert f"/t/{topic.slug}/{topic.id}\n  Shoppers chose the fair shop." in body
    unsubscribe = re.search(r"http://\S+/email/unsubscribe/\S+", body).group(0)
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert "every week you are away" in body
    assert worker.poll() is None, "the worker died"


def test_a_summary_that_fails_costs_only_its_member(make_user, others, monkeypatch, caplog):
    sipho, _ = others
    unlucky, lucky = make_user(username="unlucky"), make_user(username="lucky")
    for user in (unlucky, lucky):
        away(user, WEEK + timedelta(hours=1))
    topics.create_topic(sipho, title="A carrotmob at the corner shop", raw="Forty neighbours came and bought.")
    made = []
    real_summary_for = activity_summaries.summary_for

    def failing_for_one(user, since):  # a fault injected for one member: the run must go on to the next
        if user.id == unlucky.id:
            raise RuntimeError("the summary of this member could not be made")
        made.append(user.id)
        return real_summary_for(user, since)

    monkeypatch.setattr(activity_summaries, "summary_for", failing_for_one)
    assert activity_summaries.send_due(limit=100) >= 2
    assert lucky.id in made
    assert "The activity summary of user %s could not be made" % unlucky.id in caplog.text
