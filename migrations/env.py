"""Alembic environment, run through Flask-Migrate (`flask db ...`) inside the app context."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from forum.models.base import UTCDateTime
from forum.services.search import include_in_schema_comparison

config = context.config
# Keep the loggers the app made before (when migrating in-process, as the tests do): fileConfig would silence them.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

engine = current_app.extensions["migrate"].db.engine
metadata = current_app.extensions["migrate"].db.metadata


def render_item(type_, obj, autogen_context):
    # Migrations name the plain column type, so they never import application code.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def skip_empty_autogenerate(context, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_online():
    options = dict(current_app.extensions["migrate"].configure_args)
    options["compare_type"] = True
    # The search index lives outside the ORM metadata (migration 0003 owns it): autogenerate must not drop it.
    options.setdefault("include_name", include_in_schema_comparison)
    options.setdefault("process_revision_directives", skip_empty_autogenerate)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=metadata, render_item=render_item, **options
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them against a database.")
run_migrations_online()
