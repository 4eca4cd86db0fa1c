"""Invitations to join (Discourse's POST /invites): staff invite an address (mailed) or make a link to share; the link
makes the account, active at once when the mail proved the address, in the invitation's groups and pointed to its
topic; once, or as many times as a shared link allows, before it expires or is withdrawn. INVITE_ONLY closes the
sign-up form to everyone else."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import EmailToken, EmailTokenPurpose, Invite, Role, User, group_users, invited_users
from forum.models.base import utcnow
from forum.services.errors import NotFound
from forum.services import groups, secret_tokens, topics
from tests.api.factories import set_columns
from tests.api.spec import assert_matches_spec
from tests.api.test_session import csrf, signed_in_username
from tests.api.test_users import NEW_ACCOUNT, browser_signup
from tests.conftest import run_together, wait_until

PASSWORD = "a long enough password"


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, "admin")


def create(client, auth_headers, actor, **body):
    return client.post("/invites.json", json=body, headers=auth_headers(actor))


def key_of(response) -> str:
    return response.json["link"].rsplit("/", 1)[1]


def redeem(client, key, **body):
    return client.put(f"/invites/show/{key}.json", json={"password": PASSWORD, **body},
                      headers={"X-CSRF-Token": csrf(client)})


def activation_links(user: User) -> int:
    """How many activation links the account was mailed that still work."""
    return db.session.scalar(select(func.count()).select_from(EmailToken).where(
        EmailToken.user_id == user.id, EmailToken.purpose == EmailTokenPurpose.ACTIVATION, EmailToken.used_at.is_(None)))


def account(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username_lower == username.lower()))


def mailed_proof(invite_id: int) -> str:
    """What the mailed link's ``t`` would be for the invitation (the mail is the only place it is ever written)."""
    proof = "proof-of-the-address-" + str(invite_id)
    set_columns(Invite, invite_id, email_token_hash=secret_tokens.digest(proof))
    return proof


def test_the_mailed_link_makes_an_active_account_signed_in_and_pointed_to_the_topic(app, client, auth_headers, moderator):
    topic = topics.create_topic(moderator, title="How do organisations work with companies?", raw="What has worked so far?")
    made = create(client, auth_headers, moderator, email="Nadia@NGO.example.org", custom_message="Join our dialogue.",
                  topic_id=topic.id, skip_email=True)
    assert made.status_code == 200, made.json
    assert_matches_spec(made, "post", "/invites.json")
    assert (made.json["email"], made.json["emailed"], made.json["topics"][0]["id"]) == ("nadia@ngo.example.org", False, topic.id)
    assert made.json["invite_key"] == key_of(made)

    visitor = app.test_client()
    joined = redeem(visitor, key_of(made), username="nadia_r", name="Nadia R.", email_token=mailed_proof(made.json["id"]))
    assert joined.status_code == 200, joined.json
    assert joined.json["success"] is True and joined.json["redirect_to"] == f"/t/{topic.slug}/{topic.id}"
    nadia = account("nadia_r")
    assert (nadia.email, nadia.active, nadia.role) == ("nadia@ngo.example.org", True, "member")
    assert signed_in_username(visitor) == "nadia_r"
    again = redeem(app.test_client(), key_of(made), username="someone_else")
    assert again.status_code == 404 and account("someone_else") is None


@pytest.mark.parametrize("email_token", [None, "a guess"])
def test_the_key_alone_as_the_inviter_holds_it_proves_no_address(app, client, auth_headers, moderator, email_token):
    made = create(client, auth_headers, moderator, email="ceo@victim.example", skip_email=True)
    mailed_proof(made.json["id"])
    visitor = app.test_client()
    joined = redeem(visitor, key_of(made), username="not_the_ceo", email_token=email_token)
    assert joined.status_code == 200 and "waits for its activation" in joined.json["message"]
    assert account("not_the_ceo").active is False and signed_in_username(visitor) is None


def test_where_staff_vet_every_account_only_a_staff_invitation_lets_one_in_at_once(app, client, auth_headers, member,
                                                                                     moderator):
    app.config.update(INVITES_BY_MEMBERS=True, SIGNUP_ACTIVATION="staff")
    try:
        made = create(client, auth_headers, member, email="friend@example.org", skip_email=True)
        redeem(app.test_client(), key_of(made), username="members_friend", email_token=mailed_proof(made.json["id"]))
        assert account("members_friend").active is False
        assert activation_links(account("members_friend")) == 0  # staff activate it; no mail does
        by_staff = create(client, auth_headers, moderator, email="vetted@example.org", skip_email=True)
        redeem(app.test_client(), key_of(by_staff), username="staffs_guest", email_token=mailed_proof(by_staff.json["id"]))
        assert account("staffs_guest").active is True
    finally:
        app.config.update(INVITES_BY_MEMBERS=False, SIGNUP_ACTIVATION="email")


