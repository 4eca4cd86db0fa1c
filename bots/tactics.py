"""Tactics bot: which tactics a post is an example of, and the sentences that show it.

A pure function (text in, results out): offline, CPU only, deterministic, numpy and scipy's sparse matrices only.
One logistic regression per tactic over TF-IDF features (stemmed words and pairs of neighbouring words) of sentences:

- each tactic's name, description and examples are its first positive sentences (and negative ones
  for every other tactic), so a tactic added yesterday works before anyone has decided anything;
- ``GENERIC_SENTENCES`` (what practitioners write when they show no tactic, and the tactics' words in
  another sense) are negative for all;
- a moderator's rejection makes every sentence of that post a negative for that tactic (the hard
  negatives: a post that mentions training without being one), weighted ``DECISION_WEIGHT``, and the
  sentence that scored highest for it (the one the bot was wrong about) ``REJECTED_WITNESS_WEIGHT``;
- an approval makes the post's most telling sentence for that tactic (its "witness") positive, and
  negative for the tactics not approved on it, weighted ``DECISION_WEIGHT``. Which sentence that is, is not known: the model without
  decisions picks it, then the model refitted with those picks picks again (multiple-instance learning);
- a decided post is also learnt whole, as one sentence (``DECIDED_POST_WEIGHT``): positive for the tactics approved
  on it, negative for those rejected;
- after a refit, each tactic's bias is moved back to where the model without decisions put the decided posts that
  show other tactics (``anchored``): decisions shift some tactics' scores more than others', and one calibration
  serves them all. A tactic decided on alone cannot be anchored; once it has enough verdicts of both kinds, its
  calibration is fitted on them (``calibrated_on_verdicts``).

A post's logit for a tactic is the mean of two logits of the same regression: its highest-scoring
sentence's, since a tactic usually shows in one or two sentences of a longer post, and the whole post's
read as one sentence (``WHOLE_POST_SHARE``), since what makes that sentence an example (who is trained,
what the circle or the shopping day was for) is often in the sentences around it, and a lone sentence
that only names the tactic (a thank-you, a "circle of trust") is not. The best sentences are the
evidence, copied verbatim from ``PostText.text``. The regressions' outputs are not probabilities (their
training weights are balanced and seed sentences are not posts), so a post's logit is mapped to a
calibrated score by Platt scaling: ``sigmoid(slope * logit + intercept)``, fitted on cross-validated dev posts.

The title and the replied-to post are not scored: a topic title is shared by every post of the
thread, and a reply shows its tactic in its own words (evidence must come from the post itself).
"""
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse
from segtok.segmenter import split_multi

