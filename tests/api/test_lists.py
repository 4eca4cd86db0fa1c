"""Topic lists: /latest, /top, /new, /unread, /c/{slug}/{id}, /tag/{name}."""
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import NotificationLevel, Post, Role, User
from forum.models.base import utcnow
from forum.services import posts, reading
from tests.api.conftest import recorded_statements
from tests.api.factories import make_category, make_topic, set_columns
from tests.api.spec import assert_matches_spec

HOUR = timedelta(hours=1)


def listed(get, path: str, user: User | None = None) -> list[int]:
    response = get(path, user)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["topic_list"]["topics"]]


# Spec conformance, for every documented list, anonymous and signed in, with every optional field in play.


@pytest.fixture
def busy_forum(app, member, moderator, old_member):
    category = make_category("Tactics dialogues")
    now = utcnow()
    pinned = make_topic(member, 1, category=category, tags=("training",), pinned_at=now - HOUR, pinned_globally=True)
    read = make_topic(moderator, 2, category=category, tags=("training", "carrotmob"))
    posts.create_reply(member, read, raw="## Reply\n\nWe trained supplier managers well.")
    plain = make_topic(member, 3)  # no category, no tags
    reading.record_timings(old_member, read.id, 1000, {1: 1000})
    reading.set_notification_level(old_member, read.id, NotificationLevel.TRACKING)  # so that it counts in /unread
    return {"category": category, "pinned": pinned, "read": read, "plain": plain}


SPEC_CASES = [
    ("/latest.json", "/latest.json"),
    ("/latest", "/latest.json"),
    ("/latest.json?per_page=1", "/latest.json"),  # with more_topics_url
    ("/top.json", "/top.json"),
    ("/top.json?period=all&per_page=1", "/top.json"),
    ("/c/tactics-dialogues/{category}.json", "/c/{slug}/{id}.json"),
    ("/c/tactics-dialogues/{category}.json?per_page=1", "/c/{slug}/{id}.json"),
    ("/tag/training.json", "/tag/{name}.json"),
    ("/tag/training.json?per_page=1", "/tag/{name}.json"),
]


@pytest.mark.parametrize("who", ["anonymous", "old_member", "moderator"])
def test_lists_match_discourse_schema(get, busy_forum, old_member, moderator, who):
    user = {"anonymous": None, "old_member": old_member, "moderator": moderator}[who]
    for path, spec_path in SPEC_CASES:
        response = get(path.format(category=busy_forum["category"].id), user)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert_matches_spec(response, "get", spec_path)
        assert response.get_json()["topic_list"]["topics"], path


@pytest.mark.parametrize("path", ["/new.json", "/unread.json"])
def test_new_and_unread_have_the_latest_shape(get, busy_forum, old_member, path):
    response = get(path, old_member)
    assert response.status_code == 200
    assert response.get_json()["topic_list"]["topics"]
    assert_matches_spec(response, "get", "/latest.json")


def test_topic_item_reports_posters_users_and_read_state(get, busy_forum, member, moderator, old_member):
    body = get("/latest.json", old_member).get_json()
    items = {item["id"]: item for item in body["topic_list"]["topics"]}
    read = items[busy_forum["read"].id]
    assert [(p["user_id"], p["description"], p["extras"]) for p in read["posters"]] == [
        (moderator.id, "Original Poster", ""),
        (member.id, "Most Recent Poster", "latest"),
    ]
    assert read["last_poster_username"] == member.username
    assert {user["id"]: user["username"] for user in body["users"]} == {member.id: "member", moderator.id: "moderator"}
    assert (read["highest_post_number"], read["last_read_post_number"], read["unread_posts"], read["unseen"]) == (2, 1, 1, False)
    assert read["tags"] == ["carrotmob", "training"] and read["category_id"] == busy_forum["category"].id
    plain = items[busy_forum["plain"].id]
    assert plain["posters"] == [
        {"extras": "latest single", "description": "Original Poster, Most Recent Poster", "user_id": member.id, "primary_group_id": None}
    ]
    # Never opened: no read position, and new to someone who joined before it was created.
    assert "last_read_post_number" not in plain and "unread_posts" not in plain and plain["unseen"] is True
    assert plain["category_id"] == 0  # uncategorised, as every shape of this API shows it: the schemas allow no null
    top_tags = body["topic_list"]["top_tags"]
    assert [(tag["name"], tag["slug"]) for tag in top_tags] == [("training", "training"), ("carrotmob", "carrotmob")]


