"""The migrations build exactly the models' schema, from empty, on the configured backend."""
from contextlib import contextmanager
from datetime import datetime, timezone

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy import update as sa_update

from forum import create_app
from forum.extensions import db
from forum.services.search import include_in_schema_comparison
from tests import databases


@pytest.fixture
def empty_database(tmp_path):
    url = databases.new_database_url(tmp_path)
    yield url
    databases.drop_database(url)


def _app_on(url, tmp_path):
    return create_app({"DATABASE_URL": url, "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"})


def test_upgrade_from_empty_matches_the_models(empty_database, tmp_path):
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_in_schema_comparison}
            )
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(connection).get_table_names())
        db.engine.dispose()
    assert differences == []
    assert {"users", "api_keys", "categories", "topics", "posts", "post_revisions", "tags", "tag_groups",
            "topic_tags", "post_tags", "tag_group_memberships", "audit_log"} <= tables


def test_downgrade_to_empty_and_up_again(empty_database, tmp_path):
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert "posts" in inspect(connection).get_table_names()
        db.engine.dispose()


def test_upgrading_keeps_what_users_wrote(empty_database, tmp_path):
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0001", "kept", highest_post_number=1, posts_count=1, reply_count=0) as connection:
            _insert_first_post(connection, "kept", "what she wrote", "<p>what she wrote</p>")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT raw, like_count FROM posts")).one() == ("what she wrote", 0)
            assert connection.execute(text("SELECT views FROM topics")).scalar_one() == 0
        db.engine.dispose()


def test_the_replies_are_recounted_without_the_deleted_ones(empty_database, tmp_path):
    """Revision 0008: a post answered by a live and a deleted reply counts one reply, as deletion now counts it."""
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0007", "counted", highest_post_number=3, posts_count=2, reply_count=1) as connection:
            for number, answers, deleted in ((1, None, "NULL"), (2, 1, "NULL"), (3, 1, "CURRENT_TIMESTAMP")):
                connection.execute(text(
                    "INSERT INTO posts (topic_id, user_id, post_number, reply_to_post_number, raw, cooked, post_type, "
                    "version, reply_count, like_count, created_at, updated_at, deleted_at) SELECT id, user_id, :number, "
                    ":answers, 'a reply', '<p>a reply</p>', 1, 1, :count, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                    f"{deleted} FROM topics WHERE slug = 'counted'"), {"number": number, "answers": answers, "count": 2 if number == 1 else 0})
        with db.engine.connect() as connection:
            counts = connection.execute(text(
                "SELECT posts.post_number, posts.reply_count FROM posts JOIN topics ON topics.id = posts.topic_id "
                "WHERE topics.slug = 'counted' ORDER BY post_number")).all()
        assert [tuple(row) for row in counts] == [(1, 1), (2, 0), (3, 0)]
        db.engine.dispose()


def test_the_counter_keeps_every_number_and_the_topic_names_its_last_live_post(empty_database, tmp_path):
    """Revision 0009: a topic whose last posts are a deleted reply and a whisper keeps handing out numbers after them,
    and names its last live reply's author and number, as deletion now keeps them."""
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0008", "ended", highest_post_number=4, posts_count=3, reply_count=2) as connection:
            connection.execute(text(
                "INSERT INTO users (username, username_lower, role, active, is_bot, created_at) "
                "VALUES ('Bruno', 'bruno', 'member', true, false, CURRENT_TIMESTAMP)"))
            for number, author, post_type, deleted in ((1, "amira", 1, "NULL"), (2, "amira", 1, "NULL"), (3, "bruno", 1, "CURRENT_TIMESTAMP"), (4, "bruno", 4, "NULL")):
                connection.execute(text(
                    "INSERT INTO posts (topic_id, user_id, post_number, raw, cooked, post_type, version, reply_count, like_count, "
                    "created_at, updated_at, deleted_at) SELECT topics.id, users.id, :number, 'a post', '<p>a post</p>', :post_type, 1, 0, 0, "
                    f"CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, {deleted} FROM topics, users WHERE topics.slug = 'ended' AND users.username_lower = :author"),
                    {"number": number, "author": author, "post_type": post_type})
            connection.execute(text("UPDATE topics SET last_post_user_id = (SELECT id FROM users WHERE username_lower = 'bruno') WHERE slug = 'ended'"))
        with db.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT topics.highest_assigned_post_number, topics.highest_post_number, users.username FROM topics "
                "JOIN users ON users.id = topics.last_post_user_id WHERE topics.slug = 'ended'")).one()
        assert tuple(row) == (4, 2, "Amira")
        db.engine.dispose()