ALGORITHM = "tactics-sentence-lr-9"
# Platt scaling (slope, intercept) of a post's logit (TacticModel.post_logits), fitted by
# `python -m bench.tactics_eval --fit-calibration` on 5-fold cross-validated scores of the dev posts
# (dev.jsonl, dev2.jsonl, dev3.jsonl and the long posts of dev4a.jsonl + dev4b.jsonl; simulated moderator deciding at 0.75,
# bench.tactics_eval.CALIBRATION_DECISIONS_AT).
# A tactic nobody has decided on yet is scored by the seed-only model's calibration; decisions spread the logits wider,
# so a tactic with decisions gets its own, once its bias is anchored (anchored()). A tactic decided on every decided post
# (typically one added after launch, the only one moderators have decided on yet) is not anchored: it keeps the seed
# calibration until calibrated_on_verdicts() fits one on its verdicts. DECIDED_CALIBRATION's higher intercept let its
# precision fall as approvals came in (dev learning curves, lr-7: carrotmob 0.89 after 5 decisions, 0.51 after 30).
SEED_CALIBRATION = (3.93, 1.79)
DECIDED_CALIBRATION = (7.25, 5.70)
# On calibrated scores; the threshold rule of bench/data/tactics/README.md (best 5-fold CV dev macro-F1 among the grid's
# thresholds with dev precision >= 0.90, ties to the higher), as the full bench's dev sweep applies it with the constants
# above. `--fit-calibration` run with them refits the same constants and picks 0.50 again. With tactics-sentence-lr-6
# (decided models anchored, see anchored()) it went from lr-5's (4.87, 0.59), 0.70 -> (5.04, 3.17), 0.60 ->
# (5.33, 3.45), 0.65 -> (5.40, 3.54), 0.65 -> (5.41, 3.55), 0.65, then stayed. The long dev posts (dev4a, dev4b) then
# moved it to seed (3.69, 1.67) -> (3.93, 1.79), decided (5.41, 3.55) -> (5.56, 3.48), 0.50 -> (5.59, 3.50), 0.50,
# then stayed: dev precision 0.906 at 0.50 against 0.900 at 0.65, with recall 0.751 against 0.699. Learning decided
# posts whole (lr-9) moved the decided regime (5.59, 3.50), 0.50 -> (7.01, 5.43), 0.45 -> (7.23, 5.70), 0.45 ->
# (7.25, 5.71), 0.50 -> (7.25, 5.70), 0.50, then stayed: dev macro-F1 0.845 at precision 0.901, against 0.817 at 0.906.
DEFAULT_THRESHOLD = 0.5
# Share of the whole post's logit in a post's logit, the rest is its best sentence's. Chosen by 5-fold CV on the dev
# posts (simulated moderator deciding at 0.70, each share with its own refitted Platt constants): the best sentence
# alone (lr-4) ranked them with mean average precision 0.840 before decisions and 0.852 with, macro-F1 0.650 at
# precision 0.906; this share 0.852 / 0.873, macro-F1 0.714 at precision 0.926 (both at the rule's 0.70). Shares 0.3,
# 0.7 and 1.0, and a window of 2 or 3 sentences instead of the whole post, did about as well (0.863-0.877 with
# decisions). The best sentence keeps its half so that a long post's one telling sentence is not drowned by the rest:
# each dev post put among three dev posts showing no tactic, the whole post alone ranked them at 0.659 before
# decisions and 0.712 with, the best sentence alone at 0.683 / 0.753, this mean at 0.702 / 0.772.
WHOLE_POST_SHARE = 0.5
MAX_POST_CHARS = 8_000
MAX_EVIDENCE_SENTENCES = 2
# L2 penalty of the logistic regressions (on sentences whose TF-IDF vectors have unit length).
L2_PENALTY = 0.003
GRADIENT_STEPS = 400
WITNESS_ROUNDS = 2
# Share of the positive sentences in each tactic's total training weight: seed examples are few.
POSITIVE_SHARE = 0.5
# Weights among the decisions' sentences (their share of the whole is DECISIONS_PRIOR's): the sentence that
# made the bot suggest a rejected tactic counts most, it is the mistake to unlearn. Chosen by 5-fold CV on
# bench/data/tactics/dev.jsonl + dev2.jsonl; with the share below, 2 or 8 for the rejected witness ranked all dev
# posts no better (mean average precision 0.846 and 0.848, against 0.848).
DECISION_WEIGHT = 2.0
REJECTED_WITNESS_WEIGHT = 4.0
# The decisions' share of the training weight, for n decided posts: n / (n + DECISIONS_PRIOR), and at least
# DECISIONS_MIN_SHARE. The seed sentences are a prior worth DECISIONS_PRIOR decided posts, so decisions count
# more as they accumulate but a few dozen never drown the tactics' own examples: left to grow with their number
# and weights, they made the model rank the dev posts worse than with no decisions at all (5-fold CV, simulated
# moderator deciding at 0.65 with the previous constants: mean average precision over tactics 0.813 against 0.840
# without decisions; 0.851 with this share; prior 50: 0.837, 200: 0.849; 0.848 with the constants below). The
# floor keeps the first few decisions visible: one rejection among dozens of seed sentences would hardly move
# the model.
DECISIONS_PRIOR = 100
DECISIONS_MIN_SHARE = 0.3
# Decided posts without a verdict on a tactic that anchored() needs to move its bias: a shift read off fewer would
# swing with whichever post another tactic was decided on last. Below it the tactic keeps its bias and the seed
# calibration, as a tactic decided on alone does (measured on the dev learning curves, see SEED_CALIBRATION).
MIN_ANCHOR_POSTS = 5
# A decided post's weight as one sentence (DECISION_WEIGHT is its witness's). Chosen on the dev learning curves (each
# seed tactic added with 3 examples, 5 splits) with the own calibration below: mean F1 after 30 decisions 0.776
# (weight 1) and 0.768 (weight 2) against 0.740 without whole posts. Without the own calibration, weight 2 let
# precision fall as approvals came in (carrotmob 0.44 after 20 decisions) while recall reached 0.99.
DECIDED_POST_WEIGHT = 1.0
# A tactic that anchored() cannot anchor (decided on alone) gets Platt constants fitted on its own verdicts once it has
# this many (calibrated_on_verdicts), from CALIBRATION_FOLDS refits, around its regime's constants with this standard
# deviation. On the same curves without whole posts, mean F1 after 40 decisions: 0.748 (deviation 3), 0.755
# (deviation 1), 0.718 with the seed constants kept; with whole posts (weight 2), after 30: 0.768 (deviation 3),
# 0.750 (deviation 10).
MIN_OWN_CALIBRATION_POSTS = 5
CALIBRATION_FOLDS = 3
OWN_CALIBRATION_PRIOR_SD = 3.0

WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once
    only or other our ours out over own same she should so some such than that the their theirs them then
    there these they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours yes ok hi hello dear thanks thank one us s t""".split()
)

# What practitioners write in these dialogues when their post shows no tactic: advocacy, monitoring,
# questions, courtesies. They give the negative class its first examples before any rejection arrives.
GENERIC_SENTENCES = (
    "Thank you all for sharing your experiences and ideas in this discussion.",
    "I agree with the points made above and look forward to hearing more about human rights work.",
    "How can organizations get the attention of corporations and make them react?",
    "How do organizations work with companies to improve their human rights impact?",
    "What is the role of the government in protecting human rights from corporate abuse?",
    "We published a report documenting human rights violations in the company's supply chain.",
    "Our advocacy asked the government to adopt a binding human rights due diligence law.",
    "The company refused to respond to our letters for two years.",
    "We monitor working conditions and publish what we find.",
    "NGOs must stay independent from the corporations they work with and from their donors.",
    "The media can hold corporations accountable for their human rights impacts.",
    "Communities affected by the mine want compensation for their land.",
    "The supplier code of conduct bans forced labour and child labour.",
    "Workers have the right to freedom of association and to join a union.",
    "We filed a complaint and the case went to court.",
    "Is collaboration between NGOs and corporations more effective in some sectors than in others?",
    "Investors and shareholders can ask questions about human rights at the annual general meeting.",
    "Consumers were asked to boycott the brand until it changed its policy.",
    "The human rights impact assessment found serious risks for local communities.",
    "We have been in dialogue with the company for several years.",
    "Partnerships between NGOs and businesses raise questions about independence.",
    "Human rights organizations and companies see the issue very differently.",
    "Here is the link to the article for more information.",
    # The tactics' words in another sense (the labelling rule of bench/data/tactics/README.md).
    "Our staff and volunteers received training on safe interviewing before the field visits.",
    "We train judges, lawyers and our own researchers on business and human rights law.",
    "Union members were dismissed after they joined the strike.",
    "Our network's membership fee went up this year.",
    "We are part of a learning circle of NGOs that meets every month.",
    "Let me circle back to the question about audits.",
    "The company promised the restoration of the land and the river after the mine closes.",
    "Thank you for describing your example, it is inspiring.",
    "I hope this answers your question.",
)


@dataclass(frozen=True)
class Tactic:
    name: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class PostText:
    """Plain text of a post (its subject line included), of the post it replies to, and the topic title."""

    text: str
    reply_to_text: str = ""
    title: str = ""


@dataclass(frozen=True)
class Decision:
    """A moderator's decision on a suggestion (or a tag a moderator added by hand: approved)."""

    post: PostText
    tactic: str
    approved: bool


@dataclass(frozen=True)
class Suggestion:
    tactic: str
    score: float  # calibrated probability that the post shows the tactic
    evidence: tuple[str, ...]  # sentences copied verbatim from the post's text, most telling first
    model_version: str


