"""The anonymous cache: anonymous topic views and lists are kept whole, and every change drops what it staled at
once, whichever process makes it (this one, another app process, the Celery worker), with the versions in the
embedded shared-memory file or in Redis."""
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from forum import create_app
from forum.api.anonymous_cache import CACHED_HEADER, RedisVersions, VersionsUnavailable
from forum.extensions import db
from forum.services import posts, topics
from tests import databases
from tests.api.factories import make_category
from tests.test_timers import _make_due
from tests.api.test_topics import OPENING, make_dialogue, other, reply_text  # noqa: F401  (fixtures)
from tests.conftest import REPO_ROOT, RequestIsolatingClient, wait_until


def anonymous(client, url: str):
    response = client.get(url)
    return response, response.headers.get(CACHED_HEADER)


@pytest.fixture
def dialogue(member, other):
    return make_dialogue(member, [other], 3)


def test_a_second_anonymous_request_is_served_from_the_cache(client, dialogue):
    url = f"/t/{dialogue.id}.json"
    first, first_state = anonymous(client, url)
    second, second_state = anonymous(client, url)
    assert (first.status_code, first_state, second.status_code, second_state) == (200, "store", 200, "true")
    assert second.data == first.data
    assert second.content_type == first.content_type == "application/json; charset=utf-8"
    # Another path is another page, and the lists are kept too.
    assert anonymous(client, f"/t/x/{dialogue.id}/3.json")[1] == "store"
    assert [anonymous(client, "/latest.json")[1] for _ in range(2)] == ["store", "true"]


def test_the_slug_and_suffix_of_a_topic_url_make_no_new_page(client, dialogue):
    first, state = anonymous(client, f"/t/{dialogue.id}.json")
    assert state == "store"
    for same in (f"/t/{dialogue.id}", f"/t/{dialogue.slug}/{dialogue.id}.json", f"/t/made-up-slug-{uuid.uuid4().hex}/{dialogue.id}.json"):
        response, state = anonymous(client, same)
        assert (response.status_code, state, response.data) == (200, "true", first.data), same  # the first page, kept


def test_parameters_the_view_does_not_read_make_no_new_page(client, member):
    for n in range(3):
        topics.create_topic(member, title=f"A dialogue about buycotts, part {n}", raw=OPENING)
    first, state = anonymous(client, "/latest.json?per_page=2&order=views")
    assert state == "store" and first.json["topic_list"]["more_topics_url"] == "/latest?per_page=2&order=views&page=1"
    # Made-up parameters, a repeated one (the view reads the first) and another order of the same ones: the same page.
    for junk in ("x=1", "x=2&y=3", "per_page=2&per_page=9", "page="):
        response, state = anonymous(client, f"/latest.json?order=views&{junk}&per_page=2")
        assert (state, response.data) == ("true", first.data), junk
    # Every parameter the list reads is a page of its own.
    for other_page in ("per_page=2&order=views&page=1", "per_page=1&order=views", "per_page=2&order=created",
                       "per_page=2&order=views&ascending=true"):
        assert anonymous(client, f"/latest.json?{other_page}")[1] == "store", other_page
    assert anonymous(client, "/top.json?period=all")[1] == "store"
    assert anonymous(client, "/top.json?period=weekly&x=1")[1] == "store"
    assert anonymous(client, "/top.json?x=2&period=weekly")[1] == "true"


def test_a_kept_page_never_carries_a_visitors_own_parameters(client, member):
    for n in range(2):
        topics.create_topic(member, title=f"A dialogue about buycotts, part {n}", raw=OPENING)
    response, state = anonymous(client, "/latest.json?per_page=1&utm_source=elsewhere")
    assert state == "store" and response.json["topic_list"]["more_topics_url"] == "/latest?per_page=1&page=1"
    # A parameter sent in the body is read too, so it keys the page as it would in the query string.
    in_body = client.get("/latest.json", data={"per_page": "1"})
    assert (in_body.headers[CACHED_HEADER], len(in_body.json["topic_list"]["topics"])) == ("true", 1)
    plain, state = anonymous(client, "/latest.json")
    assert state == "store" and len(plain.json["topic_list"]["topics"]) == 2


