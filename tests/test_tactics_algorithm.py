"""The tactics bot's pure functions (bots/tactics.py): no database, no app."""
import json
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from bots.tactics import ALGORITHM, Decision, PostText, Tactic, TacticModel, fit

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
    assert fit(TACTICS, threshold=0.7).version != base.version
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
    assert before >= 0.5 > after
    assert after < before - 0.2


def test_one_approval_clearly_raises_the_score_of_a_similar_post():
    approved = PostText("The company asked us to coach its line supervisors on how to receive grievances.")
    similar = PostText("A brand asked us to coach the supervisors of its supplier on grievances.")
    before = scores(fit(TACTICS, threshold=0.0), similar)["training"]
    after = scores(fit(TACTICS, [Decision(approved, "training", approved=True)], threshold=0.0), similar)["training"]
    assert before < 0.5 <= after
    assert after > before + 0.2


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
