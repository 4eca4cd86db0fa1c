"""The thread-summary algorithm (bots.summaries.summarize): a pure function, no database."""
import re
from pathlib import Path

import pytest

from bots.summaries import (
    ALGORITHM,
    MAX_CANDIDATE_POSTS,
    MAX_POST_CHARS,
    MAX_SENTENCES_PER_POST,
    ThreadPost,
    ThreadSummary,
    candidate_posts,
    candidate_sentences,
    count_replies,
    guiding_questions,
    own_subject,
    phatic_kind,
    summarize,
)

SEED_THREAD = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "001_c33945696f15a490.txt"

TITLE = "How do organizations work with corporations to improve human rights?"
OPENING = ThreadPost(
    1,
    "kristin",
    "To keep the focus of this discussion, please consider the following questions:\n\n"
    "How can organizations help corporations assess their human rights impact?\n\n"
    "Can an organization monitor a corporation and collaborate with it at the same time?",
    subject=TITLE,
)


def assert_cited_verbatim(summary: ThreadSummary, posts: list[ThreadPost]) -> None:
    texts = {post.post_number: post.text for post in posts}
    for point in summary.key_points:
        assert point.text in texts[point.post_numbers[0]]


def email_thread() -> list[ThreadPost]:
    return [
        ThreadPost(
            1,
            "Blake",
            "Hello All,\n\nI have been looking at reference validation and am not convinced that canonicalization"
            "\nof the signed info is needed for it.\nCould the canonicalization step move to signature validation?\n\n"
            "Kind Regards,\n\nBlake Dournaee, security architect at RSA Security in San Mateo, California.",
            subject="Canonicalization for reference validation",
        ),
        ThreadPost(
            2,
            "John",
            "Blake Dournaee wrote:\n> I have been looking at reference validation and am not convinced that"
            " canonicalization\n> of the signed info is needed for it.\n\n"
            "Canonicalization protects the signature against harmless syntactic changes made by parsers.\n"
            "Without it a document that was only reformatted would fail validation for no good reason.\n\n"
            "--\nJohn Boyer\nSenior Product Architect, PureEdge Solutions Inc.",
            reply_to_post_number=1,
            subject="Re: Canonicalization for reference validation",
        ),
        ThreadPost(
            3,
            "Ilan",
            "A transform that keeps no state between inputs should be where we draw the line on what is allowed.\n"
            "Base64 decoding is stateless in that sense, so it does not break the see what you sign rule.\n\n"
            "-----Original Message-----\nFrom: John Boyer\nSent: Monday\n\n"
            "Base64 was only ever meant as a transport encoding for the signed octets.\n"
            "Canonicalization protects the signature against harmless syntactic changes made by parsers.",
            reply_to_post_number=2,
            subject="RE: Canonicalization for reference validation",
        ),
    ]


def seed_thread() -> list[ThreadPost]:
    """The seed thread's paragraphs dealt into posts, three paragraphs a post, four authors in turn."""
    if not SEED_THREAD.exists():
        pytest.skip(f"{SEED_THREAD} is not there")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", SEED_THREAD.read_text(encoding="utf-8")) if p.strip()]
    authors = ["kristin", "ignacio", "yanyan", "sarah"]
    return [
        ThreadPost(n, authors[n % 4], "\n\n".join(paragraphs[i : i + 3]), reply_to_post_number=1 if n > 1 else None)
        for n, i in enumerate(range(0, len(paragraphs), 3), start=1)
    ]


def test_every_key_point_is_a_verbatim_sentence_of_the_post_it_cites():
    for posts in (email_thread(), [OPENING, *email_thread()[1:]], seed_thread()):
        summary = summarize(TITLE, posts)
        assert summary.key_points
        assert summary.algorithm == ALGORITHM
        assert_cited_verbatim(summary, posts)


def test_seed_thread_stays_verbatim_at_every_length():
    posts = seed_thread()
    for max_words in (10, 65, 200, 1_000):
        summary = summarize(TITLE, posts, max_words=max_words)
        assert_cited_verbatim(summary, posts)
        words = [len(point.text.split()) for point in summary.key_points]
        # Stops once the budget is reached: the last key point chosen may run past it, no other.
        assert sum(words) - max(words) < max_words


def test_quotes_attributions_and_signatures_are_never_key_points():
    posts = email_thread()
    texts = [point.text for point in summarize("Canonicalization", posts, max_words=500).key_points]
    assert texts
    for text in texts:
        assert not text.lstrip().startswith(">")
        assert "wrote:" not in text
        for signature_word in ("Regards", "San Mateo", "PureEdge", "Original Message", "transport encoding"):
            assert signature_word not in text
    # Post 3 repeats John's sentence below "Original Message": it is cited from post 2 only.
    protects = [p for p in summarize("Canonicalization", posts, max_words=500).key_points if "protects" in p.text]
    assert [p.post_numbers[0] for p in protects] == [2]