def test_anonymous_callers_get_no_read_state_and_cannot_create(get, busy_forum):
    body = get("/latest.json").get_json()
    assert body["topic_list"]["can_create_topic"] is False
    for item in body["topic_list"]["topics"]:
        assert item["unseen"] is False
        assert "last_read_post_number" not in item and "unread_posts" not in item


def test_category_list_has_excerpts_and_no_read_state(get, busy_forum, old_member):
    category = busy_forum["category"]
    body = get(f"/c/{category.slug}/{category.id}.json", old_member).get_json()
    items = {item["id"]: item for item in body["topic_list"]["topics"]}
    assert set(items) == {busy_forum["pinned"].id, busy_forum["read"].id}
    assert items[busy_forum["read"].id]["excerpt"] == "Opening 2 What worked for you in case 2?"
    assert "last_read_post_number" not in items[busy_forum["read"].id]
    assert items[busy_forum["read"].id]["liked"] is None


# Ordering and paging.


@pytest.fixture
def five_topics(app, member):
    """Topics 1..5, bumped in that order (5 most recently), with views, posts and likes in other orders."""
    start = utcnow() - 10 * HOUR
    numbers = {1: (30, 2, 5), 2: (10, 5, 1), 3: (50, 1, 3), 4: (20, 4, 4), 5: (40, 3, 2)}  # views, posts, likes
    made = {}
    for n, (views, posts_count, likes) in numbers.items():
        made[n] = make_topic(
            member, n,
            created_at=start + (6 - n) * HOUR,  # created in the opposite order to bumping
            bumped_at=start + n * HOUR + HOUR * 5,
            views=views, posts_count=posts_count, like_count=likes,
        ).id
    return made


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", [5, 4, 3, 2, 1]),
        ("?order=default", [5, 4, 3, 2, 1]),
        ("?order=activity&ascending=true", [1, 2, 3, 4, 5]),
        ("?order=created", [1, 2, 3, 4, 5]),
        ("?order=created&ascending=true", [5, 4, 3, 2, 1]),
        ("?order=views", [3, 5, 1, 4, 2]),
        ("?order=posts", [2, 4, 5, 1, 3]),
        ("?order=likes", [1, 4, 3, 5, 2]),
        ("?order=likes&ascending=true", [2, 5, 3, 4, 1]),
        ("?order=no-such-order", [5, 4, 3, 2, 1]),
    ],
)
def test_latest_order(get, five_topics, query, expected):
    assert listed(get, f"/latest.json{query}") == [five_topics[n] for n in expected]


def test_latest_order_by_likes_on_the_opening_post(get, five_topics):
    for n, likes in {1: 0, 2: 9, 3: 4, 4: 7, 5: 1}.items():
        post_id = db.session.scalar(db.select(Post.id).where(Post.topic_id == five_topics[n], Post.post_number == 1))
        set_columns(Post, post_id, like_count=likes)
    assert listed(get, "/latest.json?order=op_likes") == [five_topics[n] for n in (2, 4, 3, 5, 1)]


def test_paging_with_per_page_and_more_topics_url(get, five_topics):
    first = get("/latest.json?per_page=2").get_json()["topic_list"]
    assert [t["id"] for t in first["topics"]] == [five_topics[5], five_topics[4]]
    assert first["per_page"] == 2
    assert first["more_topics_url"] == "/latest?per_page=2&page=1"
    second = get("/latest.json?per_page=2&page=1").get_json()["topic_list"]
    assert [t["id"] for t in second["topics"]] == [five_topics[3], five_topics[2]]
    assert second["more_topics_url"] == "/latest?per_page=2&page=2"
    last = get("/latest?page=2&per_page=2").get_json()["topic_list"]
    assert [t["id"] for t in last["topics"]] == [five_topics[1]]
    assert "more_topics_url" not in last
    beyond = get("/latest.json?per_page=2&page=3").get_json()["topic_list"]
    assert beyond["topics"] == [] and "more_topics_url" not in beyond


