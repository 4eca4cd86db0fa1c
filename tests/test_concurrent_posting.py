"""Post numbers stay 1..n without gaps or duplicates when many clients post into one topic at once; counts stay
right, and nothing deadlocks, when other writes to the same rows race them."""
import pytest
from sqlalchemy import select, update

from forum.extensions import db
from forum.models import Post, Topic
from forum.services import events, post_actions, posts, topics
from forum.services.errors import NotAllowed
from tests.conftest import run_together
from tests.test_events import listening

THREADS = 8
POSTS_PER_THREAD = 15


def test_concurrent_replies_get_gapless_unique_numbers(app, make_user):
    authors = [make_user() for _ in range(THREADS)]
    topic = topics.create_topic(authors[0], title="Concurrent posting into one topic", raw="## Start\n\nThe opening post of the race.")
    topic_id, author_ids = topic.id, [author.id for author in authors]

    def post_many(start, author_id: int):
        author = db.session.get(type(authors[0]), author_id)
        start()
        for n in range(POSTS_PER_THREAD):
            target = db.session.get(Topic, topic_id)
            posts.create_reply(author, target, raw=f"## Reply {n} from {author.username}\n\nConcurrent reply body text.")

    errors = run_together(app, post_many, [(author_id,) for author_id in author_ids])
    assert errors == []
    expected = 1 + THREADS * POSTS_PER_THREAD
    numbers = list(db.session.scalars(select(Post.post_number).where(Post.topic_id == topic_id).order_by(Post.post_number)))
    assert numbers == list(range(1, expected + 1))
    stored = db.session.get(Topic, topic_id)
    assert (stored.highest_post_number, stored.posts_count, stored.reply_count) == (expected, expected, expected - 1)
    per_author = {
        author_id: db.session.scalar(select(db.func.count()).where(Post.topic_id == topic_id, Post.user_id == author_id))
        for author_id in author_ids
    }
    assert per_author[author_ids[0]] == POSTS_PER_THREAD + 1
    assert all(count == POSTS_PER_THREAD for author_id, count in per_author.items() if author_id != author_ids[0])


def test_likes_and_replies_to_the_same_post_never_deadlock(app, make_user):
    """A like locks its post and then counts on the topic; a reply to that post must take the two rows in the same
    order, or PostgreSQL aborts one of them as a deadlock."""
    authors = [make_user() for _ in range(THREADS)]
    topic = topics.create_topic(make_user(), title="Liking and replying at once", raw="## Start\n\nThe post everyone answers.")
    topic_id, first_post_id = topic.id, posts.first_post(topic).id

    def like_then_reply(start, author_id: int):
        author = db.session.get(type(authors[0]), author_id)
        start()
        for n in range(POSTS_PER_THREAD):
            if n % 2 == author_id % 2:
                post = db.session.get(Post, first_post_id)
                (post_actions.unlike if n >= 2 else post_actions.like)(author, post)
            else:
                target = db.session.get(Topic, topic_id)
                posts.create_reply(author, target, raw=f"## Reply {n}\n\nAn answer to the first post.", reply_to_post_number=1)

    errors = run_together(app, like_then_reply, [(author.id,) for author in authors])
    assert [str(error) for error in errors] == []
    first = db.session.get(Post, first_post_id)
    stored_replies = db.session.scalar(select(db.func.count()).where(Post.topic_id == topic_id, Post.reply_to_post_number == 1))
    assert first.reply_count == stored_replies > 0


def test_a_post_deleted_by_many_at_once_is_counted_out_once(app, make_user, moderator):
    topic = topics.create_topic(make_user(), title="Deleting one reply from many tabs", raw="## Start\n\nThe opening post.")
    reply = posts.create_reply(make_user(), topic, raw="## A reply\n\nThe reply everyone deletes at once.")
    topic_id, reply_id, moderator_id = topic.id, reply.id, moderator.id

    def delete(start):
        actor, post = db.session.get(type(moderator), moderator_id), db.session.get(Post, reply_id)
        start()
        posts.delete_post(actor, post)

    assert run_together(app, delete, [()] * THREADS) == []
    stored = db.session.get(Topic, topic_id)
    assert (stored.posts_count, stored.reply_count) == (1, 0)


def test_a_reply_refused_on_the_locked_row_stores_and_announces_nothing(app, member, make_user, monkeypatch):
    """The topic is closed by another request after the reply's first check and before it takes the topic's lock."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite's one writer: no other write comes between a write unit's checks")
    topic = topics.create_topic(member, title="A dialogue closed while a reply is written", raw="## Start\n\nWhat has worked?")
    topic_id = topic.id
    count_reply_to = posts._count_reply_to  # runs after the first check and before the topic's lock is taken

    def count_while_the_topic_is_closed(read_topic, post_number: int):
        count_reply_to(read_topic, post_number)
        with db.engine.begin() as other_request:
            other_request.execute(update(Topic).where(Topic.id == read_topic.id).values(closed=True))

    monkeypatch.setattr(posts, "_count_reply_to", count_while_the_topic_is_closed)
    with listening(events.post_created) as created, listening(events.topic_changed) as changed:
        with pytest.raises(NotAllowed):
            posts.create_reply(make_user(), topic, raw="## Late\n\nWritten as the topic was closed.", reply_to_post_number=1)
    assert (created, changed) == ([], [])
    db.session.rollback()
    stored = db.session.get(Topic, topic_id)
    numbers = db.session.scalars(select(Post.post_number).where(Post.topic_id == topic_id)).all()
    assert (stored.highest_post_number, stored.posts_count, numbers, posts.first_post(stored).reply_count) == (1, 1, [1], 0)