def test_an_address_invitation_is_for_that_address_only(app, client, auth_headers, moderator):
    key = key_of(create(client, auth_headers, moderator, email="nadia@ngo.example.org", skip_email=True))
    refused = redeem(app.test_client(), key, username="nadia_r", email="other@ngo.example.org")
    assert refused.status_code == 422 and "another address" in refused.json["errors"][0]
    assert account("nadia_r") is None


def test_a_shared_link_makes_as_many_accounts_as_it_allows_each_waiting_for_its_mail(app, client, auth_headers, admin):
    circle = groups.create_group(admin, name="circle_members")
    made = create(client, auth_headers, admin, max_redemptions_allowed=2, group_names="circle_members")
    assert made.status_code == 200, made.json
    assert made.json["email"] == "" and made.json["groups"] == [{"id": circle.id, "name": "circle_members"}]
    for number in (1, 2):
        joined = redeem(app.test_client(), key_of(made), username=f"joiner{number}", email=f"joiner{number}@example.org")
        assert joined.status_code == 200, joined.json
        assert "waits for its activation" in joined.json["message"]
        assert account(f"joiner{number}").active is False  # the address is not proven yet
        assert activation_links(account(f"joiner{number}")) == 1  # mailed to it, as any sign-up's
    refused = redeem(app.test_client(), key_of(made), username="joiner3", email="joiner3@example.org")
    assert refused.status_code == 404 and account("joiner3") is None
    members = set(db.session.scalars(select(group_users.c.user_id).where(group_users.c.group_id == circle.id)))
    assert members == {account("joiner1").id, account("joiner2").id}
    missing_email = redeem(app.test_client(), key_of(create(client, auth_headers, admin)), username="joiner4")
    assert missing_email.status_code == 422 and account("joiner4") is None


def test_an_invitation_stops_working_once_expired_withdrawn_or_its_inviter_may_no_longer_invite(
        app, client, auth_headers, moderator, member, admin, make_user):
    expired = create(client, auth_headers, moderator, email="late@example.org", skip_email=True)
    set_columns(Invite, expired.json["id"], expires_at=utcnow() - timedelta(minutes=1))
    assert redeem(app.test_client(), key_of(expired), username="late_one").status_code == 404
    withdrawn = create(client, auth_headers, moderator, email="withdrawn@example.org", skip_email=True)
    assert client.delete("/invites.json", json={"id": withdrawn.json["id"]}, headers=auth_headers(member)).status_code == 404
    assert client.delete("/invites.json", json={"id": withdrawn.json["id"]}, headers=auth_headers(moderator)).json == {"success": "OK"}
    assert redeem(app.test_client(), key_of(withdrawn), username="withdrawn_one").status_code == 404
    by_another = create(client, auth_headers, moderator, email="other@example.org", skip_email=True)
    assert client.delete("/invites.json", json={"id": by_another.json["id"]}, headers=auth_headers(admin)).status_code == 200
    assert redeem(app.test_client(), key_of(by_another), username="other_one").status_code == 404
    demoted = make_user(Role.MODERATOR, "demoted_mod")
    from_demoted = create(client, auth_headers, demoted, email="orphan@example.org", skip_email=True)
    set_columns(User, demoted.id, role=Role.MEMBER)
    assert redeem(app.test_client(), key_of(from_demoted), username="orphan_one").status_code == 404


def test_a_new_invitation_replaces_only_the_inviters_own_earlier_one(app, client, auth_headers, moderator, make_user):
    other = make_user(Role.MODERATOR, "other_mod")
    first = create(client, auth_headers, moderator, email="twice@example.org", skip_email=True)
    others = create(client, auth_headers, other, email="twice@example.org", skip_email=True)
    newer = create(client, auth_headers, moderator, email="twice@example.org", skip_email=True)
    assert redeem(app.test_client(), key_of(first), username="twice_old").status_code == 404
    assert redeem(app.test_client(), key_of(others), username="twice_others").status_code == 200
    db.session.expire_all()
    assert db.session.get(Invite, newer.json["id"]).withdrawn_at is None


