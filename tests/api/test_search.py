"""GET /search.json: full-text search over posts and topic titles, with Discourse's operators."""
from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import inspect, select, text, update

from forum import create_app
from forum.content import cook
from forum.database import write_unit
from forum.extensions import db
from forum.models import Post, PostType, Role, Topic
from forum.services import posts, search, topics
from tests import databases
from tests.api.conftest import recorded_statements
from tests.api.factories import make_category
from tests.api.spec import assert_matches_spec

SPEC_PATH = "/search.json"
HIGHLIGHT = '<span class="search-highlight">'


@pytest.fixture
def author(make_user):
    return make_user(Role.MEMBER, "amira")


def topic(author, title, raw, **options) -> Topic:
    return topics.create_topic(author, title=title, raw=raw, **options)


def reply(author, on: Topic, raw: str) -> Post:
    return posts.create_reply(author, on, raw=raw)


def run(client, auth_headers, q=None, user=None, **query):
    if q is not None:
        query["q"] = q
    response = client.get(SPEC_PATH, query_string=query, headers=auth_headers(user))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_matches_spec(response, "get", SPEC_PATH)
    return response.json


def found(client, auth_headers, q, user=None, **query) -> list[int]:
    """The ids of the posts a search finds, in order."""
    return [post["id"] for post in run(client, auth_headers, q, user, **query)["posts"]]


def first_post(of: Topic) -> Post:
    return db.session.scalar(select(Post).where(Post.topic_id == of.id, Post.post_number == 1))


# The response.


def test_response_has_discourse_shape_and_fields(client, auth_headers, author, member):
    carrotmob = make_category("Carrotmob stories")
    made = topic(author, "Carrotmob at the corner shop", "We organised a carrotmob with forty neighbours.",
                 category=carrotmob, tag_names=("carrotmob",))
    body = run(client, auth_headers, "carrotmob", user=member)

    [hit] = body["posts"]
    post = first_post(made)
    assert hit["id"] == post.id
    assert hit["topic_id"] == made.id
    assert hit["post_number"] == 1
    assert hit["username"] == "amira"
    assert hit["avatar_template"].startswith("/letter_avatar_proxy/")
    assert hit["like_count"] == 0
    assert hit["created_at"].endswith("Z")
    assert f"{HIGHLIGHT}carrotmob</span>" in hit["blurb"]
    assert hit["topic_title_headline"] == f"{HIGHLIGHT}Carrotmob</span> at the corner shop"
    assert [c["id"] for c in body["categories"]] == [carrotmob.id]
    assert [(t["name"], t["slug"]) for t in body["tags"]] == [("carrotmob", "carrotmob")]
    assert body["groups"] == []
    grouped = body["grouped_search_result"]
    assert grouped["term"] == "carrotmob"
    assert grouped["post_ids"] == [post.id]
    assert grouped["category_ids"] == [carrotmob.id]
    assert grouped["tag_ids"] == [t["id"] for t in body["tags"]]
    assert grouped["can_create_topic"] is True
    assert grouped["more_full_page_results"] is None
    assert grouped["error"] is None


def test_answers_with_and_without_the_json_suffix(client, author):
    topic(author, "Restorative circles in schools", "Circles helped the pupils talk.")
    assert client.get("/search?q=circles").json["grouped_search_result"]["term"] == "circles"
    assert len(client.get("/search.json?q=circles").json["posts"]) == 1


def test_anonymous_visitors_may_search_but_not_create_topics(client, auth_headers, author):
    topic(author, "Restorative circles in schools", "Circles helped the pupils talk.")
    body = run(client, auth_headers, "circles")
    assert len(body["posts"]) == 1
    assert body["grouped_search_result"]["can_create_topic"] is False


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "   "}])
def test_a_blank_query_finds_nothing(client, auth_headers, author, query):
    topic(author, "Restorative circles in schools", "Circles helped the pupils talk.")
    body = run(client, auth_headers, **query)
    assert body["posts"] == body["users"] == body["categories"] == body["tags"] == []
    assert body["grouped_search_result"]["term"] == ""