def test_signed_in_requests_never_come_from_the_cache(client, auth_headers, dialogue, member):
    url = f"/t/{dialogue.id}.json"
    anonymous(client, url)
    anonymous(client, url)
    for _ in range(2):
        response = client.get(url, headers=auth_headers(member))
        assert response.headers[CACHED_HEADER] == "skip"
        assert response.json["details"]["can_create_post"] is True  # the member's own answer, not the visitor's
    assert anonymous(client, url)[0].json["details"]["can_create_post"] is False


def test_a_cache_hit_runs_no_query(client, dialogue):
    from tests.api.conftest import recorded_statements

    url = f"/t/{dialogue.id}.json"
    anonymous(client, url)
    with recorded_statements(requests_only=True) as statements:
        assert anonymous(client, url)[1] == "true"
    assert statements == []


def _stored_then(client, url: str, change) -> tuple:
    """Store ``url`` for anonymous visitors, make ``change``, and return the next anonymous answer and its state."""
    anonymous(client, url)
    assert anonymous(client, url)[1] == "true"
    change()
    return anonymous(client, url)


def test_a_reply_an_edit_and_a_like_show_at_once(client, auth_headers, dialogue, member, other):
    url = f"/t/{dialogue.id}.json"
    headers = auth_headers(other)

    def reply():
        assert client.post("/posts.json", headers=headers, data={"topic_id": dialogue.id, "raw": reply_text(9)}).status_code == 200

    response, state = _stored_then(client, url, reply)
    assert state == "store" and response.json["posts_count"] == 5

    first_post_id = response.json["post_stream"]["stream"][0]

    def edit():
        edited = client.put(f"/posts/{first_post_id}.json", headers=auth_headers(member), data={"post[raw]": OPENING + " Edited."})
        assert edited.status_code == 200

    response, state = _stored_then(client, url, edit)
    assert state == "store" and "Edited." in response.json["post_stream"]["posts"][0]["cooked"]

    def like():
        assert client.post("/post_actions.json", headers=headers, data={"id": first_post_id, "post_action_type_id": 2}).status_code == 200

    response, state = _stored_then(client, url, like)
    assert state == "store" and response.json["like_count"] == 1


def test_deleting_a_post_or_the_topic_shows_at_once(client, auth_headers, dialogue, moderator):
    url = f"/t/{dialogue.id}.json"
    last_post_id = posts.posts_in_order(posts.stream(None, dialogue).post_ids)[-1].id

    def delete_post():
        assert client.delete(f"/posts/{last_post_id}.json", headers=auth_headers(moderator)).status_code == 200

    response, state = _stored_then(client, url, delete_post)
    assert state == "store" and last_post_id not in response.json["post_stream"]["stream"]

    def delete_topic():
        assert client.delete(f"/t/{dialogue.id}.json", headers=auth_headers(moderator)).status_code == 200

    response, state = _stored_then(client, url, delete_topic)
    assert response.status_code == 404


def test_a_topic_moved_into_a_restricted_category_disappears_for_visitors_at_once(client, auth_headers, dialogue, member, moderator):
    staff_room = make_category("Staff room", restricted_to=(moderator,))
    latest = anonymous(client, "/latest.json")[0]
    assert dialogue.id in [topic["id"] for topic in latest.json["topic_list"]["topics"]]

    def move():
        moved = client.put(f"/t/-/{dialogue.id}.json", headers=auth_headers(moderator), data={"topic[category_id]": staff_room.id})
        assert moved.status_code == 200

    response, _ = _stored_then(client, f"/t/{dialogue.id}.json", move)
    assert response.status_code == 404
    latest, state = anonymous(client, "/latest.json")
    assert state == "store" and dialogue.id not in [topic["id"] for topic in latest.json["topic_list"]["topics"]]


def test_a_new_topic_shows_in_the_lists_at_once(client, member):
    assert [anonymous(client, "/latest.json")[1] for _ in range(2)] == ["store", "true"]
    topic = topics.create_topic(member, title="A newer dialogue about buycotts", raw=OPENING)
    latest, state = anonymous(client, "/latest.json")
    assert state == "store" and topic.id in [item["id"] for item in latest.json["topic_list"]["topics"]]


