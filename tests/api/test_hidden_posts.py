"""A post hidden by flags shows its text to staff and its author only: in every answer that carries post text."""
import pytest
from sqlalchemy import select

from forum.api.serializers.posts import raw_export, raw_markdown
from forum.extensions import db
from forum.models import Category, Post, Reviewable, Role, Topic, User
from forum.services import posts, review, topics

SECRET = "kickbacks"
OPENING = "## Factory inspections\n\nHow do you work with the inspectors who visit your suppliers?"
FIRST_DRAFT = "## The inspectors\n\nOur supplier met the inspectors every month."
HIDDEN = "## The inspectors\n\nOur supplier paid the inspectors kickbacks every month."
INAPPROPRIATE = 4  # the flag type


@pytest.fixture
def author(make_user):
    return make_user(Role.MEMBER, "amira")


@pytest.fixture
def reader(make_user):
    return make_user(Role.MEMBER, "reader")


@pytest.fixture
def topic(member) -> Topic:
    return topics.create_topic(member, title="Working with factory inspectors", raw=OPENING)


@pytest.fixture
def hidden(topic, author, make_user) -> Post:
    """A reply to the opening post, edited once (so it has a revision, whose reason says what it added), then
    hidden by three members' flags."""
    post = posts.create_reply(author, topic, raw=FIRST_DRAFT, reply_to_post_number=1)
    post = posts.edit_post(author, post, raw=HIDDEN, edit_reason=f"named the {SECRET}")
    for _ in range(3):
        review.flag_post(make_user(), post, INAPPROPRIATE)
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.hidden_at is not None
    return post


def opening_post(topic: Topic) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.post_number == 1))


def answers(get, topic: Topic, post: Post, viewer: User | None) -> dict[str, str]:
    """Every answer that carries the hidden post (but search's), as text, by path."""
    paths = [
        f"/t/{topic.id}.json",
        f"/t/{topic.id}/posts.json?post_ids[]={post.id}",
        f"/posts/{post.id}.json",
        f"/posts/by_number/{topic.id}/{post.post_number}.json",
        "/posts.json",
        f"/posts/{opening_post(topic).id}/replies.json",
        f"/raw/{topic.id}",
        f"/raw/{topic.id}/{post.post_number}",
    ]
    texts = {}
    for path in paths:
        response = get(path, viewer)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        texts[path] = response.get_data(as_text=True)
    return texts


@pytest.mark.parametrize("viewer", ["anonymous", "reader"])
def test_others_see_no_text_of_a_hidden_post_anywhere(get, topic, hidden, reader, viewer):
    texts = answers(get, topic, hidden, reader if viewer == "reader" else None)
    assert [path for path, text in texts.items() if SECRET in text] == []
    # The answers still carry the rest of the topic: the check looks where the text would be.
    assert "inspectors who visit" in texts[f"/raw/{topic.id}"] and "inspectors who visit" in texts[f"/t/{topic.id}.json"]


REVISIONS = ("/posts/{id}/revisions/2.json", "/posts/{id}/revisions/latest.json")


@pytest.mark.parametrize("path", REVISIONS)
def test_a_hidden_posts_edit_history_is_refused_to_others_as_discourse_does(get, hidden, reader, path):
    for viewer in (None, reader):
        response = get(path.format(id=hidden.id), viewer)
        assert response.status_code == 403
        assert response.json["error_type"] == "invalid_access"
        assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", REVISIONS)
def test_a_hidden_posts_author_and_staff_see_every_change(get, hidden, author, moderator, path):
    for viewer in (author, moderator):
        revision = get(path.format(id=hidden.id), viewer).json
        changes = " ".join(revision["body_changes"].values())
        assert SECRET in changes and "supplier" in changes
        assert revision["edit_reason"] == f"named the {SECRET}"


def test_the_author_and_staff_still_read_a_hidden_post(get, topic, hidden, author, moderator):
    for viewer in (author, moderator):
        texts = answers(get, topic, hidden, viewer)
        assert [path for path, text in texts.items() if SECRET not in text] == []


def test_the_raw_export_shows_a_hidden_post_to_its_author_and_staff_only(topic, hidden, author, reader, moderator):
    exported = posts.raw_export(None, topic.id)
    users = posts.users_by_id({post.user_id for post in exported})
    shown = {viewer: SECRET in raw_export(exported, users, viewer) for viewer in (None, reader, author, moderator)}
    assert shown == {None: False, reader: False, author: True, moderator: True}
    assert all(f"{author.username} | " in raw_export(exported, users, viewer) for viewer in (None, reader))
    assert {viewer: raw_markdown(hidden, viewer) for viewer in (None, reader, author)} == {None: "", reader: "", author: HIDDEN}


def search(get, q: str, viewer: User | None) -> list[dict]:
    response = get(f"/search.json?q={q}", viewer)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["posts"]


def test_search_finds_a_hidden_post_for_its_author_and_staff_only(get, topic, hidden, author, reader, moderator):
    for viewer in (None, reader):
        assert search(get, SECRET, viewer) == []
    for viewer in (author, moderator):
        [found] = search(get, SECRET, viewer)
        assert found["id"] == hidden.id and SECRET in found["blurb"]


def test_search_shows_others_the_topics_other_posts_instead_of_a_hidden_one(get, topic, hidden, author, reader, moderator):
    # "inspectors" is in both posts; the hidden one ranks first (it says it twice), so it would be the topic's hit.
    assert [post["id"] for post in search(get, "inspectors", moderator)] == [hidden.id]
    for viewer in (None, reader):
        [found] = search(get, "inspectors", viewer)
        assert found["id"] == opening_post(topic).id and SECRET not in found["blurb"]
    # Without search words the blurb is the post's excerpt: a hidden post is no hit there either.
    for viewer in (None, reader):
        assert search(get, f"@{author.username}", viewer) == []
    [own] = search(get, f"@{author.username}", author)
    assert own["id"] == hidden.id and SECRET in own["blurb"]


def test_a_category_list_shows_no_excerpt_of_a_hidden_opening_post_to_others(get, make_user, moderator):
    category = Category(name="Inspections", slug="inspections")
    db.session.add(category)
    db.session.commit()
    opener = make_user(Role.MEMBER, "opener")
    made = topics.create_topic(opener, title="Inspectors and their kickbacks", raw=HIDDEN, category=category)
    for _ in range(3):
        review.flag_post(make_user(), posts.first_post(made), INAPPROPRIATE)
    for viewer, shown in ((None, False), (make_user(), False), (opener, True), (moderator, True)):
        listed = get(f"/c/inspections/{category.id}.json", viewer).json["topic_list"]["topics"]
        [item] = [topic for topic in listed if topic["id"] == made.id]
        assert (SECRET in (item.get("excerpt") or "")) == shown, viewer


def test_a_hidden_post_cannot_be_flagged_again(post, hidden, reader, moderator):
    """As Discourse's guardian: once flags hid a post, more flags add nothing a moderator does not already review."""
    for flagger in (reader, moderator):
        response = post("/post_actions.json", flagger, json={"id": hidden.id, "post_action_type_id": INAPPROPRIATE})
        assert response.status_code == 403 and response.get_json()["error_type"] == "invalid_access"
        assert response.get_json()["errors"] == ["That post is hidden until a moderator reviews it; it cannot be flagged again."]
    db.session.rollback()
    [item] = db.session.scalars(select(Reviewable).where(Reviewable.post_id == hidden.id)).all()
    assert len(item.scores) == 3