def test_a_page_that_is_exactly_full_has_no_more_topics_url(get, five_topics):
    body = get("/latest.json?per_page=5&order=views").get_json()["topic_list"]
    assert len(body["topics"]) == 5 and "more_topics_url" not in body
    body = get("/latest.json?per_page=4&order=views").get_json()["topic_list"]
    assert body["more_topics_url"] == "/latest?per_page=4&order=views&page=1"


def test_default_page_size_and_cap(get, app, member):
    for n in range(32):
        make_topic(member, n)
    body = get("/latest.json").get_json()["topic_list"]
    assert (body["per_page"], len(body["topics"]), body["more_topics_url"]) == (30, 30, "/latest?page=1")
    assert get("/latest.json?per_page=1000").get_json()["topic_list"]["per_page"] == 100


@pytest.mark.parametrize(
    "query",
    ["page=-1", "page=abc", "page=99999999999", "per_page=0", "per_page=-5", "per_page=ten", "ascending=maybe"],
)
def test_bad_paging_parameters_are_400(get, five_topics, query):
    response = get(f"/latest.json?{query}")
    assert response.status_code == 400
    assert response.get_json()["error_type"] == "invalid_parameters"


# Pinned topics.


@pytest.fixture
def pins(app, member):
    category = make_category("Pinboard")
    start = utcnow() - 10 * HOUR
    made = {
        "global": make_topic(member, 1, category=category, bumped_at=start, pinned_at=start, pinned_globally=True),
        "global_later": make_topic(member, 2, category=category, bumped_at=start + HOUR, pinned_at=start + 2 * HOUR,
                                   pinned_globally=True, pinned_until=utcnow() + HOUR),
        "expired": make_topic(member, 3, category=category, bumped_at=start + 2 * HOUR, pinned_at=start, pinned_globally=True,
                              pinned_until=utcnow() - HOUR),
        "in_category": make_topic(member, 4, category=category, bumped_at=start + 3 * HOUR, pinned_at=start - HOUR),
        "recent": make_topic(member, 5, category=category, bumped_at=start + 4 * HOUR),
        "newest": make_topic(member, 6, category=category, bumped_at=start + 5 * HOUR),
    }
    return category, {name: topic.id for name, topic in made.items()}


def test_globally_pinned_topics_come_first_on_latest(get, pins):
    _, ids = pins
    body = get("/latest.json").get_json()["topic_list"]
    order = [item["id"] for item in body["topics"]]
    assert order == [ids[name] for name in ("global_later", "global", "newest", "recent", "in_category", "expired")]
    pinned = {item["id"]: item["pinned"] for item in body["topics"]}
    assert pinned[ids["global"]] and pinned[ids["in_category"]]
    assert not pinned[ids["expired"]] and not pinned[ids["recent"]]


def test_pinned_topics_do_not_repeat_or_vanish_across_pages(get, pins):
    _, ids = pins
    pages = [listed(get, f"/latest.json?per_page=4&page={page}") for page in range(2)]
    assert pages[0][:2] == [ids["global_later"], ids["global"]]
    assert pages[0] + pages[1] == listed(get, "/latest.json")


def test_pins_do_not_apply_to_explicit_orders(get, pins):
    _, ids = pins
    assert listed(get, "/latest.json?order=created")[-1] == ids["global"]  # created first, listed last


def test_topics_pinned_in_a_category_come_first_in_it(get, pins):
    category, ids = pins
    order = listed(get, f"/c/{category.slug}/{category.id}.json")
    assert order[:3] == [ids["global_later"], ids["global"], ids["in_category"]]
    assert order[3:] == [ids["newest"], ids["recent"], ids["expired"]]


