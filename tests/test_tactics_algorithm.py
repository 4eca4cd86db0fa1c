"""The tactics bot's pure functions (bots/tactics.py): no database, no app."""
import json
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bots.tactics import (
    ALGORITHM,
    DECIDED_CALIBRATION,
    DEFAULT_THRESHOLD,
    MIN_ANCHOR_POSTS,
    SEED_CALIBRATION,
    Decision,
    PostText,
    Tactic,
    TacticModel,
    TrainingSet,
    fit,
    fit_platt,
    post_sentences,
)
from bots import tactics

SEED_TACTICS_FILE = Path(__file__).resolve().parent.parent / "forum" / "seeds" / "tactics.toml"

TRAINING = Tactic(
    "training",
    "An organisation trains a company's managers and staff on human rights in workshops and courses.",
    ("We ran a human rights training for the company's managers.", "Our workshop taught supervisors to handle complaints."),
)
CARROTMOB = Tactic(
    "carrotmob",
    "Consumers reward a business for a commitment by buying from it together on one day: a buycott.",
    ("We organised a carrotmob for the shop that promised a living wage.", "On the day of the buycott people spent their money there."),
)
SCORECARD = Tactic(
    "scorecard",
    "An organisation ranks companies on human rights and publishes the scores.",
    ("We publish an annual ranking of companies.", "The scorecard rates each brand on wages."),
)
TACTICS = (TRAINING, CARROTMOB)

TRAINING_POST = PostText(
    "Workshops for managers\nWe ran a two-day training for the managers of a garment factory on overtime and harassment. "
    "It went well. The factory will send its supervisors next month.",
    title="How do organizations work with corporations?",
)
OWN_STAFF_POST = PostText("Our volunteers need training before they interview workers. We will train them in May.")
OWN_STAFF_POSTS = (
    OWN_STAFF_POST,
    PostText("We need training for our volunteers on safe interviews."),
    PostText("Our field team will be trained in data protection."),
)
OWN_STAFF_LOOKALIKE = PostText("Our new volunteers need training before they visit the farms. We train them every spring.")
SCORECARD_POST = PostText("Every year we publish a scorecard that ranks the chocolate companies on wages.")


def scores(model: TacticModel, post: PostText) -> dict[str, float]:
    return {s.tactic: s.score for s in model.score(post)}


def test_fit_and_score_are_deterministic():
    first, second = fit(TACTICS), fit(TACTICS)
    assert first.version == second.version
    assert first.to_json() == second.to_json()
    assert first.score(TRAINING_POST) == second.score(TRAINING_POST)


def test_suggests_the_tactic_a_post_shows_with_verbatim_evidence():
    model = fit(TACTICS)
    (suggestion,) = model.score(TRAINING_POST)
    assert suggestion.tactic == "training"
    assert model.threshold <= suggestion.score <= 1
    assert suggestion.model_version == model.version
    assert suggestion.evidence and all(sentence in TRAINING_POST.text for sentence in suggestion.evidence)
    assert "two-day training" in suggestion.evidence[0]


def test_version_changes_with_decisions_and_threshold():
    base = fit(TACTICS)
    with_decision = fit(TACTICS, [Decision(OWN_STAFF_POST, "training", approved=False)])
    assert with_decision.version != base.version
    assert fit(TACTICS, threshold=DEFAULT_THRESHOLD - 0.05).version != base.version
    assert with_decision.version.startswith(ALGORITHM)


def test_json_round_trip_gives_identical_scores():
    model = fit(TACTICS, [Decision(TRAINING_POST, "training", approved=True), Decision(OWN_STAFF_POST, "training", approved=False)])
    restored = TacticModel.from_json(json.loads(json.dumps(model.to_json())))
    assert restored.version == model.version
    for post in (TRAINING_POST, OWN_STAFF_POST, SCORECARD_POST):
        assert restored.score(post) == model.score(post)


def test_from_json_refuses_another_algorithm():
    data = fit(TACTICS).to_json() | {"algorithm": "something-else"}
    with pytest.raises(ValueError):
        TacticModel.from_json(data)


def test_a_tactic_added_later_is_used_without_code_change():
    assert fit(TACTICS).score(SCORECARD_POST) == []  # before: none of the seed tactics claims it
    model = fit([*TACTICS, SCORECARD])
    assert [s.tactic for s in model.score(SCORECARD_POST)] == ["scorecard"]