def test_posts_written_before_are_searched_by_their_rendered_text(empty_database, tmp_path):
    """Revision 0010: a post stored with its Markdown indexed is found by the words readers see, quoted without the
    Markdown, and no longer by its link's address."""
    from forum.services import search

    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0009", "markdown", highest_post_number=1, posts_count=1, reply_count=0) as connection:
            _insert_first_post(connection, "markdown", "## Buyers\n\nA **carrotmob** [rewarded a shop](https://example.org/hiddenword).",
                               '<h2>Buyers</h2>\n<p>A <strong>carrotmob</strong> <a href="https://example.org/hiddenword">rewarded a shop</a>.</p>',
                               like_count=0)
        [hit] = search.search(None, "carrotmob rewarded").posts
        assert "##" not in hit.blurb and "**" not in hit.blurb and "Buyers" in hit.blurb
        assert search.search(None, "hiddenword").posts == []
        db.session.remove()
        db.engine.dispose()


def test_members_follow_the_topics_they_started_replied_to_or_read_long(empty_database, tmp_path):
    """Revision 0011: the reading state stored before it gets the levels Discourse's rules give: the author watches,
    a replier tracks, a long reader tracks, a short reader stays regular; /unread then lists only the followed."""
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0010", "followed", highest_post_number=2, posts_count=2, reply_count=1) as connection:
            _insert_first_post(connection, "followed", "The opening post.", "<p>The opening post.</p>", like_count=0, search_text="The opening post.")
            for name in ("Bruno", "Carla", "Dev"):
                connection.execute(text(
                    "INSERT INTO users (username, username_lower, role, active, is_bot, created_at) "
                    "VALUES (:name, :lower, 'member', true, false, CURRENT_TIMESTAMP)"), {"name": name, "lower": name.lower()})
            connection.execute(text(
                "INSERT INTO posts (topic_id, user_id, post_number, raw, cooked, search_text, post_type, version, reply_count, "
                "like_count, created_at, updated_at) SELECT topics.id, users.id, 2, 'A reply.', '<p>A reply.</p>', 'A reply.', 1, 1, 0, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM topics, users WHERE topics.slug = 'followed' AND users.username = 'Bruno'"))
            for name, last_read, msecs in (("Amira", 1, 0), ("Bruno", 2, 0), ("Carla", 1, 300_000), ("Dev", 1, 5_000)):
                connection.execute(text(
                    "INSERT INTO topic_users (user_id, topic_id, last_read_post_number, total_msecs_viewed, first_visited_at, "
                    "last_visited_at) SELECT users.id, topics.id, :last_read, :msecs, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
                    "FROM users, topics WHERE users.username = :name AND topics.slug = 'followed'"),
                    {"name": name, "last_read": last_read, "msecs": msecs})
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT users.username, topic_users.notification_level, topic_users.notifications_reason_id FROM topic_users "
                "JOIN users ON users.id = topic_users.user_id ORDER BY users.username")).all()
        assert [tuple(row) for row in rows] == [("Amira", 3, 1), ("Bruno", 2, 4), ("Carla", 2, None), ("Dev", 1, None)]
        db.engine.dispose()


def test_a_topic_stored_before_counts_the_likes_of_its_live_posts_only(empty_database, tmp_path):
    """Revision 0012: likes of a deleted reply and of a whisper leave the topic's count; the live posts' stay."""
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0011", "liked", highest_post_number=2, posts_count=2, reply_count=1) as connection:
            for number, post_type, deleted_at, likes in ((1, 1, None, 2), (2, 1, None, 1), (3, 1, datetime(2026, 1, 5), 5), (4, 4, None, 3)):
                _insert_post(connection, "liked", "a post", "<p>a post</p>", number=number, post_type=post_type, search_text="a post",
                             like_count=likes, deleted_at=deleted_at)
            connection.execute(text("UPDATE topics SET like_count = 11 WHERE slug = 'liked'"))
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT like_count FROM topics WHERE slug = 'liked'")).scalar_one() == 3
        db.engine.dispose()


@contextmanager
def _written_at(revision: str, slug: str, **counts: int):
    """In an app context: the database migrated to ``revision``, a member, Amira, and a topic of hers written with
    that revision's schema, and a connection to write more; when the block ends, the database is upgraded to the head."""
    flask_migrate.upgrade(revision=revision)
    with db.engine.begin() as connection:
        _insert_author_and_topic(connection, slug, **counts)
        yield connection
    flask_migrate.upgrade()


def _insert_author_and_topic(connection, slug: str, **counts: int) -> None:
    connection.execute(text(
        "INSERT INTO users (username, username_lower, role, active, is_bot, created_at) "
        "VALUES ('Amira', 'amira', 'member', true, false, CURRENT_TIMESTAMP)"))
    connection.execute(text(
        "INSERT INTO topics (title, slug, user_id, closed, archived, visible, pinned_globally, "
        "highest_post_number, posts_count, reply_count, created_at, updated_at, bumped_at) "
        "SELECT 'Written before the upgrade', :slug, id, false, false, true, false, :highest_post_number, :posts_count, "
        ":reply_count, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM users WHERE username = 'Amira'"),
        {"slug": slug, **counts})


def _insert_first_post(connection, slug: str, raw: str, cooked: str, **columns) -> None:
    """The first post of the topic ``slug``, by its author, with ``columns`` (those the revision's schema has beyond
    what every revision has)."""
    _insert_post(connection, slug, raw, cooked, number=1, **columns)


