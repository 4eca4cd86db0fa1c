"""The topic view runs the same number of SQL queries whatever the topic's length, and writes nothing."""
from sqlalchemy import insert, select

from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import Post, PostAction, PostActionType, Topic, TopicUser
from forum.services import posts, topics
from tests.api.conftest import recorded_statements
from tests.api.test_topics import (  # noqa: F401  (fixtures)
    OPENING,
    category,
    make_dialogue,
    other,
    reply_text,
)

LONG_TOPIC_POSTS = 1000


def long_dialogue(authors, category) -> Topic:
    """A topic of LONG_TOPIC_POSTS posts by several authors, each replying to the one before, in one unit of work."""
    topic = topics.create_topic(authors[0], title="A very long dialogue on buycotts", raw=OPENING, category=category, tag_names=("buycott",))
    cooked = cook(reply_text(0))
    with write_unit(db.session):
        for n in range(2, LONG_TOPIC_POSTS + 1):
            posts.append_post(topic, authors[n % len(authors)], raw=reply_text(0), cooked=cooked, reply_to_post_number=n - 1)
    return topic


def read_and_like_everything(user, topic: Topic) -> None:
    """``user`` has read the topic to its end and liked every post of the others'."""
    others_posts = db.session.scalars(select(Post.id).where(Post.topic_id == topic.id, Post.user_id != user.id)).all()
    with write_unit(db.session):
        db.session.merge(TopicUser(user_id=user.id, topic_id=topic.id, last_read_post_number=topic.highest_post_number))
        likes = [{"post_id": post_id, "user_id": user.id, "post_action_type_id": PostActionType.LIKE} for post_id in others_posts]
        db.session.execute(insert(PostAction), likes)


def measure(client, url: str, headers: dict) -> tuple[list[str], dict]:
    db.session.remove()  # a fresh session, as a real request has: nothing loaded before counts
    with recorded_statements() as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.json
    return statements, response.json


def is_write(statement: str) -> bool:
    return statement.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE", "REPLACE"}


def test_the_topic_view_runs_a_fixed_number_of_queries_and_writes_nothing(client, auth_headers, member, other, moderator, category):
    short = make_dialogue(member, [other, moderator], 26, category=category)
    long = long_dialogue([member, other, moderator], category)
    for topic in (short, long):
        read_and_like_everything(member, topic)
    topics_by_length = {27: (short.id, short.slug, short.views), LONG_TOPIC_POSTS: (long.id, long.slug, long.views)}
    viewers = {"anonymous": auth_headers(None), "member": auth_headers(member), "moderator": auth_headers(moderator)}

    for viewer, headers in viewers.items():
        for page in ("first", "last"):
            counted = {}
            for length, (topic_id, slug, _) in topics_by_length.items():
                url = f"/t/{topic_id}.json" if page == "first" else f"/t/{slug}/{topic_id}/{length}.json"
                statements, body = measure(client, url, headers)
                shown = [post["post_number"] for post in body["post_stream"]["posts"]]
                assert shown == (list(range(1, 21)) if page == "first" else list(range(length - 19, length + 1))), url
                assert len(body["post_stream"]["stream"]) == length
                if viewer == "member":  # the batched read and like state is really there
                    assert all(post["read"] and post["actions_summary"] == [] for post in body["post_stream"]["posts"])
                assert [statement for statement in statements if is_write(statement)] == [], url
                # The viewer's read position and notification level come from one read of topic_users.
                assert sum("FROM topic_users" in statement for statement in statements) == (viewer != "anonymous"), url
                counted[length] = statements
            short_count, long_count = len(counted[27]), len(counted[LONG_TOPIC_POSTS])
            assert short_count == long_count, f"{viewer}, {page} page:\n\n" + "\n\n".join(counted[LONG_TOPIC_POSTS])
            assert short_count <= 15, f"{viewer}, {page} page:\n\n" + "\n\n".join(counted[27])

    for topic_id, _, views in topics_by_length.values():
        assert db.session.get(Topic, topic_id).views == views