def test_rejections_lower_the_score_of_similar_posts():
    before = scores(fit(TACTICS, threshold=0.0), OWN_STAFF_LOOKALIKE)["training"]
    rejections = [Decision(post, "training", approved=False) for post in OWN_STAFF_POSTS]
    after = scores(fit(TACTICS, rejections, threshold=0.0), OWN_STAFF_LOOKALIKE)["training"]
    assert after < before - 0.02


def test_one_rejection_clearly_lowers_the_score_of_a_near_identical_post():
    rejected = PostText("The brand says its own trainers ran a workshop for the managers of its suppliers. We were not invited.")
    near_identical = PostText("The retailer says its own trainers ran a workshop for its suppliers' managers.")
    before = scores(fit(TACTICS, threshold=0.0), near_identical)["training"]
    after = scores(fit(TACTICS, [Decision(rejected, "training", approved=False)], threshold=0.0), near_identical)["training"]
    assert before >= DEFAULT_THRESHOLD > after
    assert after < before - 0.2


def test_one_approval_clearly_raises_the_score_of_a_similar_post():
    approved = PostText("The company asked us to coach its line supervisors on how to receive grievances.")
    similar = PostText("A brand asked us to coach the supervisors of its supplier on grievances.")
    before = scores(fit(TACTICS, threshold=0.0), similar)["training"]
    after = scores(fit(TACTICS, [Decision(approved, "training", approved=True)], threshold=0.0), similar)["training"]
    assert before < DEFAULT_THRESHOLD <= after
    assert after > before + 0.2


def test_a_refit_leaves_each_tactic_where_the_seed_model_put_the_decided_posts_that_show_other_tactics():
    # Many look-alike approvals lift one tactic's scores on every post; the refit takes that lift back, on posts the
    # moderators said nothing about for that tactic, so that one calibration still fits every tactic.
    buycotts = [
        PostText("We organised a buycott for the café that pays a living wage."),
        PostText("Hundreds of shoppers filled the store on the day of our carrotmob."),
        PostText("The carrotmob rewarded the bakery that signed the commitment."),
        PostText("Our supporters spent their money together at the shop that kept its promise."),
        PostText("The buycott brought a crowd of customers to the restaurant with the best pledge."),
    ]
    training_posts = [TRAINING_POST, *OWN_STAFF_POSTS, OWN_STAFF_LOOKALIKE]
    assert len(buycotts) == len(training_posts) == MIN_ANCHOR_POSTS  # each tactic anchored on the other's posts
    decisions = [Decision(post, "carrotmob", approved=True) for post in buycotts]
    decisions += [Decision(post, "training", approved=post is TRAINING_POST) for post in training_posts]
    seed, refit = fit(TACTICS), fit(TACTICS, decisions)

    def mean_logit(model: TacticModel, posts, tactic: str) -> float:
        column = model.tactics.index(tactic)
        return float(np.mean([model.post_logits(post_sentences(post.text))[column] for post in posts]))

    assert mean_logit(refit, buycotts, "training") == pytest.approx(mean_logit(seed, buycotts, "training"))
    assert mean_logit(refit, training_posts, "carrotmob") == pytest.approx(mean_logit(seed, training_posts, "carrotmob"))
    # What the decisions taught stays: the approved posts now score higher for their tactic than before.
    assert mean_logit(refit, buycotts, "carrotmob") > mean_logit(seed, buycotts, "carrotmob")


@pytest.mark.parametrize("decision_weights", [(0.1,), (2.0, 4.0, 2.0, 2.0, 2.0, 2.0)])
def test_decisions_weigh_exactly_their_share_however_few_or_heavy(decision_weights):
    training = TrainingSet(1)
    for text in ("seed one", "seed two", "seed three", "seed four"):
        training.add(text, {0: True})
    for weight in decision_weights:
        training.add("decided", {0: False}, weight)
    training.scale_from(4, 0.3)
    assert sum(training.weights[4:]) / sum(training.weights) == pytest.approx(0.3)
    assert training.weights[:4] == [1.0] * 4