def test_groups_come_only_while_the_inviter_is_an_admin_and_the_topic_only_while_they_may_see_it(
        app, client, auth_headers, admin, moderator):
    from tests.api.factories import make_category

    circle = groups.create_group(admin, name="circle_members")
    topic = topics.create_topic(admin, title="How do organisations work with companies?", raw="What has worked so far?")
    made = create(client, auth_headers, admin, max_redemptions_allowed=2, group_names="circle_members", topic_id=topic.id)
    assert made.status_code == 200, made.json
    set_columns(User, admin.id, role=Role.MODERATOR)  # staff still, no longer an admin
    shown = app.test_client().get(f"/invites/{key_of(made)}")
    assert shown.status_code == 200 and "How do organisations work with companies?" in shown.get_data(as_text=True)
    joined = redeem(app.test_client(), key_of(made), username="after_demotion", email="after@example.org")
    assert joined.status_code == 200 and joined.json["redirect_to"] == f"/t/{topic.slug}/{topic.id}"
    assert db.session.scalars(select(group_users.c.user_id).where(group_users.c.group_id == circle.id)).all() == []
    staff_room = make_category("Staff room", restricted_to=(moderator,))
    set_columns(type(topic), topic.id, category_id=staff_room.id)
    set_columns(User, admin.id, role=Role.MEMBER)
    app.config["INVITES_BY_MEMBERS"] = True
    try:
        page = app.test_client().get(f"/invites/{key_of(made)}")
        assert page.status_code == 200  # the invitation still works,
        assert "How do organisations" not in page.get_data(as_text=True)  # without the title its inviter may no longer see
        second = redeem(app.test_client(), key_of(made), username="after_restriction", email="restricted@example.org")
        assert second.status_code == 200, second.json
        assert second.json["redirect_to"] == "/"
    finally:
        app.config["INVITES_BY_MEMBERS"] = False


@pytest.mark.parametrize("who, body, status", [
    (None, {"email": "x@example.org"}, 403),
    ("member", {"email": "x@example.org"}, 403),
    ("moderator", {"email": "not an address"}, 422),
    ("moderator", {"email": "member@example.com"}, 422),  # already has an account
    ("moderator", {"email": "x@example.org", "group_names": "circle"}, 403),  # groups are admins'
    ("admin", {"email": "x@example.org", "group_names": "no_such_group"}, 422),
    ("admin", {"email": "x@example.org", "group_ids": "12,abc"}, 400),
    ("moderator", {"max_redemptions_allowed": 0}, 400),
    ("moderator", {"max_redemptions_allowed": 101}, 400),
    ("moderator", {"email": "x@example.org", "expires_at": "2001-01-01T00:00:00Z"}, 422),
    ("moderator", {"email": "x@example.org", "expires_at": "next week"}, 400),
    ("moderator", {"email": "x@example.org", "custom_message": "x" * 1001}, 422),
    ("moderator", {"email": "x@example.org", "topic_id": 999999}, 404),
])
def test_bad_invitations_are_refused_and_nothing_is_stored(client, auth_headers, member, moderator, admin, who, body, status):
    actor = {"member": member, "moderator": moderator, "admin": admin}.get(who)
    response = create(client, auth_headers, actor, **body)
    assert response.status_code == status, response.json
    assert response.json["errors"] and response.json["error_type"]
    assert db.session.scalar(select(func.count()).select_from(Invite)) == 0


def test_members_invite_when_the_forum_lets_them_but_not_into_a_private_message(app, client, auth_headers, member):
    app.config["INVITES_BY_MEMBERS"] = True
    try:
        assert create(client, auth_headers, member, email="friend@example.org", skip_email=True).status_code == 200
        message = topics.create_topic(member, title="A private word about the audit", raw="Between the two of us, please.",
                                      private_to=[])
        refused = create(client, auth_headers, member, email="friend2@example.org", topic_id=message.id)
        assert refused.status_code == 422 and "cannot open a private message" in refused.json["errors"][0]
    finally:
        app.config["INVITES_BY_MEMBERS"] = False


def test_invite_only_closes_the_sign_up_form_but_not_the_invitations(app, client, auth_headers, moderator):
    app.config["INVITE_ONLY"] = True
    try:
        refused = browser_signup(app.test_client(), NEW_ACCOUNT)
        assert refused.status_code == 403 and "invitation only" in refused.json["errors"][0]
        key = key_of(create(client, auth_headers, moderator, email="invited@example.org", skip_email=True))
        assert redeem(app.test_client(), key, username="invited_one").status_code == 200
        by_staff = client.post("/users.json", json={**NEW_ACCOUNT, "username": "made_by_staff", "email": "staff_made@example.org"},
                               headers=auth_headers(moderator))
        assert by_staff.status_code == 200 and by_staff.json["success"] is True
    finally:
        app.config["INVITE_ONLY"] = False


def test_two_redeeming_the_last_place_at_once_make_one_account(app, client, auth_headers, moderator):
    from forum.services import invites

    key = key_of(create(client, auth_headers, moderator, max_redemptions_allowed=1))

    def join(start, number):
        start()
        invites.redeem(key, username=f"racer{number}", email=f"racer{number}@example.org", password=PASSWORD, name=None)

    errors = run_together(app, join, [(1,), (2,)])
    assert len(errors) == 1 and isinstance(errors[0], NotFound), errors
    assert db.session.scalar(select(func.count()).select_from(invited_users)) == 1


