"""The migrations build exactly the models' schema, from empty, on the configured backend."""
import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from forum import create_app
from forum.extensions import db
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
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)
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