@dataclass(frozen=True, eq=False)
class TacticModel:
    """A fitted model: per tactic, logistic regression weights over a TF-IDF vocabulary and the Platt
    scaling of their logits. Immutable."""

    version: str
    threshold: float
    tactics: tuple[str, ...]
    terms: tuple[str, ...]
    idf: np.ndarray  # (terms,)
    weights: np.ndarray  # (tactics, terms)
    biases: np.ndarray  # (tactics,)
    calibration: np.ndarray  # (tactics, 2): Platt slope and intercept
    term_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for array in (self.idf, self.weights, self.biases, self.calibration):
            array.flags.writeable = False
        object.__setattr__(self, "term_index", {term: i for i, term in enumerate(self.terms)})

    def score(self, post: PostText) -> list[Suggestion]:
        """Suggestions for the tactics whose score reaches the threshold, highest first."""
        sentences = post_sentences(post.text)
        if not sentences or not self.tactics:
            return []
        logits = self._sentence_and_whole_post_logits(sentences)
        post_scores = self.calibrated(post_logits_of(logits))
        scores = self.calibrated(logits[:-1])
        suggestions = []
        for column, tactic in enumerate(self.tactics):
            score = float(post_scores[column])
            if score < self.threshold:
                continue
            suggestions.append(Suggestion(tactic, round(score, 4), self.evidence(sentences, scores[:, column]), self.version))
        return sorted(suggestions, key=lambda s: (-s.score, s.tactic))

    def post_logits(self, sentences: Sequence[str]) -> np.ndarray:
        """(tactics,) logits of a post, given its sentences (at least one), before calibration."""
        return post_logits_of(self._sentence_and_whole_post_logits(sentences))

    def _sentence_and_whole_post_logits(self, sentences: Sequence[str]) -> np.ndarray:
        """(sentences + 1, tactics) logits: each sentence's, then the whole post's, in one pass."""
        return self.sentence_logits([*sentences, " ".join(sentences)])

    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        return sigmoid(logits * self.calibration[:, 0] + self.calibration[:, 1])

    def sentence_logits(self, sentences: Sequence[str]) -> np.ndarray:
        """(sentences, tactics) logits of the regressions, before calibration."""
        vectors = tfidf_matrix([text_terms(s) for s in sentences], self.term_index, self.idf)
        return vectors @ self.weights.T + self.biases

    def sentence_scores(self, sentences: Sequence[str]) -> np.ndarray:
        """(sentences, tactics) calibrated scores, 0..1."""
        return self.calibrated(self.sentence_logits(sentences))

    def evidence(self, sentences: Sequence[str], sentence_scores: np.ndarray) -> tuple[str, ...]:
        """The best sentence, and the next ones reaching the threshold (at most ``MAX_EVIDENCE_SENTENCES``), best first.

        The best sentence is evidence even below the threshold: the post's score, which reached it, can be higher."""
        ranked = sorted(range(len(sentences)), key=lambda i: (-sentence_scores[i], i))
        return tuple(sentences[i] for rank, i in enumerate(ranked[:MAX_EVIDENCE_SENTENCES])
                     if rank == 0 or sentence_scores[i] >= self.threshold)

    def to_json(self) -> dict:
        return {
            "algorithm": ALGORITHM,
            "version": self.version,
            "threshold": self.threshold,
            "tactics": list(self.tactics),
            "terms": list(self.terms),
            "idf": self.idf.tolist(),
            "weights": self.weights.tolist(),
            "biases": self.biases.tolist(),
            "calibration": self.calibration.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict) -> "TacticModel":
        if data.get("algorithm") != ALGORITHM:
            raise ValueError(f"model of algorithm {data.get('algorithm')!r}, expected {ALGORITHM!r}: refit it")
        terms = tuple(data["terms"])
        return cls(
            version=data["version"],
            threshold=float(data["threshold"]),
            tactics=tuple(data["tactics"]),
            terms=terms,
            idf=np.array(data["idf"], dtype=float).reshape(len(terms)),
            weights=np.array(data["weights"], dtype=float).reshape(len(data["tactics"]), len(terms)),
            biases=np.array(data["biases"], dtype=float).reshape(len(data["tactics"])),
            calibration=np.array(data["calibration"], dtype=float).reshape(len(data["tactics"]), 2),
        )


def post_logits_of(logits: np.ndarray) -> np.ndarray:
    """A post's logits from those of its sentences followed by the whole post's."""
    return (1 - WHOLE_POST_SHARE) * logits[:-1].max(axis=0) + WHOLE_POST_SHARE * logits[-1]