def test_the_invitation_page_shows_who_invites_and_its_form_makes_the_account(app, client, auth_headers, moderator):
    made = create(client, auth_headers, moderator, email="page@example.org", custom_message="<b>Welcome</b>", skip_email=True)
    key = key_of(made)
    visitor = app.test_client()
    page = visitor.get(f"/invites/{key}?t={mailed_proof(made.json['id'])}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "invites you to join" in text and "page@example.org" in text
    assert "&lt;b&gt;Welcome&lt;/b&gt;" in text and "<b>Welcome" not in text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = re.search(r'name="authenticity_token" value="([^"]+)"', text).group(1)
    proof = re.search(r'name="email_token" value="([^"]+)"', text).group(1)
    done = visitor.post(f"/invites/{key}", data={"authenticity_token": token, "email_token": proof,
                                                 "username": "page_joiner", "password": PASSWORD})
    assert done.status_code == 200 and "Welcome, page_joiner" in done.get_data(as_text=True)
    assert signed_in_username(visitor) == "page_joiner"
    assert app.test_client().get(f"/invites/{key}").status_code == 404
    assert app.test_client().get("/invites/not-a-key").status_code == 404


def test_create_multiple_is_staff_only_and_reports_each_address(client, auth_headers, moderator, member):
    body = {"email": ["one@example.org", "member@example.com", "two@example.org", "ONE@example.org"], "skip_email": True}
    assert client.post("/invites/create-multiple.json", json=body, headers=auth_headers(member)).status_code == 403
    response = client.post("/invites/create-multiple.json", json=body, headers=auth_headers(moderator))
    assert response.status_code == 200, response.json
    assert_matches_spec(response, "post", "/invites/create-multiple.json")
    assert (response.json["num_successfully_created_invitations"], response.json["num_failed_invitations"]) == (2, 1)
    assert response.json["failed_invitations"][0]["email"] == "member@example.com"


def test_a_worker_mails_the_invitation_whose_link_proves_the_address(app, client, auth_headers, moderator, worker, inbox,
                                                                     instance_path):
    made = create(client, auth_headers, moderator, email="mailed_invitee@example.org", custom_message="We would value your view.")
    assert made.json["emailed"] is True
    describe = lambda: (instance_path / "worker.log").read_text()[-3000:]  # noqa: E731
    (message,) = wait_until(lambda: inbox.to("mailed_invitee@example.org"), timeout=60, describe=describe)
    assert message["Subject"] == "moderator invites you to forum"
    body = message.get_content()
    assert "We would value your view." in body
    link = re.search(re.escape(made.json["link"]) + r"\?t=(\S+)", body)
    assert link, body  # the mailed link carries the proof of the address; the inviter's answer does not
    visitor = app.test_client()
    joined = redeem(visitor, key_of(made), username="mailed_joiner", email_token=link.group(1))
    assert joined.status_code == 200 and account("mailed_joiner").active is True


def test_a_topic_invitation_by_address_invites_to_join_pointed_to_the_topic(app, client, auth_headers, moderator):
    topic = topics.create_topic(moderator, title="How do organisations work with companies?", raw="What has worked so far?")
    response = client.post(f"/t/{topic.id}/invite.json", json={"email": "newcomer@example.org"}, headers=auth_headers(moderator))
    assert response.status_code == 200 and response.json == {"success": "OK"}
    invite = db.session.scalars(select(Invite)).one()
    assert (invite.email, invite.topic_id, invite.emailed) == ("newcomer@example.org", topic.id, True)
    message = topics.create_topic(moderator, title="A private word about the audit", raw="Between the two of us, please.",
                                  private_to=[])
    refused = client.post(f"/t/{message.id}/invite.json", json={"email": "other@example.org"}, headers=auth_headers(moderator))
    assert refused.status_code == 422 and "cannot open a private message" in refused.json["errors"][0]


def test_every_kind_of_invitation_draws_on_one_budget_and_each_address_counts(app, moderator, member):
    from forum.services import users
    from tests.api.test_session import limits_on

    topic = topics.create_topic(moderator, title="How do organisations work with companies?", raw="What has worked so far?")
    headers = {"Api-Key": users.create_api_key(moderator, created_by=moderator)[1], "Api-Username": "moderator"}
    with limits_on(app, INVITE_RATE_LIMIT="4 per hour") as limited:
        def invite_address(email):
            return limited.post("/invites.json", json={"email": email, "skip_email": True}, headers=headers).status_code

        assert invite_address("first@example.org") == 200
        assert limited.post(f"/t/{topic.id}/invite.json", json={"user": "member"}, headers=headers).status_code == 200
        two_more = limited.post("/invites/create-multiple.json", json={"email": ["a@example.org", "b@example.org"],
                                                                       "skip_email": True}, headers=headers)
        assert two_more.status_code == 200  # two addresses: the third and fourth of the budget
        assert invite_address("fifth@example.org") == 429