# Who sees what.


@pytest.fixture
def secret(app, make_user, member, moderator):
    insider = make_user(Role.MEMBER, "insider")
    author = make_user(Role.MEMBER, "secret_author")
    category = make_category("Board room", restricted_to=(insider, author))
    topic = make_topic(author, 1, category=category, tags=("secret-tactic",))
    public = make_topic(member, 2, tags=("training",))
    return {"category": category, "topic": topic.id, "public": public.id, "insider": insider, "author": author}


@pytest.mark.parametrize("path", ["/latest.json", "/top.json?period=all"])
def test_restricted_topics_are_listed_only_to_the_group_and_staff(get, secret, member, moderator, path):
    assert secret["topic"] not in listed(get, path)
    assert secret["topic"] not in listed(get, path, member)
    assert secret["topic"] in listed(get, path, secret["insider"])
    assert secret["topic"] in listed(get, path, moderator)


def test_restricted_topics_leak_no_posters_tags_or_counts(get, secret, member, moderator):
    body = get("/latest.json", member).get_json()
    assert secret["author"].id not in [user["id"] for user in body["users"]]
    assert [tag["name"] for tag in body["topic_list"]["top_tags"]] == ["training"]
    assert get("/tag/secret-tactic.json", member).status_code == 404  # used only where the member may not read
    assert secret["topic"] in listed(get, "/tag/secret-tactic.json", secret["insider"])
    staff_view = get("/tag/secret-tactic.json", moderator).get_json()["topic_list"]
    assert staff_view["tags"][0]["topic_count"] == 1
    staff_latest = get("/latest.json", moderator).get_json()
    assert {tag["name"] for tag in staff_latest["topic_list"]["top_tags"]} == {"training", "secret-tactic"}


def test_restricted_category_list_is_404_outside_the_group(get, secret, member, moderator):
    category = secret["category"]
    for path in (f"/c/{category.slug}/{category.id}.json", f"/c/{category.id}.json"):
        for user in (None, member):
            response = get(path, user)
            assert response.status_code == 404
            assert response.get_json()["error_type"] == "not_found"
        assert listed(get, path, secret["insider"]) == [secret["topic"]]
        assert listed(get, path, moderator) == [secret["topic"]]


def test_restricted_topics_are_neither_new_nor_unread_to_outsiders(get, secret, old_member):
    assert secret["topic"] not in listed(get, "/new.json", old_member)
    assert secret["public"] in listed(get, "/new.json", old_member)


def test_unlisted_topics_are_listed_to_staff_only_and_deleted_ones_to_no_one(get, app, member, moderator):
    unlisted = make_topic(member, 1, visible=False).id
    make_topic(member, 2, deleted_at=utcnow())
    shown = make_topic(member, 3).id
    assert listed(get, "/latest.json", member) == [shown]
    assert set(listed(get, "/latest.json", moderator)) == {unlisted, shown}


# /top


def test_top_ranks_by_likes_then_posts_then_views_within_the_period(get, app, member):
    now = utcnow()
    most_liked = make_topic(member, 1, like_count=9, posts_count=1, views=1, created_at=now - 2 * HOUR).id
    busier = make_topic(member, 2, like_count=3, posts_count=8, views=1, created_at=now - 3 * HOUR).id
    quieter = make_topic(member, 3, like_count=3, posts_count=2, views=90, created_at=now - 4 * HOUR).id
    last_week = make_topic(member, 4, like_count=50, created_at=now - timedelta(days=6)).id
    last_year = make_topic(member, 5, like_count=80, created_at=now - timedelta(days=200)).id
    ancient = make_topic(member, 6, like_count=99, created_at=now - timedelta(days=800)).id
    assert listed(get, "/top.json?period=daily") == [most_liked, busier, quieter]
    assert listed(get, "/top.json?period=weekly") == [last_week, most_liked, busier, quieter]
    assert listed(get, "/top.json") == [last_year, last_week, most_liked, busier, quieter]  # yearly by default
    assert listed(get, "/top.json?period=all")[0] == ancient
    body = get("/top.json?period=monthly&per_page=2").get_json()["topic_list"]
    assert (body["for_period"], body["per_page"], body["more_topics_url"]) == ("monthly", 2, "/top?period=monthly&per_page=2&page=1")
    assert get("/top.json").get_json()["topic_list"]["per_page"] == 50