def test_a_sentence_copied_from_an_earlier_post_is_not_a_key_point_of_the_copy():
    original = ThreadPost(1, "ignacio", "NGOs must remain independent from the corporations they work with.")
    copy = ThreadPost(
        2,
        "chris",
        'Hello Ignacio, you said: "NGOs must remain independent from the corporations they work with."\n\n'
        "How does the media affect collaboration between an NGO and a corporation?",
        reply_to_post_number=1,
    )
    summary = summarize("Independence", [original, copy], max_words=500)
    cited = {point.text: point.post_numbers for point in summary.key_points}
    # Quoting a point is not making it again: post 2 gets no credit for it.
    assert cited["NGOs must remain independent from the corporations they work with."] == (1,)
    assert all("you said" not in text for text in cited)


def test_lines_quoting_a_message_from_outside_the_thread_are_not_key_points():
    post = ThreadPost(
        1,
        "a",
        "> The working group will meet in Boston next week to settle the schema question.\n\n"
        "I cannot travel then, so I will send my comments on the schema in writing.",
    )
    assert [point.text for point in summarize("Schema", [post], max_words=500).key_points] == [
        "I cannot travel then, so I will send my comments on the schema in writing."
    ]


def test_same_input_gives_the_same_summary_whatever_the_order_posts_arrive_in():
    posts = seed_thread()
    first = summarize(TITLE, posts)
    assert summarize(TITLE, posts) == first
    assert summarize(TITLE, list(reversed(posts))) == first


def test_a_point_several_authors_make_is_chosen_once_and_credits_every_post():
    posts = [
        OPENING,
        ThreadPost(2, "ana", "Independent monitoring of factories is what makes corporations improve labour rights."),
        ThreadPost(3, "ben", "We found independent monitoring of factories makes corporations improve labour rights."),
        ThreadPost(4, "chen", "For us, independent monitoring of factories made corporations improve labour rights."),
        ThreadPost(5, "dev", "Our office moved to a new building near the river last spring, next to a bakery."),
    ]
    summary = summarize(TITLE, posts, max_words=500)
    monitoring = [point for point in summary.key_points if "monitoring of" in point.text]
    assert len(monitoring) == 1
    assert set(monitoring[0].post_numbers) == {2, 3, 4}
    # Three authors agreeing outweighs every single reply: after the opening post's first guiding question
    # (10 words), it is the next point chosen, ahead of the opening post's second question.
    first, second = summarize(TITLE, posts, max_words=11).key_points
    assert first.post_numbers == (1,) and first.text.startswith("How can organizations")
    assert second == monitoring[0]


def test_guiding_questions_closing_a_long_opening_post_are_read():
    framing = "Our network has engaged garment brands on wages for a decade, in many ways. " * 100
    assert len(framing) > MAX_POST_CHARS
    opening = ThreadPost(1, "kristin", framing + "\n\nWhich engagement changed a brand's purchasing practices?")
    assert guiding_questions(opening) == ["Which engagement changed a brand's purchasing practices?"]


def test_guiding_questions_pull_an_answer_ahead_of_small_talk_that_comes_first():
    answer = "Organizations can help corporations assess their human rights impact with independent audits."
    posts = [
        OPENING,
        ThreadPost(
            2,
            "ana",
            "It was lovely weather at the conference venue this week and the coffee was good.\n\n" + answer,
            reply_to_post_number=1,
        ),
    ]
    # The opening post's two questions take 24 words (its "please consider" lead-in is no key point):
    # room for one sentence of the reply.
    texts = [point.text for point in summarize(TITLE, posts, max_words=25).key_points]
    assert answer in texts
    assert all("weather" not in text for text in texts)
    # The answer is not "the same point" as the question it shares its words with.
    question = "How can organizations help corporations assess their human rights impact?"
    assert [p.post_numbers for p in summarize(TITLE, posts, max_words=500).key_points if p.text == question] == [(1,)]


def test_a_subject_line_of_its_own_counts_but_a_reply_prefix_to_the_title_does_not():
    assert own_subject("Re: " + TITLE, TITLE) == ""
    assert own_subject("RE: Fwd: " + TITLE.upper(), TITLE) == ""
    assert own_subject("Some thoughts on independence", TITLE) == "Some thoughts on independence"
    assert own_subject(None, TITLE) == ""