def test_a_timer_firing_in_the_worker_closes_the_topic_for_visitors_at_once(client, worker, dialogue, moderator):
    from bots.tasks import scan_due_timers
    from forum.services import timers

    url = f"/t/{dialogue.id}.json"
    timer = timers.set_topic_timer(moderator, dialogue, status_type="close", time="24")
    assert [anonymous(client, url)[1] for _ in range(2)] == ["store", "true"]
    _make_due(timer.id)
    scan_due_timers.delay()
    # Well inside PAGE_CACHE_SECONDS: only the worker's invalidation can make the closed topic show this soon.
    assert client.application.config["PAGE_CACHE_SECONDS"] > 20
    closed = wait_until(lambda: (response := client.get(url)).json["closed"] and response, timeout=20)
    assert closed.headers[CACHED_HEADER] == "store"


# Across processes, in both configurations ---------------------------------------------------------------


CLOSE_IN_ANOTHER_PROCESS = """
import sys
from forum import create_app
from forum.extensions import db
from forum.models import Topic, User
from forum.services import topics
app = create_app()
with app.app_context():
    topic = db.session.get(Topic, int(sys.argv[1]))
    topics.set_status(db.session.get(User, int(sys.argv[2])), topic, "closed", True)
"""


def close_in_another_process(settings: dict, topic_id: int, actor_id: int, env: dict) -> None:
    subprocess.run(
        [sys.executable, "-c", CLOSE_IN_ANOTHER_PROCESS, str(topic_id), str(actor_id)],
        cwd=REPO_ROOT, env={**os.environ, **settings, **env}, check=True, timeout=120,
    )


@pytest.fixture
def redis_app(settings):
    """An app whose cache keeps its versions in Redis, under a key prefix of its own (removed afterwards)."""
    redis_url = os.environ.get("FORUM_TEST_BROKER_URL", "")
    if not redis_url.startswith("redis"):
        databases.unavailable("the Redis configuration needs FORUM_TEST_BROKER_URL=redis://...")
    databases.check_broker(redis_url)
    prefix = f"forum-test-page-cache-{uuid.uuid4().hex[:10]}:"
    app = create_app({
        "DATABASE_URL": settings["FORUM_DATABASE_URL"],
        "BROKER_URL": settings["FORUM_BROKER_URL"],
        "BROKER_TRANSPORT_OPTIONS": json.loads(settings["FORUM_BROKER_TRANSPORT_OPTIONS"]),
        "REDIS_URL": redis_url,
        "PAGE_CACHE_KEY_PREFIX": prefix,
    })
    app.test_client_class = RequestIsolatingClient
    yield app, {"FORUM_REDIS_URL": redis_url, "FORUM_PAGE_CACHE_KEY_PREFIX": prefix}
    databases.remove_broker_keys(redis_url, {"global_keyprefix": prefix})


@pytest.mark.parametrize("configuration", ["embedded", "redis"])
def test_a_change_made_in_another_process_shows_at_once(request, app, settings, dialogue, moderator, configuration):
    if configuration == "redis":
        cached_app, env = request.getfixturevalue("redis_app")
        from forum.api.anonymous_cache import RedisVersions

        assert isinstance(cached_app.extensions["anonymous_cache"].versions, RedisVersions)
    else:
        cached_app, env = app, {}
    client = cached_app.test_client()
    url = f"/t/{dialogue.id}.json"
    topic_id, moderator_id = dialogue.id, moderator.id
    db.session.commit()
    assert [anonymous(client, url)[1] for _ in range(2)] == ["store", "true"]
    close_in_another_process(settings, topic_id, moderator_id, env)
    response, state = anonymous(client, url)
    assert (state, response.json["closed"]) == ("store", True)
    assert anonymous(client, url)[1] == "true"


def test_with_redis_silent_one_page_waits_on_it_then_pages_are_rendered_without_asking_for_a_while(silent_redis):
    versions = RedisVersions(silent_redis.url, "silent-test:")
    versions.RETRY_SECONDS = 1.0
    with pytest.raises(VersionsUnavailable):
        versions.read(("topic:1", "lists"))
    time.sleep(0.2)  # the accepting thread's turn
    asked = len(silent_redis.connections)
    assert asked >= 1
    for _ in range(2):
        with pytest.raises(VersionsUnavailable):
            versions.read(("topic:1", "lists"))
    time.sleep(0.2)
    assert len(silent_redis.connections) == asked  # the reads right after a failure did not ask Redis
    time.sleep(1.0)
    with pytest.raises(VersionsUnavailable):
        versions.read(("topic:1",))
    time.sleep(0.2)
    assert len(silent_redis.connections) > asked  # once the pause is over, Redis is asked again