def test_fit_with_decisions_is_deterministic():
    decisions = [Decision(TRAINING_POST, "training", approved=True), Decision(OWN_STAFF_POST, "training", approved=False)]
    first, second = fit(TACTICS, decisions), fit(TACTICS, list(decisions))
    assert first.version == second.version
    assert first.to_json() == second.to_json()


def test_the_last_decision_on_a_post_counts_and_unknown_tactics_are_ignored():
    approve, reject = Decision(OWN_STAFF_POST, "training", True), Decision(OWN_STAFF_POST, "training", False)
    assert fit(TACTICS, [approve, reject]).to_json()["weights"] == fit(TACTICS, [reject]).to_json()["weights"]
    unknown = fit(TACTICS, [Decision(OWN_STAFF_POST, "no-such-tactic", True)])
    assert unknown.to_json()["weights"] == fit(TACTICS).to_json()["weights"]


@pytest.mark.parametrize("text", ["", "   \n\n ", "...", "— !"])
def test_a_post_without_words_gets_no_suggestion(text):
    assert fit(TACTICS, threshold=0.0).score(PostText(text)) == []


def test_no_tactics_no_suggestions():
    model = fit([])
    assert model.score(TRAINING_POST) == []
    assert TacticModel.from_json(model.to_json()).score(TRAINING_POST) == []


def test_scores_are_probabilities_sorted_highest_first():
    suggestions = fit(TACTICS, threshold=0.0).score(TRAINING_POST)
    assert [s.tactic for s in suggestions] == ["training", "carrotmob"]
    assert all(0.0 <= s.score <= 1.0 for s in suggestions)
    assert suggestions[0].score > suggestions[1].score


def test_the_seed_tactics_file_fits():
    with SEED_TACTICS_FILE.open("rb") as f:
        seeded = [Tactic(t["name"], t["description"], tuple(t["examples"])) for t in tomllib.load(f)["tactics"]]
    assert [t.name for t in seeded] == ["training", "membership-association", "carrotmob", "restorative-circle"]
    assert all(3 <= len(t.examples) <= 6 for t in seeded)
    assert [s.tactic for s in fit(seeded).score(TRAINING_POST)] == ["training"]


def test_the_version_follows_only_what_the_fit_reads():
    decided = [Decision(TRAINING_POST, "training", True)]
    retitled = [Decision(replace(TRAINING_POST, title="Another title", reply_to_text="Some context."), "training", True)]
    assert fit(TACTICS, decided).version == fit(TACTICS, retitled).version
    assert fit(TACTICS, decided).version != fit(TACTICS, [Decision(TRAINING_POST, "training", False)]).version


def test_quoted_text_is_no_evidence_when_the_forum_reads_without_quotes():
    from forum.content import cook
    from forum.content.text import plain_text

    quoting = cook("> We ran a two-day training for the managers of twelve garment suppliers.\n\nThanks, that sounds useful to us.")
    assert fit(TACTICS).score(PostText(plain_text(quoting, without_quotes=True))) == []
    assert fit(TACTICS).score(PostText(plain_text(quoting)))  # read with the quote, it would be suggested


def test_calibration_is_a_monotone_map_into_0_1():
    model = fit(TACTICS, [Decision(TRAINING_POST, "training", approved=True)], threshold=0.0)
    sentences = [
        "We ran a human rights training for the company's managers.",
        "Our workshop taught supervisors how to handle worker complaints.",
        "The weather was fine.",
        "We organised a carrotmob for the shop.",
        "Xyzzy.",
    ]
    logits, calibrated = model.sentence_logits(sentences), model.sentence_scores(sentences)
    assert ((0.0 <= calibrated) & (calibrated <= 1.0)).all()
    for column in range(len(model.tactics)):
        order = np.argsort(logits[:, column], kind="stable")
        assert (np.diff(calibrated[order, column]) >= 0).all()
    assert not np.allclose(calibrated, 1 / (1 + np.exp(-logits)))  # the raw sigmoid is not what is reported