def fit(tactics: Sequence[Tactic], decisions: Sequence[Decision] = (), *, threshold: float = DEFAULT_THRESHOLD) -> TacticModel:
    """Fit one model for ``tactics`` from their descriptions and examples, and from moderators' decisions.

    Decisions on tactics not in ``tactics`` are ignored; when a post has several decisions on one tactic,
    the last one counts.
    """
    names = tuple(dict.fromkeys(t.name for t in tactics))
    # By the post's text alone: the fit reads nothing else of a post (see the module docstring).
    verdicts: dict[str, dict[str, bool]] = {}
    for decision in decisions:
        if decision.tactic in names:
            verdicts.setdefault(decision.post.text, {})[decision.tactic] = decision.approved
    # A post without words teaches nothing (it has no sentence to learn from, nor to anchor on).
    posts = [(sentences, by_tactic) for text, by_tactic in verdicts.items() if (sentences := post_sentences(text))]
    model = fit_on_posts(tactics, posts, model_version(tactics, decisions, threshold), threshold)
    return calibrated_on_verdicts(model, tactics, posts)


def fit_on_posts(tactics: Sequence[Tactic], posts: Sequence[tuple[list[str], dict[str, bool]]], version: str,
                 threshold: float) -> TacticModel:
    """``fit``, given the decided posts as (sentences, verdict by tactic), with the calibration of its regime."""
    names = tuple(dict.fromkeys(t.name for t in tactics))
    column = {name: i for i, name in enumerate(names)}
    calibration = np.array([calibration_of(sum(name in by_tactic for _, by_tactic in posts), len(posts)) for name in names],
                           dtype=float).reshape(len(names), 2)
    seed = TrainingSet(len(names))
    for tactic in tactics:
        for text in (tactic.name.replace("-", " "), tactic.description, *tactic.examples):
            seed.add(text, {column[tactic.name]: True} | {column[n]: False for n in names if n != tactic.name})
    for text in GENERIC_SENTENCES:
        seed.add(text, {i: False for i in range(len(names))})
    if not posts:
        return seed.fit(names, version, threshold, calibration)
    # Which sentence of an approved post shows the tactic is unknown: the model without decisions picks
    # it, then the model fitted with those picks picks again (the usual alternation of multiple-instance learning).
    model = seed_model = seed.fit(names, version, threshold, calibration)
    for _ in range(WITNESS_ROUNDS):
        training = seed.copy()
        seed_rows = len(training.texts)
        for sentences, by_tactic in posts:
            approved = {column[name] for name, ok in by_tactic.items() if ok}
            rejected = {column[name] for name, ok in by_tactic.items() if not ok}
            scores = model.sentence_logits(sentences)
            for row, sentence in enumerate(sentences):
                for i in rejected:
                    weight = REJECTED_WITNESS_WEIGHT if row == int(np.argmax(scores[:, i])) else DECISION_WEIGHT
                    training.add(sentence, {i: False}, weight)
            for i in approved:
                # The witness shows tactic i, and not the tactics the moderator did not approve on this post.
                others = {j: False for j in range(len(names)) if j not in approved and j not in rejected}
                training.add(sentences[int(np.argmax(scores[:, i]))], {i: True} | others, DECISION_WEIGHT)
            # The whole post is read as one sentence when scored (WHOLE_POST_SHARE), so it is learnt as one too.
            training.add(" ".join(sentences), {i: True for i in approved} | {i: False for i in rejected}, DECIDED_POST_WEIGHT)
        training.scale_from(seed_rows, max(DECISIONS_MIN_SHARE, len(posts) / (len(posts) + DECISIONS_PRIOR)))
        model = training.fit(names, version, threshold, calibration)
    return anchored(model, seed_model, posts)


def anchorable(decided_on_tactic: int, decided: int) -> bool:
    """Whether anchored() moves the bias of a tactic with verdicts on ``decided_on_tactic`` of the ``decided`` decided
    posts: at least MIN_ANCHOR_POSTS of them have no verdict on it."""
    return decided - decided_on_tactic >= MIN_ANCHOR_POSTS


