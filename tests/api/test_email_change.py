"""A member's new email address: PUT /u/{username}/preferences/email mails a link to the new address, which confirms
the change (PUT /u/confirm-new-email/{token}, or the page the link opens); the old address is told."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.database import write_unit
from forum.extensions import db
from forum.models import AuditLogEntry, EmailToken, EmailTokenPurpose, Role, User
from forum.models.base import utcnow
from forum.services import email_changes, email_tokens, password_resets, users
from forum.services.errors import NotFound
from tests.api.factories import set_columns
from tests.api.test_session import csrf
from tests.conftest import run_together, wait_until

NEW_EMAIL = "amara@ngo.example.org"
LINK = re.compile(r"http://\S+/u/confirm-new-email/(\S+)")


def change(client, auth_headers, actor, username: str, email: str | None = NEW_EMAIL):
    return client.put(f"/u/{username}/preferences/email.json", json={} if email is None else {"email": email},
                      headers=auth_headers(actor))


def confirm(client, token: str):
    return client.put(f"/u/confirm-new-email/{token}.json", headers={"X-CSRF-Token": csrf(client)})


def issued_link(user: User, email: str = NEW_EMAIL, purpose: EmailTokenPurpose = EmailTokenPurpose.EMAIL_CHANGE) -> str:
    with write_unit(db.session):
        return email_tokens.issue(user, purpose, email)


def email_of(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).email


def change_links(user: User) -> list[EmailToken]:
    db.session.expire_all()
    return list(db.session.scalars(select(EmailToken).where(
        EmailToken.user_id == user.id, EmailToken.purpose == EmailTokenPurpose.EMAIL_CHANGE).order_by(EmailToken.id)))


def audit_actions(user: User) -> list[tuple[int | None, str]]:
    query = select(AuditLogEntry.actor_id, AuditLogEntry.action).where(
        AuditLogEntry.subject_type == "user", AuditLogEntry.subject_id == user.id, AuditLogEntry.action.like("%email%"))
    return [tuple(row) for row in db.session.execute(query.order_by(AuditLogEntry.id))]


def test_a_member_asks_and_the_address_changes_only_once_the_new_one_confirms(client, auth_headers, member):
    reset_link = issued_link(member, member.email, EmailTokenPurpose.PASSWORD_RESET)
    response = change(client, auth_headers, member, "member", " Amara@NGO.example.org ")
    assert response.status_code == 200 and response.json == {"success": "OK"}
    (link,) = change_links(member)
    assert (link.email, link.used_at) == (NEW_EMAIL, None)
    assert email_of(member) == "member@example.com"

    token = issued_link(member)  # as the mail's link: only the newest works
    assert confirm(client, token).json == {"success": "OK"}
    assert email_of(member) == NEW_EMAIL
    assert users.authenticate(NEW_EMAIL, "correct horse battery").id == member.id
    assert users.authenticate("member@example.com", "correct horse battery") is None
    assert audit_actions(member) == [(member.id, "user.change_email")]
    assert confirm(client, token).status_code == 404  # once
    with pytest.raises(NotFound):  # a reset link mailed to the old address no longer works
        password_resets.check_link(reset_link)


@pytest.mark.parametrize("email, message", [
    ("not an address", "'not an address' is not a valid email address."),
    # Addresses a mail server would read as another one, or could not send to.
    ("root,x@evil.example", "'root,x@evil.example' is not a valid email address."),
    ("<other@example.com", "'<other@example.com' is not a valid email address."),
    ("ü@exämple.com", "'ü@exämple.com' is not a valid email address."),
    ("MEMBER@example.com", "That is already the account's email address."),
    ("Other@Example.com", "That email address is already in use."),
])
def test_an_address_that_cannot_be_the_accounts_is_refused(client, auth_headers, member, make_user, email, message):
    make_user(username="other")
    response = change(client, auth_headers, member, "member", email)
    assert response.status_code == 422
    assert response.json == {"errors": [message], "error_type": "invalid_record"}
    assert change_links(member) == []


def test_a_request_without_an_address_is_refused(client, auth_headers, member):
    response = change(client, auth_headers, member, "member", None)
    assert response.status_code == 400 and response.json["error_type"] == "invalid_parameters"


def test_who_may_change_whose_address(client, auth_headers, member, moderator, make_user):
    admin, other = make_user(Role.ADMIN, "admin"), make_user(username="other")
    assert change(client, auth_headers, other, "member").status_code == 403
    assert change(client, auth_headers, moderator, "member").status_code == 403
    assert change(client, auth_headers, None, "member").status_code == 403
    assert change(client, auth_headers, admin, "tactics-bot").status_code == 403
    assert change(client, auth_headers, admin, "nobody").status_code == 404
    assert change_links(member) == []
    assert change(client, auth_headers, admin, "member").status_code == 200
    assert [link.email for link in change_links(member)] == [NEW_EMAIL]
    assert audit_actions(member) == [(admin.id, "user.request_email_change")]


def test_an_expired_link_and_a_made_up_one_change_nothing(client, member):
    token = issued_link(member)
    set_columns(EmailToken, change_links(member)[0].id, expires_at=utcnow() - timedelta(seconds=1))
    for dead in (token, "not-a-token"):
        response = confirm(client, dead)
        assert response.status_code == 404
        assert response.json["success"] is False and response.json["error_type"] == "not_found"
    assert email_of(member) == "member@example.com"


def test_an_address_taken_meanwhile_is_refused_and_the_link_waits(client, member, make_user):
    token = issued_link(member)
    taker = make_user(username="taker")
    set_columns(User, taker.id, email=NEW_EMAIL)
    response = confirm(client, token)
    assert response.status_code == 422
    assert response.json["errors"] == ["That email address is already in use."]
    assert email_of(member) == "member@example.com"
    set_columns(User, taker.id, email="taker@elsewhere.example.com")
    assert confirm(client, token).status_code == 200
    assert email_of(member) == NEW_EMAIL


def test_two_accounts_confirming_one_address_at_once_get_it_once(app, member, make_user):
    other = make_user(username="other")
    tokens = [issued_link(member), issued_link(other)]
    member_id, other_id = member.id, other.id

    def use(start, token):
        start()
        email_changes.confirm(token)

    errors = run_together(app, use, [(token,) for token in tokens])
    assert [error.messages for error in errors] in ([["That email address is already in use."]],  # by the check, or the database
                                                    [["That email address was just taken by another change; please try again."]])
    emails = {db.session.get(User, member_id).email, db.session.get(User, other_id).email}
    assert NEW_EMAIL in emails and len(emails & {"member@example.com", "other@example.com"}) == 1


def test_anonymizing_withdraws_a_pending_link(client, member, moderator):
    token = issued_link(member)
    users.anonymize(moderator, member.id)
    assert confirm(client, token).status_code == 404
    assert email_of(member).endswith("@anonymized.invalid")


def test_the_page_shows_the_change_and_its_button_makes_it(client, member):
    token = issued_link(member)
    page = client.get(f"/u/confirm-new-email/{token}")
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    html = page.get_data(as_text=True)
    assert f"<strong>{NEW_EMAIL}</strong>" in html and "<strong>member</strong>" in html
    assert email_of(member) == "member@example.com"  # opening the link changes nothing
    assert client.post(f"/u/confirm-new-email/{token}").status_code == 403  # no CSRF token
    authenticity_token = re.search(r'name="authenticity_token" value="([^"]+)"', html).group(1)
    done = client.post(f"/u/confirm-new-email/{token}", data={"authenticity_token": authenticity_token})
    assert done.status_code == 200 and "is now the email address of" in done.get_data(as_text=True)
    assert email_of(member) == NEW_EMAIL
    assert client.get(f"/u/confirm-new-email/{token}").status_code == 404


def test_a_worker_mails_the_new_address_a_link_and_the_old_one_the_news(client, auth_headers, make_user, worker, inbox,
                                                                         instance_path):
    mover = make_user(username="mover")
    assert change(client, auth_headers, mover, "mover", "mover@new.example.org").status_code == 200
    describe = lambda: (instance_path / "worker.log").read_text()[-3000:]  # noqa: E731
    (asked,) = wait_until(lambda: inbox.to("mover@new.example.org"), timeout=60, describe=describe)
    assert asked["Subject"] == "Confirm your new email address on forum"
    assert confirm(client, LINK.search(asked.get_content()).group(1)).status_code == 200
    (told,) = wait_until(lambda: inbox.to("mover@example.com"), timeout=60, describe=describe)
    assert told["Subject"] == "Your email address on forum was changed"
    assert "mover@new.example.org" not in told.get_content()  # whoever reads the old mailbox learns no new address
    assert worker.poll() is None, "the worker died"


def test_setting_a_password_voids_a_pending_link(client, member):
    """Whoever used a session of the member's to ask for an address of theirs is shut out by a password reset, as the
    reset ends the sessions."""
    token = issued_link(member, "attacker@evil.example")
    users.set_password(db.session.get(User, member.id), "a brand new passphrase", actor=member)
    assert confirm(client, token).status_code == 404
    assert email_of(member) == "member@example.com"


def test_asking_is_rate_limited_per_member(app, member):
    from tests.api.test_session import limits_on

    key = users.create_api_key(member, created_by=member)[1]
    headers = {"Api-Key": key, "Api-Username": "member"}
    with limits_on(app, EMAIL_CHANGE_RATE_LIMIT="2 per hour") as limited:
        for n in range(2):
            assert limited.put("/u/member/preferences/email.json", json={"email": f"new{n}@ngo.example.org"}, headers=headers).status_code == 200
        refused = limited.put("/u/member/preferences/email.json", json={"email": "new2@ngo.example.org"}, headers=headers)
    assert refused.status_code == 429 and refused.json["error_type"] == "rate_limit"
    assert [link.email for link in change_links(member)] == ["new0@ngo.example.org", "new1@ngo.example.org"]


def test_discourses_own_client_paths(client, member):
    """Discourse's client reads the link with GET /u/confirm-new-email/{token}.json and PUTs the token in the body."""
    token = issued_link(member)
    checked = client.get(f"/u/confirm-new-email/{token}.json")
    assert checked.status_code == 200
    assert checked.json == {"new_email": NEW_EMAIL, "old_email": "member@example.com", "token": token}
    assert client.get("/u/confirm-new-email/not-a-token.json").json["error_type"] == "not_found"
    missing = client.put("/u/confirm-new-email.json", json={}, headers={"X-CSRF-Token": csrf(client)})
    assert missing.status_code == 400
    response = client.put("/u/confirm-new-email.json", json={"token": token}, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 200 and email_of(member) == NEW_EMAIL