def test_replies_to_oneself_are_not_counted():
    posts = [
        ThreadPost(1, "a", "x"),
        ThreadPost(2, "b", "y", reply_to_post_number=1),
        ThreadPost(3, "a", "z", reply_to_post_number=1),
        ThreadPost(4, "c", "w", reply_to_post_number=2),
        ThreadPost(5, "c", "v", reply_to_post_number=99),
    ]
    assert count_replies(posts) == {1: 1, 2: 1}


def test_key_points_come_in_thread_order():
    summary = summarize(TITLE, seed_thread(), max_words=300)
    order = [point.post_numbers[0] for point in summary.key_points]
    assert len(set(order)) > 1
    assert order == sorted(order)


def test_empty_and_one_post_threads():
    assert summarize(TITLE, []) == ThreadSummary(key_points=(), algorithm=ALGORITHM)
    assert summarize(TITLE, [ThreadPost(1, "a", "")]).key_points == ()
    assert summarize(TITLE, [ThreadPost(1, "a", "Thanks!")]).key_points == ()
    one = ThreadPost(1, "a", "Corporate trainings help companies build better relationships with communities.")
    (point,) = summarize(TITLE, [one]).key_points
    assert point.text == one.text
    assert point.post_numbers == (1,)


def test_posts_with_no_text_left_are_harmless():
    posts = [OPENING, ThreadPost(2, "b", "", reply_to_post_number=1), *email_thread()[1:2]]
    posts[2] = ThreadPost(3, "john", posts[2].text, reply_to_post_number=2)
    summary = summarize(TITLE, posts)
    assert summary.key_points
    assert all(point.post_numbers[0] != 2 for point in summary.key_points)
    assert_cited_verbatim(summary, posts)


def test_long_threads_are_capped_to_the_opening_post_and_the_most_replied_to():
    posts = [ThreadPost(1, "op", "Opening words about monitoring corporations and their human rights impact.")]
    for number in range(2, 3_001):
        reply_to = 2_500 if number % 2 == 0 else None
        posts.append(ThreadPost(number, f"u{number % 50}", f"Post {number} says factories need audits.", reply_to))
    read = candidate_posts(posts, count_replies(posts))
    assert len(read) == MAX_CANDIDATE_POSTS
    numbers = [post.post_number for post in read]
    assert numbers == sorted(numbers)
    assert numbers[0] == 1 and 2_500 in numbers
    assert numbers[1:MAX_CANDIDATE_POSTS - 1] == list(range(2, MAX_CANDIDATE_POSTS))


def test_each_post_gives_a_bounded_number_of_candidate_sentences_from_a_bounded_prefix():
    sentences = [f"Sentence number {i} talks about monitoring factories carefully." for i in range(2_000)]
    long_post = ThreadPost(1, "a", " ".join(sentences))
    candidates = candidate_sentences([long_post])
    assert len(candidates) == MAX_SENTENCES_PER_POST
    assert all(c.start + len(c.text) <= MAX_POST_CHARS for c in candidates)
    assert [c.rank_in_post for c in candidates] == list(range(MAX_SENTENCES_PER_POST))
    # Past the prefix nothing is read: real sentences after MAX_POST_CHARS of fragments give no candidate.
    late = ThreadPost(2, "b", "Ok. " * (MAX_POST_CHARS // 4 + 1) + " ".join(sentences[:20]))
    assert candidate_sentences([late]) == []


def test_a_huge_thread_only_reads_the_capped_posts():
    # Distinct words in every post, so no post is dropped as a copy of another: only the cap keeps them out.
    posts = [
        ThreadPost(n, f"u{n % 7}", f"Partner {n} in district {n * 7919 % 10007} reported audits of supplier {n * 31 % 977} going well.")
        for n in range(1, 20_001)
    ]
    summary = summarize(TITLE, posts, max_words=30)
    assert summary.key_points
    cited = {n for point in summary.key_points for n in point.post_numbers}
    assert max(cited) <= MAX_CANDIDATE_POSTS
    read = {c.post_number for c in candidate_sentences(candidate_posts(posts, count_replies(posts)))}
    assert len(read) > MAX_CANDIDATE_POSTS // 2 and max(read) <= MAX_CANDIDATE_POSTS


def test_a_sentence_on_its_posts_own_subject_line_wins_a_tie():
    posts = [
        ThreadPost(2, "ana", "Mediation between the villages worked well for us in Ghana."),
        ThreadPost(3, "ben", "Trainings for company staff worked well for us in Kenya.", subject="Company trainings"),
    ]
    (top,) = summarize("Week three", posts, max_words=1).key_points
    assert top.post_numbers == (3,)
    # "Re: <title>" says nothing of its own.
    posts[1] = ThreadPost(3, "ben", posts[1].text, subject="Re: Week three")
    (top,) = summarize("Week three", posts, max_words=1).key_points
    assert top.post_numbers == (2,)


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("Welcome, everyone, to this two-week dialogue.", "greeting"),
        ("Thank you so much, Piero, for sharing this example of a government tool.", "courtesy"),
        ("We are halfway through, and thank you for such rich contributions.", "courtesy"),
        ("I work at Kapija Network, an anti-trafficking organisation.", "self-introduction"),
        ("I sit on the council of the Volta Cocoa Standards Forum, with exporters and unions.", "self-introduction"),
        ("My name is Josh, and I am part of the Conflict Resolution class.", "self-introduction"),
        ("I'm a graduate student in Osaka researching voluntary standards.", "self-introduction"),
        ("Priya, thank you, this is a concrete example and I like the co-facilitation.", "address"),
        ("Sione, I have deep respect for what you describe, and I can imagine it working.", "address"),
        ("Nkechi, your point about remedy has stuck with me.", "address"),
        ("I will go first, since I started this.", "meta"),
        ("Let me add a few thoughts on independence here.", "meta"),
        ("Great question, and one we argued about for months.", "meta"),
        ("Responding to Joost's question, from the investor side.", "meta"),
        ("I hope this is of some value to the dialogue.", "sign-off"),
        ("I look forward to hearing about your experience in Papua New Guinea.", "sign-off"),
    ],
)
def test_social_sentences_are_recognised_by_kind(sentence, kind):
    assert phatic_kind(sentence) == kind