def calibration_of(decided_on_tactic: int, decided: int) -> tuple[float, float]:
    """The Platt constants of a tactic with verdicts on ``decided_on_tactic`` of the ``decided`` decided posts: the
    decided regime's once anchored() moves its bias, else the seed regime's."""
    return DECIDED_CALIBRATION if decided_on_tactic and anchorable(decided_on_tactic, decided) else SEED_CALIBRATION


def anchored(model: TacticModel, seed_model: TacticModel,
             posts: Sequence[tuple[list[str], dict[str, bool]]]) -> TacticModel:
    """``model`` with each tactic's bias moved so that its mean post logit over the decided posts (sentences, verdict
    by tactic) that have no verdict on that tactic is the seed model's. Posts rejected for a tactic are not in its
    reference: the shift would undo what the rejections taught.

    Each regression's bias is an artefact of its training mix (weights balanced per tactic, seed sentences that are not
    posts), and decisions change that mix differently for each tactic: refitted, without this step, with the simulated
    decisions on all the dev posts, the mean logit on the posts that do not show the tactic rose by 0.71
    (membership-association), 0.70 (carrotmob), 0.63 (restorative-circle) and 0.39 (training). One Platt scaling
    (DECIDED_CALIBRATION) maps them all, so the tactic that rises least lost its recall (not because of the rejections:
    5-fold CV on dev without this step, training's recall at 0.70 was 0.41 before decisions, 0.23 with them, 0.18
    with the approvals alone). Anchoring every tactic on the same real
    posts, as the seed model scored them, keeps what the decisions changed in the ranking and undoes the tactic's drift.
    A tactic with fewer than ``MIN_ANCHOR_POSTS`` such posts keeps its bias (a new tactic, the only one moderators have
    decided on yet, has none: no post shows where it stood before). Anchored on GENERIC_SENTENCES instead, such a tactic added with three examples
    learnt less from its decisions (dev posts, each seed tactic in turn added as new: mean F1 after 30 decisions
    0.580 against 0.730)."""
    offsets = np.cumsum([0] + [len(sentences) + 1 for sentences, _ in posts])
    texts = [text for sentences, _ in posts for text in (*sentences, " ".join(sentences))]
    seed_logits, logits = seed_model.sentence_logits(texts), model.sentence_logits(texts)
    drift = np.array([post_logits_of(seed_logits[start:end]) - post_logits_of(logits[start:end])
                      for start, end in zip(offsets, offsets[1:])])
    in_reference = np.array([[name not in by_tactic for name in model.tactics] for _, by_tactic in posts], dtype=float)
    references = in_reference.sum(axis=0)
    shift = np.where(references >= MIN_ANCHOR_POSTS, (drift * in_reference).sum(axis=0) / np.maximum(references, 1), 0.0)
    return replace(model, biases=model.biases + shift)


def calibrated_on_verdicts(model: TacticModel, tactics: Sequence[Tactic],
                           posts: Sequence[tuple[list[str], dict[str, bool]]]) -> TacticModel:
    """``model`` with the Platt constants of each tactic that anchored() cannot anchor but that has verdicts on at least
    MIN_OWN_CALIBRATION_POSTS posts fitted on those verdicts, starting from its regime's (a prior of standard deviation
    OWN_CALIBRATION_PRIOR_SD). A post's logit comes from a model fitted without it (CALIBRATION_FOLDS folds of the
    decided posts). Moderators decide mostly on the bot's suggestions, but which posts were decided on hangs on their
    scores, so the share approved at a given score is still what the scores should say."""
    own = [i for i, name in enumerate(model.tactics)
           if len(verdicts := [by_tactic[name] for _, by_tactic in posts if name in by_tactic]) >= MIN_OWN_CALIBRATION_POSTS
           and len(set(verdicts)) == 2 and not anchorable(len(verdicts), len(posts))]
    if not own:
        return model
    logits: dict[int, list[float]] = {i: [] for i in own}
    truths: dict[int, list[bool]] = {i: [] for i in own}
    for fold in range(CALIBRATION_FOLDS):
        rest = [post for k, post in enumerate(posts) if k % CALIBRATION_FOLDS != fold]
        without_fold = fit_on_posts(tactics, rest, model.version, model.threshold)
        for sentences, by_tactic in posts[fold::CALIBRATION_FOLDS]:
            post_logits = without_fold.post_logits(sentences)
            for i in own:
                if model.tactics[i] in by_tactic:
                    logits[i].append(float(post_logits[i]))
                    truths[i].append(by_tactic[model.tactics[i]])
    calibration = model.calibration.copy()
    for i in own:
        calibration[i] = fit_platt(logits[i], truths[i], prior=tuple(calibration[i]), prior_sd=OWN_CALIBRATION_PRIOR_SD)
    return replace(model, calibration=calibration)


