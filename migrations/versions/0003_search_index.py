"""search: full-text index of posts and topic titles

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:30:00.000000

One index row per post holds its topic's title and its own raw text, so the words of a search may
be found across the two, as Discourse's post_search_data does. Triggers keep the index in step with
posts and topic titles on every write path (services, CLI, plain SQL), and existing posts are indexed
here. Neither backend's index is an ORM model: forum.services.search queries it, and
``forum.services.search.include_in_schema_comparison`` keeps autogenerate from dropping it.

- SQLite: an FTS5 table holding its own copy of the text. External content cannot work (the text
  comes from two tables, and an external-content index is silently corrupted by a delete that does not
  repeat the old values exactly) and a contentless table cannot give snippet()/highlight() their text.
  The copy is stored without the two private-use characters the search service uses as highlight
  markers, so a marker in a blurb is always the service's own.
- PostgreSQL: a table of weighted tsvectors (title A, body D) with a GIN index, filled by triggers;
  blurbs come from ts_headline over posts.raw at query time. Posting and renaming both update the topic
  row first, so its row lock orders a new post and a title change: neither reindexes stale text.

On SQLite a later migration that rebuilds posts or topics with batch_alter_table (a table copy) must
drop these triggers first and create them again afterwards.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _without_markers(sql: str) -> str:
    # U+E000 and U+E001: the highlight markers of forum.services.search.
    return f"replace(replace({sql}, char(57344), ''), char(57345), '')"


SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE post_search USING fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2')",
    f"""INSERT INTO post_search (rowid, title, body)
        SELECT posts.id, {_without_markers('topics.title')}, {_without_markers('posts.raw')}
        FROM posts JOIN topics ON topics.id = posts.topic_id""",
    f"""CREATE TRIGGER post_search_post_inserted AFTER INSERT ON posts BEGIN
          INSERT INTO post_search (rowid, title, body)
          SELECT new.id, {_without_markers('topics.title')}, {_without_markers('new.raw')}
          FROM topics WHERE topics.id = new.topic_id;
        END""",
    f"""CREATE TRIGGER post_search_post_updated AFTER UPDATE OF raw, topic_id ON posts BEGIN
          UPDATE post_search
          SET body = {_without_markers('new.raw')},
              title = (SELECT {_without_markers('topics.title')} FROM topics WHERE topics.id = new.topic_id)
          WHERE rowid = new.id;
        END""",
    """CREATE TRIGGER post_search_post_deleted AFTER DELETE ON posts BEGIN
         DELETE FROM post_search WHERE rowid = old.id;
       END""",
    f"""CREATE TRIGGER post_search_title_updated AFTER UPDATE OF title ON topics BEGIN
          UPDATE post_search SET title = {_without_markers('new.title')}
          WHERE rowid IN (SELECT posts.id FROM posts WHERE posts.topic_id = new.id);
        END""",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER post_search_title_updated",
    "DROP TRIGGER post_search_post_deleted",
    "DROP TRIGGER post_search_post_updated",
    "DROP TRIGGER post_search_post_inserted",
    "DROP TABLE post_search",
)

POSTGRESQL_UPGRADE = (
    """CREATE TABLE post_search (
         post_id integer NOT NULL,
         search_data tsvector NOT NULL,
         CONSTRAINT pk_post_search PRIMARY KEY (post_id),
         CONSTRAINT fk_post_search_post_id_posts FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE
       )""",
    "CREATE INDEX ix_post_search_search_data ON post_search USING gin (search_data)",
    """CREATE FUNCTION post_search_document(title text, body text) RETURNS tsvector
       LANGUAGE sql IMMUTABLE
       AS $$ SELECT setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'D') $$""",
    """INSERT INTO post_search (post_id, search_data)
       SELECT posts.id, post_search_document(topics.title, posts.raw)
       FROM posts JOIN topics ON topics.id = posts.topic_id""",
    """CREATE FUNCTION post_search_index_post() RETURNS trigger
       LANGUAGE plpgsql
       AS $$
       BEGIN
         INSERT INTO post_search (post_id, search_data)
         SELECT NEW.id, post_search_document(topics.title, NEW.raw) FROM topics WHERE topics.id = NEW.topic_id
         ON CONFLICT (post_id) DO UPDATE SET search_data = excluded.search_data;
         RETURN NULL;
       END
       $$""",
    """CREATE TRIGGER post_search_index_post AFTER INSERT OR UPDATE OF raw, topic_id ON posts
       FOR EACH ROW EXECUTE FUNCTION post_search_index_post()""",
    """CREATE FUNCTION post_search_index_title() RETURNS trigger
       LANGUAGE plpgsql
       AS $$
       BEGIN
         UPDATE post_search SET search_data = post_search_document(NEW.title, posts.raw)
         FROM posts WHERE posts.topic_id = NEW.id AND post_search.post_id = posts.id;
         RETURN NULL;
       END
       $$""",
    """CREATE TRIGGER post_search_index_title AFTER UPDATE OF title ON topics
       FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION post_search_index_title()""",
)

POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER post_search_index_title ON topics",
    "DROP FUNCTION post_search_index_title()",
    "DROP TRIGGER post_search_index_post ON posts",
    "DROP FUNCTION post_search_index_post()",
    "DROP TABLE post_search",
    "DROP FUNCTION post_search_document(text, text)",
)

STATEMENTS = {
    "sqlite": (SQLITE_UPGRADE, SQLITE_DOWNGRADE),
    "postgresql": (POSTGRESQL_UPGRADE, POSTGRESQL_DOWNGRADE),
}


def _statements(direction: int) -> tuple[str, ...]:
    dialect = op.get_bind().dialect.name
    if dialect not in STATEMENTS:
        raise NotImplementedError(f"the search index supports SQLite and PostgreSQL, not {dialect}")
    return STATEMENTS[dialect][direction]


def upgrade():
    for statement in _statements(0):
        op.execute(statement)


def downgrade():
    for statement in _statements(1):
        op.execute(statement)