def _insert_post(connection, slug: str, raw: str, cooked: str, *, number: int, post_type: int = 1, **columns) -> None:
    """Post ``number`` of the topic ``slug``, by its author, with ``columns`` as in _insert_first_post."""
    names = ["topic_id", "user_id", "post_number", "raw", "cooked", "post_type", "version", "reply_count", "created_at", "updated_at"]
    values = ["id", "user_id", ":number", ":raw", ":cooked", ":post_type", "1", "0", "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"]
    connection.execute(
        text(f"INSERT INTO posts ({', '.join([*names, *columns])}) SELECT {', '.join([*values, *(f':{name}' for name in columns)])} "
             "FROM topics WHERE slug = :slug"),
        {"slug": slug, "raw": raw, "cooked": cooked, "number": number, "post_type": post_type, **columns},
    )


def test_an_account_staff_deactivated_before_stays_closed_to_activation_mail(empty_database, tmp_path):
    """Revision 0020: an inactive account whose last activation or deactivation on record is a deactivation is marked
    deactivated (no mailed link lets it in); one waiting since its sign-up, or activated again since, is not."""
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        flask_migrate.upgrade(revision="0019")
        with db.engine.begin() as connection:
            for name, active in (("closed", False), ("waiting", False), ("reopened", True)):
                connection.execute(text(
                    "INSERT INTO users (username, username_lower, role, active, is_bot, created_at) "
                    "VALUES (:name, :name, 'member', :active, false, CURRENT_TIMESTAMP)"), {"name": name, "active": active})
            for name, action, day in (("closed", "user.activate", 1), ("closed", "user.deactivate", 2),
                                      ("reopened", "user.deactivate", 1), ("reopened", "user.activate", 2)):
                connection.execute(text(
                    "INSERT INTO audit_log (created_at, action, subject_type, subject_id) "
                    "SELECT :at, :action, 'user', id FROM users WHERE username = :name"),
                    {"at": datetime(2026, 11, day), "action": action, "name": name})
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            marked = dict(connection.execute(text(
                "SELECT username, deactivated_at IS NOT NULL FROM users WHERE username IN ('closed', 'waiting', 'reopened')")).all())
        assert marked == {"closed": True, "waiting": False, "reopened": False}
        db.engine.dispose()


def test_posts_stored_before_are_found_with_or_without_their_accents(empty_database, tmp_path):
    """Revision 0022 indexes every post again on PostgreSQL, with accents folded."""
    if empty_database.startswith("sqlite"):
        pytest.skip("SQLite's index folded accents from the start (revision 0003): 0022 changes nothing there")
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0021", "accents", highest_post_number=1, posts_count=1, reply_count=0) as connection:
            _insert_first_post(connection, "accents", "We met in Bogotá.", "<p>We met in Bogotá.</p>",
                               search_text="We met in Bogotá.")
        from forum.services import search

        assert [hit.post.raw for hit in search.search(None, "bogota").posts] == ["We met in Bogotá."]
        db.session.remove()
        db.engine.dispose()


def test_members_stored_before_summaries_are_not_all_mailed_at_once(empty_database, tmp_path):
    """Revision 0025: a member stored before counts as summarised at the upgrade, so the first run after it mails
    nobody about weeks past; one made afterwards starts from their own time."""
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        with _written_at("0024", "summaries", highest_post_number=0, posts_count=0, reply_count=0) as connection:
            connection.execute(text("UPDATE users SET email = 'amira@example.org', created_at = :long_ago WHERE username = 'Amira'"),
                               {"long_ago": datetime(2026, 1, 1)})
        from forum.services import activity_summaries

        assert activity_summaries.send_due(limit=10) == 0
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT digest_attempted_at IS NOT NULL FROM users WHERE username = 'Amira'")).scalar_one()
        from forum.models import User
        from forum.services import users

        newcomer = users.create_user("newcomer", email="newcomer@example.org", password=None)
        with db.engine.begin() as connection:
            connection.execute(sa_update(User).where(User.id == newcomer.id).values(created_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
        assert activity_summaries.send_due(limit=10) == 1  # away since it was made, never summarised
        db.session.remove()
        db.engine.dispose()


def test_a_private_message_stored_keeps_its_revision_from_being_undone(empty_database, tmp_path, capfd):
    """Revision 0024 cannot be undone while a message is stored: its topic would be anyone's to read."""
    app = _app_on(empty_database, tmp_path)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            _insert_author_and_topic(connection, "secret", highest_post_number=0, posts_count=0, reply_count=0)
            connection.execute(text("UPDATE topics SET archetype = 'private_message'"))
        with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits
            flask_migrate.downgrade(revision="0023")
        assert "1 private messages are stored" in capfd.readouterr().err  # (Alembic's logging writes to stderr)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT archetype FROM topics")).scalar_one() == "private_message"
        db.engine.dispose()