def fit_platt(logits: Sequence[float], truths: Sequence[bool], *, prior: tuple[float, float] = (0.0, 0.0),
              prior_sd: float = 1000.0) -> tuple[float, float]:
    """Platt constants (slope, intercept) of a one-feature logistic regression by Newton's method, with a Gaussian prior
    of standard deviation ``prior_sd`` around ``prior`` (the default only keeps the fit defined)."""
    design = np.stack([np.asarray(logits, dtype=float), np.ones(len(logits))], axis=1)
    y = np.asarray(truths, dtype=float)
    centre = np.asarray(prior, dtype=float)
    coefficients = centre.copy()
    precision = 1.0 / prior_sd**2
    for _ in range(100):
        p = sigmoid(design @ coefficients)
        gradient = design.T @ (p - y) + precision * (coefficients - centre)
        hessian = (design * (p * (1 - p))[:, None]).T @ design + precision * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        coefficients -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(coefficients[0]), float(coefficients[1])


class TrainingSet:
    """Sentences, each labelled positive, negative or unknown for each tactic."""

    def __init__(self, tactic_count: int) -> None:
        self.tactic_count = tactic_count
        self.texts: list[str] = []
        self.labels: list[dict[int, bool]] = []
        self.weights: list[float] = []

    def add(self, text: str, labels: dict[int, bool], weight: float = 1.0) -> None:
        if labels:
            self.texts.append(text)
            self.labels.append(labels)
            self.weights.append(weight)

    def scale_from(self, first_row: int, share: float) -> None:
        """Scale the weights of rows from ``first_row`` on so that they weigh ``share`` of all rows."""
        earlier, later = sum(self.weights[:first_row]), sum(self.weights[first_row:])
        if later:
            factor = share / (1 - share) * earlier / later
            self.weights[first_row:] = [w * factor for w in self.weights[first_row:]]

    def copy(self) -> "TrainingSet":
        other = TrainingSet(self.tactic_count)
        other.texts, other.labels, other.weights = list(self.texts), list(self.labels), list(self.weights)
        return other

    def fit(self, names: tuple[str, ...], version: str, threshold: float, calibration: np.ndarray) -> TacticModel:
        counts = [text_terms(text) for text in self.texts]
        terms = tuple(sorted({term for c in counts for term in c}))
        term_index = {term: i for i, term in enumerate(terms)}
        document_frequency = np.zeros(len(terms))
        for c in counts:
            document_frequency[[term_index[t] for t in c]] += 1
        idf = np.log((1 + len(counts)) / (1 + document_frequency)) + 1
        vectors = tfidf_matrix(counts, term_index, idf)
        targets = np.zeros((len(counts), self.tactic_count))
        sample_weights = np.zeros((len(counts), self.tactic_count))
        for row, (labels, weight) in enumerate(zip(self.labels, self.weights)):
            for i, positive in labels.items():
                targets[row, i] = float(positive)
                sample_weights[row, i] = weight
        weights, biases = fit_logistic(vectors, targets, balance(targets, sample_weights))
        return TacticModel(version=version, threshold=threshold, tactics=names, terms=terms, idf=idf, weights=weights, biases=biases,
                           calibration=calibration)


def balance(targets: np.ndarray, sample_weights: np.ndarray) -> np.ndarray:
    """Per tactic, give the positive sentences ``POSITIVE_SHARE`` of the total weight (each column sums to 1)."""
    balanced = np.zeros_like(sample_weights)
    for i in range(targets.shape[1]):
        positive = sample_weights[:, i] * targets[:, i]
        negative = sample_weights[:, i] * (1 - targets[:, i])
        if positive.sum() and negative.sum():
            balanced[:, i] = POSITIVE_SHARE * positive / positive.sum() + (1 - POSITIVE_SHARE) * negative / negative.sum()
        elif positive.sum() or negative.sum():
            balanced[:, i] = sample_weights[:, i] / sample_weights[:, i].sum()
    return balanced