def test_top_rejects_an_unknown_period(get, app):
    response = get("/top.json?period=fortnightly")
    assert response.status_code == 400
    assert response.get_json()["error_type"] == "invalid_parameters"


# /new and /unread


@pytest.mark.parametrize("path", ["/new.json", "/unread.json", "/new", "/unread"])
def test_new_and_unread_need_a_signed_in_user(get, app, path):
    response = get(path)
    assert response.status_code == 403
    assert response.get_json()["errors"] == ["You need to be logged in to do that."]


def test_new_lists_recent_topics_never_opened(get, app, member, old_member):
    now = utcnow()
    fresh = make_topic(member, 1, created_at=now - HOUR).id
    opened = make_topic(member, 2, created_at=now - HOUR).id
    stale = make_topic(member, 3, created_at=now - timedelta(days=3)).id
    reading.record_timings(old_member, opened, 500, {1: 500})
    assert listed(get, "/new.json", old_member) == [fresh]
    assert stale in listed(get, "/latest.json", old_member)


def test_new_topic_duration_comes_from_the_configuration(get, app, member, old_member, monkeypatch):
    now = utcnow()
    two_hours = make_topic(member, 1, created_at=now - 2 * HOUR).id
    ten_minutes = make_topic(member, 2, created_at=now - timedelta(minutes=10)).id
    monkeypatch.setitem(app.config, "NEW_TOPIC_DURATION_MINUTES", 60)
    assert listed(get, "/new.json", old_member) == [ten_minutes]
    body = get("/latest.json", old_member).get_json()["topic_list"]["topics"]
    assert {item["id"]: item["unseen"] for item in body} == {ten_minutes: True, two_hours: False}
    monkeypatch.setitem(app.config, "NEW_TOPIC_DURATION_MINUTES", 180)
    assert listed(get, "/new.json", old_member) == [ten_minutes, two_hours]


def test_topics_from_before_the_user_joined_are_not_new(get, app, member, make_user):
    make_topic(member, 1, created_at=utcnow() - HOUR)
    newcomer = make_user(Role.MEMBER, "newcomer")
    assert listed(get, "/new.json", newcomer) == []


def test_unread_lists_followed_topics_with_posts_beyond_the_read_position(get, app, member, moderator, old_member):
    caught_up = make_topic(member, 1)
    behind = make_topic(member, 2)
    never_opened = make_topic(member, 3)
    only_opened = make_topic(member, 4)
    for topic in (caught_up, behind, only_opened):
        reading.record_timings(old_member, topic.id, 1000, {1: 1000})
    for topic in (caught_up, behind, never_opened):
        reading.set_notification_level(old_member, topic.id, NotificationLevel.TRACKING)
    assert listed(get, "/unread.json", old_member) == []
    for topic in (behind, never_opened, only_opened):
        posts.create_reply(moderator, topic, raw="## News\n\nA reply the member has not read yet.")
    body = get("/unread.json", old_member).get_json()["topic_list"]["topics"]
    assert [(item["id"], item["unread_posts"], item["last_read_post_number"]) for item in body] == [(behind.id, 1, 1)]


# One category, one tag.


def test_category_list_includes_subcategories_and_ignores_the_slug(get, app, member):
    parent = make_category("Parent place")
    child = make_category("Child place", parent=parent)
    other = make_category("Elsewhere")
    in_parent = make_topic(member, 1, category=parent, bumped_at=utcnow() - HOUR).id
    in_child = make_topic(member, 2, category=child).id
    make_topic(member, 3, category=other)
    assert listed(get, f"/c/parent-place/{parent.id}.json") == [in_child, in_parent]
    assert listed(get, f"/c/{parent.id}.json") == [in_child, in_parent]
    assert listed(get, f"/c/wrong-slug/{parent.id}") == [in_child, in_parent]
    assert listed(get, f"/c/child-place/{child.id}.json") == [in_child]