BAD_PARAMETERS = [
    {"q": "ab"},  # shorter than Discourse's minimum
    {"q": "x"},
    {"q": "a\x00bc"},
    {"q": "word " * 200},
    {"q": "circles", "page": "0"},
    {"q": "circles", "page": "two"},
    {"q": "circles", "page": str(search.MAX_PAGE + 1)},
]


@pytest.mark.parametrize("query", BAD_PARAMETERS)
def test_bad_parameters_are_refused(client, query):
    response = client.get(SPEC_PATH, query_string=query)
    assert response.status_code == 400
    assert response.json["error_type"] == "invalid_parameters"


def test_a_query_that_is_not_text_is_refused(client):
    # A JSON body can carry a lone surrogate, which no database driver accepts.
    response = client.open(SPEC_PATH, method="GET", data='{"q": "abc\\ud800"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json["error_type"] == "invalid_parameters"


# Matching and ranking.


def test_every_word_must_match_in_the_title_or_the_body(client, auth_headers, author):
    both = topic(author, "Training supplier managers", "We ran workshops on labour rights.")
    one = topic(author, "Another approach entirely", "Workshops for volunteers only.")
    assert set(found(client, auth_headers, "workshops")) == {first_post(both).id, first_post(one).id}
    assert found(client, auth_headers, "training workshops") == [first_post(both).id]
    assert found(client, auth_headers, "workshops nonexistentword") == []


def test_words_are_stemmed(client, auth_headers, author):
    made = topic(author, "What we learned from it", "The tactic of training managers worked.")
    assert found(client, auth_headers, "tactics trained") == [first_post(made).id]


def test_words_match_with_or_without_their_accents(client, auth_headers, author):
    accented = topic(author, "Dialogue in Bogotá", "Mining firms met the community of São Paulo de Olivença.")
    plain = topic(author, "Dialogue in Bogota too", "A second meeting was held in Sao Paulo.")
    both = {first_post(accented).id, first_post(plain).id}
    assert set(found(client, auth_headers, "bogota")) == both
    assert set(found(client, auth_headers, "Bogotá")) == both
    assert set(found(client, auth_headers, '"são paulo"')) == both
    assert found(client, auth_headers, "olivenca") == [first_post(accented).id]
    [hit] = run(client, auth_headers, "olivenca")["posts"]
    assert f"{HIGHLIGHT}Olivença</span>" in hit["blurb"]  # the word as written is what is highlighted
    titles = {post["id"]: post["topic_title_headline"] for post in run(client, auth_headers, "bogota")["posts"]}
    assert titles[first_post(accented).id] == f"Dialogue in {HIGHLIGHT}Bogotá</span>"


def test_quoted_phrases_match_only_adjacent_words(client, auth_headers, author):
    together = topic(author, "Circles in our schools", "We held a restorative circle every week.")
    apart = topic(author, "Circles at the factory", "A circle of workers, restorative in spirit.")
    assert set(found(client, auth_headers, "restorative circle")) == {first_post(together).id, first_post(apart).id}
    assert found(client, auth_headers, '"restorative circle"') == [first_post(together).id]


def test_a_title_match_ranks_above_a_body_match(client, auth_headers, author):
    in_body = topic(author, "Notes from the workshop", "Someone mentioned a carrotmob once in passing here.")
    in_title = topic(author, "Carrotmob planning thread", "Let us plan the next one together, neighbours.")
    assert found(client, auth_headers, "carrotmob") == [first_post(in_title).id, first_post(in_body).id]


def test_a_denser_match_ranks_above_a_passing_mention(client, auth_headers, author):
    passing = topic(author, "Notes from the long meeting",
                    "We talked about budgets, the venue, the catering, the schedule, the speakers, the travel "
                    "arrangements, the translation, and at the very end somebody said boycott.")
    dense = topic(author, "Notes from the short meeting", "Boycott, boycott, boycott: the boycott worked.")
    assert found(client, auth_headers, "boycott") == [first_post(dense).id, first_post(passing).id]


def test_one_post_per_topic_the_best_match(client, auth_headers, author, member):
    made = topic(author, "How do NGOs train company staff?", "What worked for you when training staff?")
    crowd = reply(member, made, "Our carrotmob drew a crowd, and a second carrotmob drew a bigger crowd.")
    reply(member, made, "Carrotmob was mentioned above, I think it is interesting.")
    assert found(client, auth_headers, "carrotmob crowd") == [crowd.id]
    assert found(client, auth_headers, "carrotmob") == [crowd.id]


def test_order_latest_puts_the_newest_first(client, auth_headers, author, member):
    older = topic(author, "Boycott strategies in depth", "Boycott boycott boycott, a deep dive into boycotts.")
    newer = topic(author, "Weekly notes from the team", "A brief boycott mention in the weekly notes.")
    later_reply = reply(member, older, "Still thinking about the boycott from the first post.")
    assert found(client, auth_headers, "boycott") == [first_post(older).id, first_post(newer).id]
    assert found(client, auth_headers, "boycott order:latest") == [later_reply.id, first_post(newer).id]
    assert found(client, auth_headers, "boycott order:latest_topic") == [first_post(newer).id, first_post(older).id]


# Operators.


def test_in_title_matches_titles_only(client, auth_headers, author):
    in_title = topic(author, "Carrotmob planning thread", "Let us plan the next one together, neighbours.")
    topic(author, "Notes from the workshop", "Someone mentioned a carrotmob once in passing here.")
    assert found(client, auth_headers, "carrotmob in:title") == [first_post(in_title).id]
    assert found(client, auth_headers, "in:title neighbours") == []


def test_in_first_matches_first_posts_only(client, auth_headers, author, member):
    made = topic(author, "Carrotmob planning thread", "Let us plan the next carrotmob together.")
    reply(member, made, "I can bring carrots to the carrotmob, lots of carrots.")
    assert found(client, auth_headers, "carrots") != []
    assert found(client, auth_headers, "carrots in:first") == []
    assert found(client, auth_headers, "carrotmob in:first") == [first_post(made).id]


def test_category_by_slug_or_id_includes_subcategories(client, auth_headers, author):
    parent = make_category("Campaigns")
    child = make_category("Boycotts", parent=parent)
    other = make_category("Training")
    in_parent = topic(author, "Campaign for fair wages", "A boycott would help here.", category=parent)
    in_child = topic(author, "The great boycott of 2020", "The boycott lasted a year.", category=child)
    topic(author, "Training on boycott tactics", "How to run a boycott training.", category=other)
    expected = {first_post(in_parent).id, first_post(in_child).id}
    assert set(found(client, auth_headers, "boycott category:campaigns")) == expected
    assert set(found(client, auth_headers, f"boycott category:{parent.id}")) == expected
    assert set(found(client, auth_headers, "boycott #campaigns")) == expected
    assert found(client, auth_headers, "boycott category:boycotts") == [first_post(in_child).id]
    assert found(client, auth_headers, "boycott category:no-such-category") == []
    assert found(client, auth_headers, "boycott category:99999999999999999999") == []


def test_tags_any_or_all_and_hashtags(client, auth_headers, author):
    both = topic(author, "Training and carrotmob together", "A report about our campaign.",
                 tag_names=("training", "carrotmob"))
    training = topic(author, "Training only in this topic", "A report about the workshop.", tag_names=("training",))
    topic(author, "Untagged topic about things", "A report about nothing in particular.")
    either = {first_post(both).id, first_post(training).id}
    assert set(found(client, auth_headers, "report tags:training,carrotmob")) == either
    assert found(client, auth_headers, "report tags:training+carrotmob") == [first_post(both).id]
    assert set(found(client, auth_headers, "report #training")) == either
    assert found(client, auth_headers, "report #Carrotmob") == [first_post(both).id]
    assert found(client, auth_headers, "report tags:unknown") == []
    # Operators alone are a search too.
    assert found(client, auth_headers, "tags:carrotmob") == [first_post(both).id]


def test_tags_are_found_by_the_names_they_are_stored_under(client, auth_headers, author):
    """Tag names keep letters outside ASCII and underscores (Discourse's rule); search read them as slugs (naive,
    snake-case) and found nothing."""
    tagged = topic(author, "Unicode and underscore tags here", "A report about the tags.", tag_names=("naïve", "snake_case"))
    for words in ("tags:naïve", "tags:Naïve", "#snake_case", "tags:snake_case+naïve", "report #NAÏVE"):
        assert found(client, auth_headers, words) == [first_post(tagged).id], words
    response = client.get("/search.json", query_string={"q": "snake_case"}, headers=auth_headers(author))
    assert [tag["name"] for tag in response.json["tags"]] == ["snake_case"]


def test_status_open_or_closed(client, auth_headers, author, moderator):
    open_topic = topic(author, "An open discussion on boycotts", "Boycotts are still being discussed here.")
    closed_topic = topic(author, "A closed discussion on boycotts", "Boycotts were discussed here before.")
    topics.set_status(moderator, closed_topic, "closed", True)
    assert found(client, auth_headers, "boycotts status:open") == [first_post(open_topic).id]
    assert found(client, auth_headers, "boycotts status:closed") == [first_post(closed_topic).id]


def test_posts_by_a_user(client, auth_headers, author, member):
    made = topic(author, "A discussion on boycotts", "Boycotts are being discussed here.")
    by_member = reply(member, made, "My view on boycotts is a different one.")
    assert found(client, auth_headers, "boycotts @member") == [by_member.id]
    assert found(client, auth_headers, "boycotts user:Member") == [by_member.id]
    assert found(client, auth_headers, "boycotts @AMIRA") == [first_post(made).id]
    assert found(client, auth_headers, "boycotts @nobody") == []
    assert found(client, auth_headers, "@member") == [by_member.id]


def test_before_and_after_dates(client, auth_headers, author):
    made = topic(author, "A discussion on boycotts", "Boycotts are being discussed here.")
    created = first_post(made).created_at.date()
    assert found(client, auth_headers, f"boycotts after:{created.isoformat()}") == [first_post(made).id]
    assert found(client, auth_headers, f"boycotts before:{created.isoformat()}") == []
    next_day = (created + timedelta(days=1)).isoformat()
    assert found(client, auth_headers, f"boycotts before:{next_day}") == [first_post(made).id]


def test_the_query_language():
    query = search.parse_query('in:title "restorative circle" #schools tags:a+b status:closed @Amira order:latest '
                               'after:2024-01-02 category:7 *** status:unknown')
    assert query.terms == ["restorative circle", "status:unknown"]
    assert query.in_title and query.hashtag == "schools" and query.category == "7"
    assert query.tag_names == ["a", "b"] and query.all_tags
    assert (query.status, query.username, query.order) == ("closed", "Amira", "latest")
    assert query.after.isoformat() == "2024-01-02"
    assert search.parse_query("before:2024-13-45 @ # ").terms == ["before:2024-13-45"]
    assert search.parse_query('boycott "boycott" boycott').terms == ["boycott"]


# What must never show.


def test_restricted_categories_show_only_to_their_groups_and_staff(client, auth_headers, author, member, moderator,
                                                                   make_user):
    insider = make_user(Role.MEMBER, "insider")
    secret = make_category("Secret campaigns", restricted_to=(insider,))
    hidden = topic(insider, "Secret boycott plans", "The boycott starts on Monday.", category=secret)
    visible = topic(author, "Public boycott plans", "The boycott is public.")
    everyone = [first_post(visible).id]
    assert found(client, auth_headers, "boycott") == everyone
    assert found(client, auth_headers, "boycott", user=member) == everyone
    both = {first_post(hidden).id, first_post(visible).id}
    assert set(found(client, auth_headers, "boycott", user=insider)) == both
    assert set(found(client, auth_headers, "boycott", user=moderator)) == both
    # Naming the category does not reveal it, and neither do the category and title matches.
    assert found(client, auth_headers, "boycott category:secret-campaigns", user=member) == []
    assert found(client, auth_headers, f"boycott category:{secret.id}", user=member) == []
    assert found(client, auth_headers, "boycott #secret-campaigns", user=member) == []
    assert run(client, auth_headers, "secret", user=member)["categories"] == []
    assert [c["id"] for c in run(client, auth_headers, "secret", user=insider)["categories"]] == [secret.id]


def test_matching_tags_show_only_tags_the_caller_may_know_of(client, auth_headers, author, member, moderator, make_user):
    """A tag used only in a restricted category is named to no one else, as /tags.json names it to no one else."""
    insider = make_user(Role.MEMBER, "insider")
    secret = make_category("Secret campaigns", restricted_to=(insider,))
    topic(insider, "Secret boycott plans", "The boycott starts on Monday.", category=secret, tag_names=("boycott-secret",))
    topic(author, "Public boycott plans", "The boycott is public.", tag_names=("boycott-public",))

    def tags(user):
        return [tag["name"] for tag in run(client, auth_headers, "boycott", user=user)["tags"]]

    assert tags(None) == tags(member) == ["boycott-public"]
    assert tags(insider) == tags(moderator) == ["boycott-public", "boycott-secret"]


def test_matching_categories_show_only_what_the_caller_may_see(client, auth_headers, author, member, make_user):
    insider = make_user(Role.MEMBER, "insider")
    campaigns = make_category("Campaigns")
    make_category("Secret campaigns", parent=campaigns, restricted_to=(insider,))
    topic(author, "A public campaign report", "Campaign notes for everyone to read.", category=campaigns)

    [seen_by_member] = run(client, auth_headers, "campaigns", user=member)["categories"]
    assert (seen_by_member["id"], seen_by_member["topic_count"]) == (campaigns.id, 1)
    assert (seen_by_member["has_children"], seen_by_member["subcategory_count"]) == (False, 0)
    seen_by_insider = run(client, auth_headers, "campaigns", user=insider)["categories"]
    assert [c["slug"] for c in seen_by_insider] == ["campaigns", "secret-campaigns"]
    assert seen_by_insider[0]["subcategory_count"] == 1


def test_deleted_posts_and_topics_show_to_nobody(client, auth_headers, author, member, moderator):
    made = topic(author, "A discussion on boycotts", "Boycotts are being discussed here.")
    deleted_reply = reply(member, made, "A boycott reply that will be deleted.")
    gone = topic(author, "A deleted topic on boycotts", "Boycotts were discussed here.")
    posts.delete_post(member, deleted_reply)
    topics.delete_topic(moderator, gone)
    for user in (None, member, moderator):
        assert found(client, auth_headers, "boycott", user=user) == [first_post(made).id]
    posts.recover_post(member, deleted_reply)
    assert found(client, auth_headers, "reply deleted", user=member) == [deleted_reply.id]


def test_unlisted_topics_show_only_to_staff(client, auth_headers, author, member, moderator):
    made = topic(author, "An unlisted boycott topic", "Boycotts are being discussed here.")
    topics.set_status(moderator, made, "visible", False)
    assert found(client, auth_headers, "boycotts", user=member) == []
    assert found(client, auth_headers, "boycotts", user=moderator) == [first_post(made).id]


def test_whispers_show_only_to_staff_and_small_actions_never(client, auth_headers, author, member, moderator):
    made = topic(author, "A discussion on boycotts", "Boycotts are being discussed here.")
    with write_unit(db.session):
        raw = "Staff only: the zeppelin plan."
        whisper = posts.append_post(made, moderator, raw=raw, cooked=cook(raw), post_type=PostType.WHISPER)
    topics.set_status(moderator, made, "closed", True)  # leaves a small-action post
    with write_unit(db.session):  # even one whose text would match
        db.session.execute(update(Post).where(Post.post_type == PostType.SMALL_ACTION).values(raw="zeppelin closed"))
    assert found(client, auth_headers, "zeppelin", user=member) == []
    assert found(client, auth_headers, "zeppelin", user=moderator) == [whisper.id]


# Keeping the index in step.


def test_the_index_follows_edits_renames_and_removals(client, auth_headers, author, moderator):
    made = topic(author, "A discussion on boycotts", "Boycotts are being discussed here.")
    post = first_post(made)
    posts.edit_post(author, post, raw="Petitions are being discussed here now.")
    assert found(client, auth_headers, "boycotts") == [post.id]  # still in the title
    assert found(client, auth_headers, "petitions boycotts in:title") == []
    assert found(client, auth_headers, "petitions") == [post.id]
    with write_unit(db.session):
        made.title = "A discussion on sit-ins"
    assert found(client, auth_headers, "boycotts") == []
    assert found(client, auth_headers, "sit-ins in:title") == [post.id]
    with write_unit(db.session):
        db.session.delete(made)  # posts go with it (ON DELETE CASCADE), and so do their index entries
    assert found(client, auth_headers, "petitions") == []
    assert _index_size() == 0


def _index_size() -> int:
    return db.session.scalar(text(f"SELECT count(*) FROM {search.INDEX_TABLE}"))


# Blurbs.


def test_blurbs_are_escaped_text_whose_only_markup_is_the_highlights(client, auth_headers, author):
    topic(author, "Beware of <b>bold</b> & <i>tricks</i>",
          'A post about <script>alert("pwned")</script> and <img src=x onerror=alert(1)> injections.\n\n'
          "Private-use \ue000markers\ue001 are not highlights.")
    body = run(client, auth_headers, "injections")
    [hit] = body["posts"]
    blurb = hit["blurb"]
    assert "<script" not in blurb and "<img" not in blurb
    assert "alert(&quot;pwned&quot;)" in blurb  # the text the rendered post shows, escaped; its markup is gone
    assert f"{HIGHLIGHT}injections</span>" in blurb
    assert blurb.replace(HIGHLIGHT, "").replace("</span>", "").count("<") == 0
    assert blurb.count(HIGHLIGHT) == blurb.count("</span>") == 1
    assert "\ue000" not in blurb and "\ue001" not in blurb
    assert hit["topic_title_headline"] == "Beware of &lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;tricks&lt;/i&gt;"
    markers = run(client, auth_headers, "markers")["posts"][0]["blurb"]
    assert markers.count(HIGHLIGHT) == 1 and f"{HIGHLIGHT}markers</span>" in markers


def test_search_reads_the_rendered_post_not_its_markdown(client, auth_headers, author):
    """As Discourse: blurbs quote what readers see, and a link matches by its text, not its address."""
    topic(author, "Guides for supplier trainings",
          "## Training the suppliers\n\nWe wrote **a practical** [guide for managers](https://evil.example/secretpath) "
          "and `code snippets` for everyone.")
    [hit] = run(client, auth_headers, "practical guide")["posts"]
    blurb = hit["blurb"].replace(HIGHLIGHT, "").replace("</span>", "")
    assert "Training the suppliers" in blurb and "a practical guide for managers" in blurb
    assert not any(markup in blurb for markup in ("##", "**", "](", "`", "evil.example"))
    assert found(client, auth_headers, "secretpath") == []


def test_filter_only_searches_have_plain_blurbs(client, auth_headers, author):
    topic(author, "A <b>bold</b> \ue000title\ue001 for this", "Some **bold** text & <em>more</em> \ue000here\ue001.",
          tag_names=("training",))
    [hit] = run(client, auth_headers, "tags:training")["posts"]
    assert hit["blurb"] == "Some bold text &amp; more \ue000here\ue001."
    assert hit["topic_title_headline"] == "A &lt;b&gt;bold&lt;/b&gt; \ue000title\ue001 for this"


# Users, categories and tags.


def test_users_whose_names_match(client, auth_headers, make_user, member):
    from forum.services import users

    users.create_user("boycott_bob", email="bob@example.com", password=None, name="Bob B")
    users.create_user("alice", email="alice@example.com", password=None, name="Alice Boycottson")
    body = run(client, auth_headers, "boycott", user=member)
    assert sorted(u["username"] for u in body["users"]) == ["alice", "boycott_bob"]
    assert set(body["users"][0]) == {"id", "username", "name", "avatar_template"}
    assert body["grouped_search_result"]["more_users"] is None
    for number in range(6):
        make_user(Role.MEMBER, f"boycott{number}")
    more = run(client, auth_headers, "boycott", user=member)
    assert len(more["users"]) == search.PER_FACET
    assert more["grouped_search_result"]["more_users"] == "true"


def test_like_wildcards_in_the_term_are_literal(client, auth_headers, make_user):
    make_user(Role.MEMBER, "abc_def")
    make_user(Role.MEMBER, "abcxdef")
    assert [u["username"] for u in run(client, auth_headers, "abc_d")["users"]] == ["abc_def"]
    assert run(client, auth_headers, "%%%")["users"] == []


# Paging.


def test_pages(client, auth_headers, author, monkeypatch):
    monkeypatch.setattr(search, "PER_PAGE", 2)
    made = [topic(author, f"Boycott report number {n}", f"Report {n} on the boycott campaign.") for n in range(5)]
    pages = [run(client, auth_headers, "boycott order:latest_topic", page=page) for page in (1, 2, 3, 4)]
    assert [[p["topic_id"] for p in page["posts"]] for page in pages] == [
        [made[4].id, made[3].id], [made[2].id, made[1].id], [made[0].id], []]
    assert [page["grouped_search_result"]["more_full_page_results"] for page in pages] == ["true", "true", None, None]
    assert [page["grouped_search_result"]["more_posts"] for page in pages] == ["true", "true", None, None]
    # Users, categories and tags come with the first page only.
    make_category("Boycott campaigns")
    assert len(run(client, auth_headers, "boycott", page=1)["categories"]) == 1
    assert run(client, auth_headers, "boycott", page=2)["categories"] == []


def test_a_page_takes_a_fixed_number_of_queries(client, auth_headers, author, member):
    headers = auth_headers(member)
    topic(author, "The inaugural boycott report", "Report on the boycott campaign.")
    for n in range(2, 8):
        made = topic(author, f"Boycott report number {n}", f"Report {n} on the boycott campaign.")
        reply(member, made, "Another boycott report, from a member this time.")

    def queries_for(q):
        db.session.remove()  # each request starts from an empty session, as in production
        with recorded_statements() as statements:
            found_posts = client.get(SPEC_PATH, query_string={"q": q}, headers=headers).json["posts"]
        return len(found_posts), len(statements)

    one, many = queries_for("inaugural"), queries_for("boycott report")
    assert (one[0], many[0]) == (1, 7)
    assert one[1] == many[1]


# Nasty input never breaks the query.

NASTY = [
    '"unbalanced quote', 'unbalanced" quote', 'a"b"c"d', '"""', '""', "AND", "OR", "NOT", "NEAR", "boycott AND",
    "AND boycott", "boycott OR petition", "NOT boycott", "NEAR(boycott petition)", "NEAR/3", "boycott NEAR petition",
    "* boycott", "boycott*",
    "^boycott", "boy*cott", "title:boycott", "body: boycott", "{title body}: boycott", "{title}:boycott", "- boycott",
    "-boycott", "+boycott", "(boycott", "boycott)", "((()))", "boycott & petition | !strike", "boycott:* <-> petition",
    "'boycott'", "''''", "'; DROP TABLE posts; --", '"; DROP TABLE posts; --', "%_%", "\\\\\\", "\\", "boycott\\",
    "boycott\t\npetition", "café naïve coöperation", "日本語のテキスト", "🙂🙂🙂", "\ue000boycott\ue001", "in:title",
    "category:", "tags:", "tags:,,,", "tags:+", "###", "@@@", "#", "status:unknown", "order:random",
    "before:2024-13-45",
    "after:0000-00-00", "category:99999999999999999999", "category:-1", "user:", "in:title ***", "a b c d e f g h",
    "the and of", "boycott " * 60, "a " * 250,
    " ".join(chr(0x4E00 + n) for n in range(250)),  # as many different words as a query may hold "x" * 500, "$$ boycott $$", ":boycott:", "boycott:", "col:\"x\"", "\x7f\x1b[31m",
]


def test_nasty_queries_never_fail(client, auth_headers, author, moderator):
    made = topic(author, "Boycott and petition tactics",
                 "Boycott, petition, strike: which worked? (title) {body} NEAR AND.", tag_names=("training",))
    reply(author, made, "A reply with the word boycott in it, and a petition.")
    for q in NASTY:
        for user in (None, moderator):
            response = client.get(SPEC_PATH, query_string={"q": q}, headers=auth_headers(user))
            if not search.MIN_TERM_LENGTH <= len(q.strip()) <= search.MAX_TERM_LENGTH:
                assert response.status_code == 400, (q, response.get_data(as_text=True))
                continue
            assert response.status_code == 200, (q, response.get_data(as_text=True))
            assert_matches_spec(response, "get", SPEC_PATH)
            assert response.json["grouped_search_result"]["term"] == q.strip()
    # The index still answers, and the operator words were searched as words.
    assert found(client, auth_headers, "boycott petition") == [first_post(made).id]
    assert found(client, auth_headers, "near and") == [first_post(made).id]


# The migration.


@pytest.fixture
def migrated_to_0002(tmp_path):
    url = databases.new_database_url(tmp_path)
    app = create_app({"DATABASE_URL": url, "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"})
    with app.app_context():
        flask_migrate.upgrade(revision="0002")
        yield app
        db.session.remove()
        db.engine.dispose()
    databases.drop_database(url)


def test_the_migration_indexes_existing_posts_and_downgrades_cleanly(migrated_to_0002):
    with db.engine.begin() as connection:
        user_id = connection.execute(text(
            "INSERT INTO users (username, username_lower, role, active, is_bot, created_at) "
            "VALUES ('Amira', 'amira', 'member', true, false, CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
        topic_id = connection.execute(text(
            "INSERT INTO topics (title, slug, user_id, closed, archived, visible, pinned_globally, highest_post_number, "
            "posts_count, reply_count, like_count, views, created_at, updated_at, bumped_at) VALUES ('Kept across upgrades', "
            "'kept', :user_id, false, false, true, false, 1, 1, 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP) RETURNING id"), {"user_id": user_id}).scalar_one()
        post_id = connection.execute(text(
            "INSERT INTO posts (topic_id, user_id, post_number, raw, cooked, post_type, version, reply_count, like_count, "
            "created_at, updated_at) VALUES (:topic_id, :user_id, 1, 'what she wrote about boycotts', "
            "'<p>what she wrote about boycotts</p>', 1, 1, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"),
            {"topic_id": topic_id, "user_id": user_id}).scalar_one()
    flask_migrate.upgrade()
    assert [hit.post.id for hit in search.search(None, "boycott kept").posts] == [post_id]
    db.session.remove()  # no open read transaction may hold locks the DDL needs

    flask_migrate.downgrade(revision="0002")
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT raw FROM posts")).scalar_one() == "what she wrote about boycotts"
        # No trigger is left behind to fail on a write.
        connection.execute(text("UPDATE posts SET raw = 'no index to keep in step now', cooked = '<p>no index to keep in step now</p>'"))
        connection.execute(text("UPDATE topics SET title = 'Renamed while unindexed'"))
    assert not {search.INDEX_TABLE, f"{search.INDEX_TABLE}_content"} & set(inspect(db.engine).get_table_names())

    flask_migrate.upgrade()
    assert [hit.post.id for hit in search.search(None, "index step unindexed").posts] == [post_id]
    assert search.search(None, "boycotts").posts == []
