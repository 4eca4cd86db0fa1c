"""search: on PostgreSQL, words match with or without their accents

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 00:20:00

Practitioners write place and organisation names both ways ("Bogotá" and "Bogota", "São Paulo" and "Sao Paulo").
SQLite's index already folds diacritics (FTS5's ``remove_diacritics 2``, migration 0003); PostgreSQL's used the plain
``english`` configuration, so a search for "bogota" missed "Bogotá". This adds the ``forum_search`` text search
configuration: ``english`` with the ``unaccent`` dictionary (a trusted extension since PostgreSQL 13, so the
database's owner may install it) in front of the stemmer, and indexes every post again with it.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

CONFIGURATION = "forum_search"  # forum.services.search._PostgresIndex.CONFIG


def _document_in(configuration: str) -> tuple[str, ...]:
    """post_search_document() made to use ``configuration``, and every post indexed again with it."""
    return (
        f"""CREATE OR REPLACE FUNCTION post_search_document(title text, body text) RETURNS tsvector
            LANGUAGE sql IMMUTABLE
            AS $$ SELECT setweight(to_tsvector('{configuration}', title), 'A')
                         || setweight(to_tsvector('{configuration}', body), 'D') $$""",
        """UPDATE post_search SET search_data = post_search_document(topics.title, posts.search_text)
           FROM posts JOIN topics ON topics.id = posts.topic_id WHERE post_search.post_id = posts.id""",
    )


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIGURATION} (COPY = english)")
    op.execute(f"ALTER TEXT SEARCH CONFIGURATION {CONFIGURATION} "
               "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem")
    for statement in _document_in(CONFIGURATION):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _document_in("english"):
        op.execute(statement)
    op.execute(f"DROP TEXT SEARCH CONFIGURATION {CONFIGURATION}")
    # The extension stays: other schemas may have come to use it, and it holds no data of ours.