@pytest.mark.parametrize(
    "sentence",
    [
        # Courtesy turning into a disagreement is a disagreement.
        "Tomás, I respect your rule, but for an organisation like mine it is not realistic.",
        "Thanks to the training, supervisors stopped shouting at workers.",
        "I work with hotels to train their receptionists on trafficking signs.",
        "I am a bit worried that the company will walk away from the agreement.",
        "However, this is a good example of how audits fail in practice.",
        "I would like to add that the union was never consulted.",
        "Priya, who paid for those training sessions?",
        "In Ghana, this is a great example of how audits fail.",
    ],
)
def test_substance_that_looks_social_is_kept(sentence):
    assert phatic_kind(sentence) is None


def test_a_social_opening_is_not_chosen_when_its_post_has_substance():
    posts = [
        OPENING,
        ThreadPost(
            2,
            "priya_k",
            "I work at the Threadline Labour Trust, a workers' organisation in Dhaka.\n\n"
            "Training supervisors together with worker representatives cut shouting on the factory floor by half.",
            reply_to_post_number=1,
        ),
        ThreadPost(
            3,
            "daniel.o",
            "Priya, thank you, this is a really interesting example.\n\n"
            "Suspending a member from the cocoa forum moved the company faster than any letter we sent.",
            reply_to_post_number=2,
        ),
    ]
    for max_words in (1, 40, 500):
        texts = [point.text for point in summarize(TITLE, posts, max_words=max_words).key_points]
        assert texts
        assert not any("I work at" in text or "thank you" in text for text in texts)
    # The opening post's questions count: the first sentence of substance of a reply holds its own.
    texts = [point.text for point in summarize(TITLE, posts, max_words=60).key_points]
    assert any(text.startswith("Training supervisors") or text.startswith("Suspending") for text in texts)


def test_a_post_made_only_of_courtesy_yields_no_key_point():
    courtesy = ThreadPost(
        2,
        "amira_h",
        "Dear all, thank you for two generous, honest weeks.\n\n"
        "I hope this is of some value to the dialogue.\n\nI look forward to hearing from all of you again.",
        reply_to_post_number=1,
    )
    summary = summarize(TITLE, [OPENING, courtesy], max_words=1_000)
    assert summary.key_points
    assert all(point.post_numbers == (1,) for point in summary.key_points)
    assert summarize(TITLE, [ThreadPost(1, "amira_h", courtesy.text)], max_words=1_000).key_points == ()


def test_a_greeting_in_front_of_a_point_is_cut_off_and_the_rest_stays_verbatim():
    post = ThreadPost(
        1,
        "kristin",
        "Hi Yan Yan and Ignacio - I agree that collaboration works in many sectors and on many rights issues.",
    )
    (point,) = summarize(TITLE, [post], max_words=500).key_points
    assert point.text == "I agree that collaboration works in many sectors and on many rights issues."
    assert_cited_verbatim(summarize(TITLE, [post]), [post])