def fit_logistic(vectors: sparse.csr_array, targets: np.ndarray, sample_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L2-penalised logistic regressions, one per column of ``targets``, by Nesterov's accelerated gradient.

    Rows of ``vectors`` have at most unit length, so the loss's gradient is Lipschitz with constant
    1/4 * (1 + 1) + penalty (the 1 for the bias), which fixes a step size that always converges.
    """
    rows, columns = vectors.shape
    design = sparse.hstack([vectors, np.ones((rows, 1))], format="csr")
    transposed = design.T.tocsr()  # each step multiplies by both
    step = 1.0 / (0.5 + L2_PENALTY)
    penalty = np.full((columns + 1, 1), L2_PENALTY)
    penalty[-1] = 0.0  # the bias is not penalised
    coefficients = np.zeros((columns + 1, targets.shape[1]))
    lookahead = coefficients.copy()
    momentum = 1.0
    for _ in range(GRADIENT_STEPS):
        residual = sample_weights * (sigmoid(design @ lookahead) - targets)
        updated = lookahead - step * (transposed @ residual + penalty * lookahead)
        next_momentum = (1 + math.sqrt(1 + 4 * momentum * momentum)) / 2
        lookahead = updated + (momentum - 1) / next_momentum * (updated - coefficients)
        coefficients, momentum = updated, next_momentum
    return np.ascontiguousarray(coefficients[:-1].T), coefficients[-1].copy()


def post_sentences(text: str) -> list[str]:
    """The post's sentences that have words in them."""
    return [s for s in sentences_of(text[:MAX_POST_CHARS]) if WORD.search(s.lower())]


def sentences_of(text: str) -> Iterator[str]:
    """Sentences exactly as written: a line break always ends one (subject lines, list items)."""
    for line in text.splitlines():
        for sentence in split_multi(line):
            if sentence.strip():
                yield sentence.strip()


def text_terms(text: str) -> Counter:
    """Stemmed content words and pairs of neighbouring content words."""
    words = [stem(w) for w in WORD.findall(text.lower().replace("-", "")) if w not in STOPWORDS]
    return Counter(words) + Counter(f"{a} {b}" for a, b in zip(words, words[1:]))


def stem(word: str) -> str:
    """A light suffix stripper, so "train", "trains", "trained" and "training" meet."""
    word = word.replace("’", "'").removesuffix("'s")
    for suffix in ("ings", "ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tfidf_matrix(counts: Sequence[Counter], term_index: dict[str, int], idf: np.ndarray) -> sparse.csr_array:
    """Unit-length sublinear TF-IDF rows over the model's terms (terms it never saw are left out), sparse: a sentence
    has a few dozen of the thousands of terms, and dense rows made a refit's memory grow with decisions times terms
    (554 MB for 2,000 decided posts)."""
    rows, columns, values = [], [], []
    for row, c in enumerate(counts):
        for term, count in c.items():
            index = term_index.get(term)
            if index is not None:
                rows.append(row)
                columns.append(index)
                values.append((1 + math.log(count)) * idf[index])
    rows_array, values_array = np.array(rows, dtype=np.int64), np.array(values, dtype=float)
    norms = np.sqrt(np.bincount(rows_array, weights=values_array**2, minlength=len(counts)))
    entries = (values_array / norms[rows_array], (rows_array, np.array(columns, dtype=np.int64)))
    return sparse.csr_array(entries, shape=(len(counts), len(idf)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -35, 35)))


def model_version(tactics: Sequence[Tactic], decisions: Sequence[Decision], threshold: float) -> str:
    """A digest of everything the fit depends on (a post's text, not its title or context, which it does not
    read): same inputs, same version."""
    payload = json.dumps(
        [ALGORITHM, threshold, [[t.name, t.description, list(t.examples)] for t in tactics],
         [[d.post.text, d.tactic, d.approved] for d in decisions]],
        ensure_ascii=False,
    )
    return f"{ALGORITHM}:{hashlib.sha256(payload.encode()).hexdigest()[:16]}"