def test_a_tactic_gets_the_decided_calibration_once_its_bias_is_anchored():
    """No decision: the seed regime. Decided on every decided post (a tactic added after launch, the only one decided
    on yet): anchored() has no post to move its bias by, and the seed regime serves it. Decided on some: the decided
    regime."""
    assert fit(TACTICS).calibration.tolist() == [list(SEED_CALIBRATION)] * 2
    only_training = fit(TACTICS, [Decision(OWN_STAFF_POST, "training", approved=False), Decision(TRAINING_POST, "training", approved=True)])
    assert only_training.calibration.tolist() == [list(SEED_CALIBRATION)] * 2
    carrotmob_posts = [PostText(f"Shop number {n} joined the buycott and we all went shopping there.") for n in range(MIN_ANCHOR_POSTS)]
    training_posts = [OWN_STAFF_POST, *OWN_STAFF_POSTS[1:], TRAINING_POST, OWN_STAFF_LOOKALIKE]
    both = fit(TACTICS, [*(Decision(post, "training", approved=False) for post in training_posts),
                         *(Decision(post, "carrotmob", approved=True) for post in carrotmob_posts)])
    assert both.calibration.tolist() == [list(DECIDED_CALIBRATION)] * 2
    # One post fewer decided on carrotmob: too few to anchor training's bias on.
    fewer = fit(TACTICS, [*(Decision(post, "training", approved=False) for post in training_posts),
                          *(Decision(post, "carrotmob", approved=True) for post in carrotmob_posts[1:])])
    assert dict(zip(fewer.tactics, map(tuple, fewer.calibration.tolist()))) == {"training": SEED_CALIBRATION, "carrotmob": DECIDED_CALIBRATION}
    wordless = fit(TACTICS, [Decision(PostText("..."), "carrotmob", approved=False), Decision(OWN_STAFF_POST, "training", approved=False)])
    assert wordless.calibration.tolist() == [list(SEED_CALIBRATION)] * 2  # a post without words teaches nothing


SCORECARD_VERDICTS = (
    (PostText("We rank the ten largest banks every year and publish their scores on our website."), True),
    (PostText("Our annual scorecard rates supermarkets on how they treat farm workers."), True),
    (PostText("The index scores each mining company on its consultation with communities."), True),
    (PostText("The report ranks the worst polluters in the region."), False),
    (PostText("Companies sent us their scores from the audit, which we did not publish."), False),
    (PostText("We met the company's board to discuss its human rights policy."), False),
)


def test_a_tactic_decided_on_alone_gets_platt_constants_fitted_on_its_verdicts():
    """Nothing anchors a tactic decided on alone, so once it has approvals and rejections on enough posts its scores
    are calibrated on them; the tactics nobody decided on keep the seed regime."""
    tactics_with_scorecard = (*TACTICS, SCORECARD)
    decisions = [Decision(post, "scorecard", approved) for post, approved in SCORECARD_VERDICTS]
    model = fit(tactics_with_scorecard, decisions)
    calibration = dict(zip(model.tactics, map(tuple, model.calibration.tolist())))
    assert calibration["training"] == calibration["carrotmob"] == SEED_CALIBRATION
    assert calibration["scorecard"] != SEED_CALIBRATION
    assert fit(tactics_with_scorecard, decisions[1:-1]).calibration.tolist() == [list(SEED_CALIBRATION)] * 3  # too few
    approvals_only = [Decision(post, "scorecard", True) for post, _ in SCORECARD_VERDICTS]
    assert fit(tactics_with_scorecard, approvals_only).calibration.tolist() == [list(SEED_CALIBRATION)] * 3


def test_the_own_calibration_reads_each_post_with_a_model_fitted_without_it():
    """Scored by the model that learnt from it, a decided post would look easier than the next one will: the
    constants must come from logits of models fitted without the post's fold."""
    tactics_with_scorecard = (*TACTICS, SCORECARD)
    decisions = [Decision(post, "scorecard", approved) for post, approved in SCORECARD_VERDICTS]
    model = fit(tactics_with_scorecard, decisions)
    column = model.tactics.index("scorecard")
    posts = [(post_sentences(post.text), {"scorecard": approved}) for post, approved in SCORECARD_VERDICTS]
    held_out_logits = {}
    for fold in range(tactics.CALIBRATION_FOLDS):
        rest = [post for k, post in enumerate(posts) if k % tactics.CALIBRATION_FOLDS != fold]
        without_fold = tactics.fit_on_posts(tactics_with_scorecard, rest, model.version, model.threshold)
        for k in range(fold, len(posts), tactics.CALIBRATION_FOLDS):
            held_out_logits[k] = float(without_fold.post_logits(posts[k][0])[column])
    expected = fit_platt([held_out_logits[k] for k in range(len(posts))], [approved for _, approved in SCORECARD_VERDICTS],
                         prior=SEED_CALIBRATION, prior_sd=tactics.OWN_CALIBRATION_PRIOR_SD)
    in_sample_logits = [float(model.post_logits(sentences)[column]) for sentences, _ in posts]
    in_sample = fit_platt(in_sample_logits, [approved for _, approved in SCORECARD_VERDICTS],
                          prior=SEED_CALIBRATION, prior_sd=tactics.OWN_CALIBRATION_PRIOR_SD)
    assert tuple(model.calibration[column]) == pytest.approx(expected)
    assert not np.allclose(expected, in_sample, atol=0.01)


