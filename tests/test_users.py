import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiKey, AuditLogEntry, Role, User
from forum.services import users
from forum.services.errors import ValidationFailed


def test_usernames_are_unique_without_regard_to_case(app):
    users.create_user("Amira_H", email="amira@example.com", password="long enough password")
    with pytest.raises(ValidationFailed, match="already taken"):
        users.create_user("amira_h", email="other@example.com", password="long enough password")
    assert users.find_by_username("AMIRA_H").username == "Amira_H"


@pytest.mark.parametrize(
    "username, email, password, role",
    [
        ("ab", "a@example.com", "long enough password", Role.MEMBER),
        ("has space", "a@example.com", "long enough password", Role.MEMBER),
        ("valid_name", "not-an-email", "long enough password", Role.MEMBER),
        ("valid_name", None, "long enough password", Role.MEMBER),
        ("valid_name", "a@example.com", "short", Role.MEMBER),
        ("valid_name", "a@example.com", "long enough password", "superuser"),
    ],
)
def test_invalid_accounts_are_refused_and_not_stored(app, username, email, password, role):
    with pytest.raises(ValidationFailed):
        users.create_user(username, email=email, password=password, role=role)
    assert db.session.scalar(select(User).where(User.is_bot.is_(False))) is None


def test_emails_are_unique_without_regard_to_case(app):
    users.create_user("first", email="Same@Example.com", password="long enough password")
    with pytest.raises(ValidationFailed, match="email"):
        users.create_user("second", email="same@example.com", password="long enough password")


def test_passwords_are_stored_as_argon2id_and_checked(app):
    user = users.create_user("priya", email="priya@example.com", password="correct horse battery")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in user.password_hash
    assert users.check_password(user, "correct horse battery")
    assert not users.check_password(user, "wrong password here")


def test_bot_users_have_no_password_and_cannot_sign_in(app):
    bot = users.create_user("digest-bot", email=None, password=None, is_bot=True)
    assert bot.is_bot and bot.password_hash is None
    assert not users.check_password(bot, "")


def test_api_keys_are_stored_hashed_and_can_be_revoked(app, make_user):
    owner = make_user()
    api_key, plain = users.create_api_key(owner, created_by=owner)
    stored = db.session.scalar(select(ApiKey))
    assert plain not in (stored.key_hash, stored.truncated_key) and stored.truncated_key == plain[:4]
    found, acting_as = users.find_api_key(plain, None)
    assert (found.user_id, acting_as.id) == (owner.id, owner.id)
    assert users.find_api_key(plain[:-1] + "0" if plain[-1] != "0" else plain[:-1] + "1", owner.username) == (None, None)
    users.revoke_api_key(api_key, revoked_by=owner)
    assert users.find_api_key(plain, owner.username) == (None, None)
    actions = list(db.session.scalars(select(AuditLogEntry.action).order_by(AuditLogEntry.id)))
    assert actions[-2:] == ["api_key.create", "api_key.revoke"]


def test_only_admins_create_all_users_keys(app, make_user, moderator):
    with pytest.raises(ValidationFailed):
        users.create_api_key(None, created_by=moderator)
    admin = make_user(Role.ADMIN)
    api_key, _ = users.create_api_key(None, created_by=admin)
    assert api_key.is_all_users
