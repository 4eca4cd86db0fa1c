"""search: index and quote the rendered text of posts, not their Markdown

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:45:00

Until this revision the search index (migration 0003) held each post's raw Markdown, so blurbs showed ``##``,
``**`` and link syntax, and words of a link's address matched. ``posts.search_text`` now holds the plain text of
the cooked post, made by the app whenever it cooks one; this fills it for the posts already stored, points the
triggers at it and indexes every post again. On SQLite only the triggers that read the post's text change.
"""
from alembic import op
import sqlalchemy as sa

from forum.content.text import plain_text


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 1000


def _without_markers(sql: str) -> str:
    # U+E000 and U+E001: the highlight markers of forum.services.search (as migration 0003).
    return f"replace(replace({sql}, char(57344), ''), char(57345), '')"


def _sqlite(text_column: str) -> tuple[str, ...]:
    """The two triggers that read a post's text, made to read ``text_column``, and the index filled again from it."""
    return (
        "DROP TRIGGER post_search_post_inserted",
        "DROP TRIGGER post_search_post_updated",
        f"""CREATE TRIGGER post_search_post_inserted AFTER INSERT ON posts BEGIN
              INSERT INTO post_search (rowid, title, body)
              SELECT new.id, {_without_markers('topics.title')}, {_without_markers(f'new.{text_column}')}
              FROM topics WHERE topics.id = new.topic_id;
            END""",
        f"""CREATE TRIGGER post_search_post_updated AFTER UPDATE OF {text_column}, topic_id ON posts BEGIN
              UPDATE post_search
              SET body = {_without_markers(f'new.{text_column}')},
                  title = (SELECT {_without_markers('topics.title')} FROM topics WHERE topics.id = new.topic_id)
              WHERE rowid = new.id;
            END""",
        "DELETE FROM post_search",
        f"""INSERT INTO post_search (rowid, title, body)
            SELECT posts.id, {_without_markers('topics.title')}, {_without_markers(f'posts.{text_column}')}
            FROM posts JOIN topics ON topics.id = posts.topic_id""",
    )


def _postgresql(text_column: str) -> tuple[str, ...]:
    """The functions that read a post's text, made to read ``text_column``, its trigger's columns, and the index
    filled again from it."""
    return (
        f"""CREATE OR REPLACE FUNCTION post_search_index_post() RETURNS trigger
            LANGUAGE plpgsql
            AS $$
            BEGIN
              INSERT INTO post_search (post_id, search_data)
              SELECT NEW.id, post_search_document(topics.title, NEW.{text_column}) FROM topics WHERE topics.id = NEW.topic_id
              ON CONFLICT (post_id) DO UPDATE SET search_data = excluded.search_data;
              RETURN NULL;
            END
            $$""",
        "DROP TRIGGER post_search_index_post ON posts",
        f"""CREATE TRIGGER post_search_index_post AFTER INSERT OR UPDATE OF {text_column}, topic_id ON posts
            FOR EACH ROW EXECUTE FUNCTION post_search_index_post()""",
        f"""CREATE OR REPLACE FUNCTION post_search_index_title() RETURNS trigger
            LANGUAGE plpgsql
            AS $$
            BEGIN
              UPDATE post_search SET search_data = post_search_document(NEW.title, posts.{text_column})
              FROM posts WHERE posts.topic_id = NEW.id AND post_search.post_id = posts.id;
              RETURN NULL;
            END
            $$""",
        f"""UPDATE post_search SET search_data = post_search_document(topics.title, posts.{text_column})
            FROM posts JOIN topics ON topics.id = posts.topic_id WHERE post_search.post_id = posts.id""",
    )


def _index_from(text_column: str) -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _sqlite, "postgresql": _postgresql}[dialect](text_column):
        op.execute(statement)


def upgrade():
    op.add_column('posts', sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    connection = op.get_bind()
    posts = sa.table('posts', sa.column('id', sa.Integer), sa.column('cooked', sa.Text), sa.column('search_text', sa.Text))
    last_id = 0
    while rows := connection.execute(
        sa.select(posts.c.id, posts.c.cooked).where(posts.c.id > last_id).order_by(posts.c.id).limit(BATCH)
    ).all():
        connection.execute(
            posts.update().where(posts.c.id == sa.bindparam('post_id')).values(search_text=sa.bindparam('text')),
            [{"post_id": row.id, "text": plain_text(row.cooked) if row.cooked else ""} for row in rows],
        )
        last_id = rows[-1].id
    _index_from('search_text')


def downgrade():
    _index_from('raw')
    # Not in a batch: on SQLite that copies the table, which the search index's triggers on posts refuse.
    op.drop_column('posts', 'search_text')