def test_platt_constants_come_from_the_data_pulled_towards_the_prior():
    rng = np.random.default_rng(7)
    logits = rng.normal(0.0, 2.0, 4000)
    truths = rng.random(4000) < 1 / (1 + np.exp(-(1.5 * logits - 0.5)))
    slope, intercept = fit_platt(logits, truths)
    assert slope == pytest.approx(1.5, abs=0.15) and intercept == pytest.approx(-0.5, abs=0.15)
    assert fit_platt([], [], prior=(3.0, 1.0), prior_sd=2.0) == pytest.approx((3.0, 1.0))
    few = fit_platt(logits[:6], truths[:6], prior=(3.0, 1.0), prior_sd=0.01)
    assert few == pytest.approx((3.0, 1.0), abs=0.01)


def test_an_approved_post_is_learnt_as_a_whole_too(monkeypatch):
    """The whole post is half of a post's logit, so an approval teaches it: without its whole-post row the whole
    text of a post like the approved one scores lower."""
    approved = PostText("Our coalition meets the retailers every quarter. Each of them pays dues and signs the charter. "
                        "Members agree to share their audit findings with the others.")
    lookalike = ["Our coalition meets the brands every quarter; each pays dues, signs the charter and shares its audits."]
    with_whole_post = fit(TACTICS, [Decision(approved, "training", True)]).sentence_logits(lookalike)[0, 0]
    monkeypatch.setattr(tactics, "DECIDED_POST_WEIGHT", 0.0)
    without_whole_post = fit(TACTICS, [Decision(approved, "training", True)]).sentence_logits(lookalike)[0, 0]
    assert with_whole_post > without_whole_post + 0.1


def test_the_post_score_is_the_calibrated_mean_of_its_best_sentence_and_whole_post_logits():
    model = fit(TACTICS, threshold=0.0)
    sentences = post_sentences(TRAINING_POST.text)
    logit = (model.sentence_logits(sentences).max(axis=0) + model.sentence_logits([" ".join(sentences)])[0]) / 2
    expected = 1 / (1 + np.exp(-(logit * model.calibration[:, 0] + model.calibration[:, 1])))
    assert scores(model, TRAINING_POST) == {name: round(float(e), 4) for name, e in zip(model.tactics, expected)}
    assert np.allclose(model.post_logits(sentences), logit)


def test_a_one_sentence_post_scores_as_its_sentence():
    model = fit(TACTICS, threshold=0.0)
    sentence = "We ran a two-day training for the managers of a garment factory on overtime and harassment."
    expected = model.sentence_scores([sentence])[0]
    assert scores(model, PostText(sentence)) == {name: round(float(e), 4) for name, e in zip(model.tactics, expected)}


def test_a_stored_model_keeps_its_calibration():
    model = fit(TACTICS, [Decision(OWN_STAFF_POST, "training", approved=False)], threshold=0.0)
    restored = TacticModel.from_json(json.loads(json.dumps(model.to_json())))
    assert restored.calibration.tolist() == model.calibration.tolist()
    assert restored.score(OWN_STAFF_LOOKALIKE) == model.score(OWN_STAFF_LOOKALIKE)


def test_a_model_stored_by_the_previous_algorithm_is_refused_so_it_is_refitted():
    previous = fit(TACTICS).to_json() | {"algorithm": "tactics-sentence-lr-2"}
    del previous["calibration"]  # what lr-2 stored: raw sigmoid scores, no calibration
    with pytest.raises(ValueError, match="refit"):
        TacticModel.from_json(previous)