def test_category_list_pages_without_more_topics_url(get, app, member):
    category = make_category("Paged place")
    ids = [make_topic(member, n, category=category, bumped_at=utcnow() - n * HOUR).id for n in range(3)]
    body = get(f"/c/paged-place/{category.id}.json?per_page=2").get_json()["topic_list"]
    assert [item["id"] for item in body["topics"]] == ids[:2]
    assert "more_topics_url" not in body  # the schema for this path has none
    assert listed(get, f"/c/paged-place/{category.id}.json?per_page=2&page=1") == ids[2:]


def test_unknown_category_and_tag_are_404(get, app):
    for path in ("/c/nothing/999.json", "/c/999.json", "/tag/no-such-tag.json"):
        response = get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error_type"] == "not_found"


def test_tag_list_shows_the_tagged_topics(get, app, member):
    tagged = [make_topic(member, n, tags=("carrotmob", "training"), bumped_at=utcnow() - n * HOUR).id for n in range(3)]
    make_topic(member, 9, tags=("training",))
    body = get("/tag/carrotmob.json?per_page=2").get_json()["topic_list"]
    assert [item["id"] for item in body["topics"]] == tagged[:2]
    assert body["more_topics_url"] == "/tag/carrotmob?per_page=2&page=1"
    assert [(tag["name"], tag["topic_count"]) for tag in body["tags"]] == [("carrotmob", 3)]
    assert listed(get, "/tag/CarrotMob") == tagged


# A fixed number of queries, whatever the page size.


def _count_queries(get, path: str, user: User) -> tuple[int, int]:
    """How many statements answering ``path`` took, and how many topics it listed."""
    with recorded_statements(requests_only=True) as statements:
        response = get(path, user)
    assert response.status_code == 200
    return len(statements), len(response.get_json()["topic_list"]["topics"])


# (path, who asks, topics listed when the forum has 5 topics, when it has 50)
COUNTED_LISTS = [
    ("/latest.json?per_page=100", "reader", 5, 50),
    ("/latest.json", "reader", 5, 30),
    ("/c/counted/{category}.json?per_page=100", "reader", 5, 50),
    ("/unread.json?per_page=100", "reader", 5, 50),
    ("/new.json?per_page=100", "moderator", 5, 50),  # who has opened none of them
    ("/top.json?per_page=100", "anonymous", 5, 50),
    ("/tag/tag1.json?per_page=100", "reader", 2, 17),  # every third topic
]


def test_lists_take_a_fixed_number_of_queries(get, app, make_user, old_member, moderator):
    authors = [make_user(Role.MEMBER, f"author{n}") for n in range(4)]
    category = make_category("Counted")
    users = {"reader": old_member, "moderator": moderator, "anonymous": None}

    def populate(count: int, start: int) -> None:
        for n in range(start, start + count):
            topic = make_topic(authors[n % 4], n, category=category, tags=(f"tag{n % 3}", f"extra{n}"))
            posts.create_reply(authors[(n + 1) % 4], topic, raw="## Reply\n\nA reply from another member here.")
            reading.record_timings(old_member, topic.id, 1000, {1: 1000})
            reading.set_notification_level(old_member, topic.id, NotificationLevel.TRACKING)

    def count_all() -> dict[str, tuple[int, int]]:
        return {path: _count_queries(get, path.format(category=category.id), users[who]) for path, who, _, _ in COUNTED_LISTS}

    populate(5, 0)
    for user in users.values():
        get("/latest.json", user)  # an API key's first use may write; not what is counted
    few = count_all()
    populate(45, 5)
    many = count_all()
    for path, _, few_topics, many_topics in COUNTED_LISTS:
        assert (few[path][1], many[path][1]) == (few_topics, many_topics), path
        assert 0 < many[path][0] == few[path][0], path
