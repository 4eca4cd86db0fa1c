import tomllib

from sqlalchemy import func, select

from forum.demo import DIALOGUE_FILE
from forum.extensions import db
from forum.models import AuditLogEntry, Category, Post, PostType, Topic, User
from forum.services import sessions, users


def test_create_user_and_api_key_commands(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["forum", "create-user", "Nkechi", "--email", "nkechi@example.com",
                                 "--password", "a long password", "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = users.find_by_username("nkechi")
    assert user.role == "admin" and users.check_password(user, "a long password")

    result = runner.invoke(args=["forum", "api-key", "Nkechi", "--all-users"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    api_key, acting_as = users.find_api_key(key, "nkechi")
    assert api_key is not None and api_key.is_all_users and acting_as == user


def test_create_user_reports_validation_errors_without_a_traceback(app):
    result = app.test_cli_runner().invoke(args=["forum", "create-user", "x", "--email", "bad", "--password", "short"])
    assert result.exit_code == 1
    assert "Username must be" in result.output and "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_bot.is_(False))) == 0


def test_set_password_replaces_it_by_the_sign_up_rules_and_ends_every_session(app, member):
    token = sessions.open_session(member, client_ip="192.0.2.7", user_agent="pytest")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["forum", "set-password", member.username, "--password", " " * 12])
    assert refused.exit_code == 1 and "too many repeated characters" in refused.output and "Traceback" not in refused.output
    assert users.check_password(member, "correct horse battery") and sessions.user_for_token(token) == member

    result = runner.invoke(args=["forum", "set-password", member.username], input="a new long password\na new long password\n")
    assert result.exit_code == 0, result.output
    db.session.refresh(member)
    assert users.check_password(member, "a new long password") and not users.check_password(member, "correct horse battery")
    assert sessions.user_for_token(token) is None
    assert db.session.scalar(select(func.count()).select_from(AuditLogEntry).where(
        AuditLogEntry.subject_id == member.id, AuditLogEntry.action == "user.set_password")) == 1
    unknown = runner.invoke(args=["forum", "set-password", "nobody", "--password", "a new long password"])
    assert unknown.exit_code == 1 and "no user named" in unknown.output
    bot = runner.invoke(args=["forum", "set-password", "system", "--password", "a new long password"])
    assert bot.exit_code == 1 and "bots do not sign in" in bot.output


def test_api_key_for_unknown_user_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["forum", "api-key", "nobody"])
    assert result.exit_code == 1 and "no user named" in result.output


def test_all_users_key_needs_an_admin(app, member):
    result = app.test_cli_runner().invoke(args=["forum", "api-key", member.username, "--all-users"])
    assert result.exit_code == 1 and "admin" in result.output


def test_demo_loads_a_threaded_locked_dialogue_and_is_idempotent(app):
    spec = tomllib.loads(DIALOGUE_FILE.read_text())
    runner = app.test_cli_runner()
    first = runner.invoke(args=["forum", "demo"])
    assert first.exit_code == 0, first.output
    password = first.output.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert users.check_password(users.find_by_username("admin"), password)

    main_spec = spec["topics"][0]
    topic = db.session.scalar(select(Topic).where(Topic.title == main_spec["title"]))
    assert topic.closed
    stream = list(db.session.scalars(select(Post).where(Post.topic_id == topic.id).order_by(Post.post_number)))
    regular = [post for post in stream if post.post_type == PostType.REGULAR]
    assert len(regular) == len(main_spec["posts"]) >= 27
    assert all(post.cooked.startswith("<h2>") for post in regular)  # a subject line per post
    assert sum(post.reply_to_post_number is not None for post in regular) >= 10
    assert stream[-1].action_code == "closed.enabled"

    counts = {model: db.session.scalar(select(func.count()).select_from(model)) for model in (User, Category, Topic, Post)}
    again = runner.invoke(args=["forum", "demo"])
    assert again.exit_code == 0, again.output
    assert again.output.strip().splitlines()[-1] == first.output.strip().splitlines()[-1]
    assert {model: db.session.scalar(select(func.count()).select_from(model)) for model in counts} == counts
