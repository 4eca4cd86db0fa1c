"""Extractive thread summaries: a few key points, each a sentence copied verbatim from the post it cites.

A pure function (text in, results out): offline, CPU only, deterministic. It uses what a thread has and
a flat document lacks: the title and the opening post's guiding questions (what the thread is about),
replies (posts that get replies matter), per-post subject lines, points that several authors make
(centrality across authors), copies of earlier posts (never a point of their own) and redundancy across
posts (MMR, and a point made again is credited to the key point instead of repeated).

Social sentences are never key points (``PHATIC_RULES``): greetings, thanks and other courtesies,
self-introductions, sentences addressing a participant to agree or praise, remarks about the discussion
itself and sign-offs. Dialogue posts often open with one, so the position signal counts from a post's
first sentence of substance. A greeting in front of a sentence ("Hi Ana - audits failed ...") is cut
off, leaving the rest of the sentence: a key point is still text copied verbatim from its post.

Work is bounded whatever the thread's length: at most ``MAX_CANDIDATE_POSTS`` posts (the opening post,
then the most replied-to) are read, each up to ``MAX_POST_CHARS`` characters and its first
``MAX_SENTENCES_PER_POST`` candidate sentences; the opening post's guiding questions up to ``MAX_OPENING_CHARS``.
"""
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from segtok.segmenter import split_multi

ALGORITHM = "forum-keypoints-3"

MAX_CANDIDATE_POSTS = 250
MAX_POST_CHARS = 6_000
# The opening post is read further for its guiding questions, which often close a long framing: one post, read once,
# up to the forum's default longest post (FORUM_MAX_POST_LENGTH).
MAX_OPENING_CHARS = 32_000
MAX_SENTENCES_PER_POST = 8
MIN_SENTENCE_WORDS = 5
MAX_SENTENCE_WORDS = 60
# Cosine similarity from which another post "makes the same point" as a key point.
SAME_POINT_SIMILARITY = 0.5
# A sentence whose word trigrams are mostly found in an earlier post is a copy (quoting without ">").
COPY_SHARE = 0.6


@dataclass(frozen=True)
class ThreadPost:
    post_number: int  # 1..n; post 1 is the opening post
    author: str  # username or display name
    text: str  # plain text (Markdown rendered to text), paragraphs separated by blank lines
    reply_to_post_number: int | None = None
    subject: str | None = None  # the post's subject line (its leading heading), if any


@dataclass(frozen=True)
class KeyPoint:
    text: str  # a sentence (without a greeting in front) copied verbatim from the text of post_numbers[0]
    post_numbers: tuple[int, ...]  # the post it comes from, then other posts making the same point


@dataclass(frozen=True)
class ThreadSummary:
    key_points: tuple[KeyPoint, ...]  # in thread order
    algorithm: str  # name and version


@dataclass(frozen=True)
class ScoringWeights:
    """How much each signal counts; each signal is scaled to [0, 1] within the thread first.

    Chosen on ConvoSumm's validation threads, never on test, with sweeps outside the repository; running
    bench/summaries_eval.py --split val shows the result of these values there.
    Subject lines of their own are rare there, so that weight is a prior rather than a measured choice.
    """

    centrality: float = 1.0
    relevance: float = 1.0
    subject: float = 0.5
    position: float = 2.0
    replies: float = 0.5
    opening_post: float = 0.5
    # MMR: share of the score against similarity to key points already chosen.
    mmr_lambda: float = 0.7
    # Subtracted once a post already has a key point, so the summary covers more posts.
    same_post_penalty: float = 0.2


DEFAULT_WEIGHTS = ScoringWeights()


@dataclass(frozen=True)
class CandidateSentence:
    post_number: int
    author: str
    start: int  # offset of the sentence in its post's text
    text: str  # == post.text[start:start + len(text)]
    rank_in_post: int  # 0 for the post's first candidate sentence

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")


# A line that quotes an earlier message, or introduces one.
QUOTE_LINE = re.compile(r"^\s*(>|\|\s)")
ATTRIBUTION_LINE = re.compile(r"(wrote|writes|said):\s*$", re.I)
# Lines after which the rest of a post is an earlier message or a signature.
QUOTED_MESSAGE_START = re.compile(
    r"^\s*(-{2,}\s*original message\s*-{2,}|_{3,}\s*original message|(from|sent|date):\s+\S)", re.I
)
SIGNATURE_START = re.compile(
    r"^\s*(--\s*|[-_=*~]{3,}|((best|kind|warm|many)\s+)?(regards|wishes|thanks|cheers|sincerely)"
    r"[\s,.!]*|thank you[\s,.!]*|(yours|best)[\s,.!]*)$",
    re.I,
)
# A signature is short: a closing or separator line starts one only this close to the post's end.
SIGNATURE_MAX_LINES = 8
# Social sentences, by kind (each pattern is matched case-insensitively against the sentence with its
# whitespace collapsed). A late reader wants what was tried, what worked, what failed and who disagreed:
# none of these tell them that.
PHATIC_RULES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.I)
    for name, pattern in {
        # "Welcome, everyone, to ...", "Dear all, ..."; a greeting followed by more is cut off first.
        "greeting": r"^(hi|hello|hey|dear|greetings|welcome|good (morning|afternoon|evening|day))\b",
        # "Thank you for ...", "..., thanks for sharing!", "I am glad you found ...", "It has been really
        # interesting to hear ...", "Stories from the field are especially welcome." ("thanks to" is a cause).
        "courtesy": r"(^|[,;:]\s*|\band\s+)(thank you|thanks(?! to\b)|many thanks|much appreciated)\b"
        r"|^(i am|i'm|we are|we're|so) (so |really |very )?(glad|happy|pleased|delighted|grateful|thankful)"
        r" (you|to (see|hear|read|join|be|have|share|take part|participate))\b"
        r"|^it (has been|was|is|will be|would be) (a |an |really |very |so |truly )*(interesting|great|good|nice"
        r"|wonderful|fascinating|pleasure|privilege|honou?r|inspiring) to (hear|read|learn|know|join|take part"
        r"|participate|be part)\b"
        r"|\b(are|is) (especially |very |most |always |more than )?welcome[.!]*$",
        # "My name is ...", "I work at Kapija Network", "I sit on the council of the Volta ...",
        # "I'm a graduate student in Osaka ...": who the writer is, not what they found.
        "self-introduction": r"^my name is\b"
        r"|^(i am|i'm) (?!(a )?(bit|little|lot|few)\b)(a|an|part of|based in)\b"
        r"|^(i am|i'm) (?-i:[A-Z])[\w'’.-]* (from|at|with|of)\b"
        r"|^(i|we) (work|worked|volunteer|sit|lead|coordinate|chair|direct|head|manage|represent|serve|run"
        r"|teach|study)\b(\s+\S+){0,5}?\s+(at|with|for|on|in|of)\s+(the\s+)?(?-i:[A-Z])",
        # "I will go first", "Let me add ...", "Great question!", "A different question, which ...",
        # "Responding to Joost's question, ...", "Reading this thread has helped me ...".
        "meta": r"^(i will|i'll) go first\b"
        r"|^(let me|allow me to|i'd like to|i would like to|i want to|i wanted to) (start off|kick off|chime in"
        r"|jump in|introduce|try to answer|respond|reply|follow up|pick up on)\b"
        r"|^(let me|allow me to|i'd like to|i would like to|i want to|i wanted to|i will|i'll)"
        r" (add|share|say|offer|mention|give) (a few|a couple of|some|one|my|our|another|an?) (\w+ )?(words?"
        r"|thoughts?|points?|comments?|perspectives?|examples?|story|stories|notes?|things?|tactics?"
        r"|experiences?|reflections?|observations?|remarks?)\b"
        r"|^(i am|i'm) (joining|replying|responding|writing|posting|here)\b"
        # Only saying what it answers ("Responding to Joost's question, from the investor side.").
        r"|^(responding|replying|in response|in reply|answering|following up|further to)\b[^,:;]*[,:;]?[^,:;]{0,30}$"
        r"|^((?-i:[A-Z])[\w'’-]*'s|your) (point|question|comment|post|story|idea|example)\b.*\b(resonates?"
        r"|resonated|stuck with me|made me (think|wonder)|reminded me)\b"
        r"|^((a|what a) )?(great|good|excellent|interesting|fair|important|fantastic|wonderful|thoughtful)"
        r" (question|point|story|example|post|comment|idea|observation)s?\b"
        r"|^(a|one|another|my|some) (\w+ )?(question|thought|note|remark|summary|update|housekeeping"
        r"|reflection)s?(?=\s*[,.!?]|\s*:$| (for|before)\b)"
        r"|^(reading|following|hearing|joining|being part of|participating in|taking part in)"
        r" (this|the) (thread|dialogue|discussion|conversation|forum)\b"
        r"|\b(will be|are|am) (facilitating|moderating|hosting)\b|^(we are|we're) (halfway|half way)\b"
        r"|^to (help )?(keep|start|focus|open) (the|this) (focus|conversation|discussion|dialogue|thread)\b"
        r"|^(please|feel free to) (share|reply|answer|use|post|add|join|feel free|let (me|us) know|send"
        r"|comment|get in touch|respond|introduce)\b",
        # "Hope you find my thoughts useful.", "I look forward to hearing ...", "We welcome any comments."
        "sign-off": r"^(i |we )?(hope|hoping) ((this|that|it|these|my \w+) (is|was|helps|will help|has been|hasn't"
        r"|are|makes|answers|clarifies)|you (find|found|enjoy|are well|all)|i('ve| have) (answered|helped))\b"
        r"|^(i |we )?(look|looking) forward to\b"
        r"|^(i|we) (am|are|'m|'re) (eager|keen|excited) to (learn|hear|read|know)\b"
        r"|\b(i|we) welcome (any|your|all|more)? ?(comments|feedback|thoughts|suggestions|questions|input"
        r"|ideas)\b"
        r"|^(best|kind|warm|many) (regards|wishes)\b",
    }.items()
}
# A sentence opening by addressing a participant ("Priya, thank you, ...", "Sione, that is a moving
# story.", "Nkechi, your point ... has stuck with me"): a name or two, a comma, then a courtesy.
ADDRESS = re.compile(
    r"^(?P<names>[A-ZÀ-ÖØ-Þ][\w'’.-]*( [A-ZÀ-ÖØ-Þ][\w'’.-]*)?((,| and| &) [A-ZÀ-ÖØ-Þ][\w'’.-]*)*)(,| [-–—]) "
    r"(?i:thank|many thanks|welcome|congratulations|great|good|excellent|interesting|fascinating|wonderful"
    r"|lovely|fair|agreed|exactly|absolutely|yes|indeed|not (bad|terrible)|what a|you are right|you're right"
    r"|i (fully |completely |totally |strongly |really |do |very much )?(agree|respect|admire|appreciate|like"
    r"|love|understand|hear you|sympathi[sz]e|second|echo)"
    r"|i (have|had|feel) (deep|great|much|huge|a lot of|enormous) (respect|admiration|sympathy)"
    r"|(this|that|it)( is|'s| was| sounds)( a| an| really| very| so| truly| such| exactly| also| indeed)*"
    r" (great|good|interesting|moving|helpful|useful|fascinating|important|concrete|powerful|inspiring"
    r"|excellent|wonderful|lovely|impressive|the kind|a fair|what i)"
    r"|your (point|question|story|example|post|comment|idea)s?)\b"
)
# Capitalised words that open a sentence without naming anyone ("However, this is a good example").
NOT_NAMES = frozenset(
    """however yes no also again so well first second third finally overall still indeed today personally
    honestly frankly sadly unfortunately fortunately interestingly similarly likewise anyway now then
    meanwhile otherwise instead ultimately historically recently currently initially eventually""".split()
)
# Courtesy that turns into a disagreement ("Tomás, I respect your rule, but ...") is substance.
CONTRAST = re.compile(r"\b(but|however|though|although|yet)\b", re.I)
# A greeting in front of a sentence, cut off: "Hi Yan Yan and Ignacio - I agree that ...".
GREETING_PREFIX = re.compile(
    r"^\s*(hi|hello|hey|dear|greetings|good (morning|afternoon|evening))"
    r"(,?\s+(all|everyone|everybody|folks|guys|friends|colleagues|team|there"
    r"|(?-i:[A-Z])[\w'’.-]*((\s+(and|&))?\s+(?-i:[A-Z])[\w'’.-]*){0,3}))?\s*(,|!|:|\s*[-–—]+|\n)\s*",
    re.I,
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+")
ALPHANUMERIC = re.compile(r"[a-z0-9]+")
URL = re.compile(r"\b(https?://|www\.)\S+", re.I)
REPLY_PREFIX = re.compile(r"^\s*((re|aw|fwd?|sv)\s*(\[\d+\])?\s*:\s*)+", re.I)

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just let me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves yes ok okay hi hello dear thanks thank regards one
    think know like get got much many may might must shall us re""".split()
)


def summarize(
    title: str,
    posts: Sequence[ThreadPost],
    *,
    max_words: int = 65,
    weights: ScoringWeights = DEFAULT_WEIGHTS,
) -> ThreadSummary:
    """Pick key points, about ``max_words`` words in all (the last one is kept whole), in thread order."""
    replies_received = count_replies(posts)
    read_posts = candidate_posts(posts, replies_received)
    candidates = candidate_sentences(read_posts)
    if not candidates:
        return ThreadSummary(key_points=(), algorithm=ALGORITHM)

    opening = next((post for post in posts if post.post_number == 1), None)
    guiding_text = " ".join([title, *guiding_questions(opening)]) if opening else title
    subjects = {post.post_number: own_subject(post.subject, title) for post in read_posts}

    vectors = SentenceVectors([c.text for c in candidates], [guiding_text, *subjects.values()])
    scores = combine(
        weights,
        centrality=vectors.centrality_across_authors([c.author for c in candidates]),
        relevance=vectors.similarity_to_text(guiding_text),
        subject=subject_similarity(candidates, subjects, vectors),
        position=np.array([1.0 / (1 + c.rank_in_post) for c in candidates]),
        replies=np.array([math.log1p(replies_received.get(c.post_number, 0)) for c in candidates]),
        opening_post=np.array([1.0 if c.post_number == 1 else 0.0 for c in candidates]),
    )
    chosen = select_mmr(candidates, scores, vectors, weights, max_words)
    in_thread_order = sorted(chosen, key=lambda i: (candidates[i].post_number, candidates[i].start))
    key_points = tuple(
        KeyPoint(text=candidates[i].text, post_numbers=same_point_posts(i, candidates, vectors))
        for i in in_thread_order
    )
    return ThreadSummary(key_points=key_points, algorithm=ALGORITHM)


def count_replies(posts: Sequence[ThreadPost]) -> dict[int, int]:
    """Replies each post received, from other authors (answering oneself is not attention)."""
    authors = {post.post_number: post.author for post in posts}
    counts: dict[int, int] = {}
    for post in posts:
        target = post.reply_to_post_number
        if target is not None and target in authors and authors[target] != post.author:
            counts[target] = counts.get(target, 0) + 1
    return counts


def candidate_posts(posts: Sequence[ThreadPost], replies_received: dict[int, int]) -> list[ThreadPost]:
    """The posts read, in thread order: all of them, or the opening post and the most replied-to (then earliest)."""
    if len(posts) <= MAX_CANDIDATE_POSTS:
        return sorted(posts, key=lambda post: post.post_number)
    ranked = sorted(posts, key=lambda p: (p.post_number != 1, -replies_received.get(p.post_number, 0), p.post_number))
    return sorted(ranked[:MAX_CANDIDATE_POSTS], key=lambda post: post.post_number)


def candidate_sentences(posts: Sequence[ThreadPost]) -> list[CandidateSentence]:
    """Sentences that may become key points: each post's own, first ones first, copies of earlier posts and
    social sentences left out (so ``rank_in_post`` counts from the post's first sentence of substance)."""
    candidates: list[CandidateSentence] = []
    earlier_trigrams: set[tuple[str, ...]] = set()
    for post in posts:
        text = post.text[:MAX_POST_CHARS]
        post_trigrams: set[tuple[str, ...]] = set()
        rank = 0
        for start, sentence in own_sentences(text):
            trigrams = word_trigrams(sentence)
            post_trigrams.update(trigrams)
            if trigrams and sum(t in earlier_trigrams for t in trigrams) >= COPY_SHARE * len(trigrams):
                continue
            start, sentence = without_greeting(start, sentence)
            if rank < MAX_SENTENCES_PER_POST and is_key_point_material(sentence) and phatic_kind(sentence) is None:
                candidates.append(CandidateSentence(post.post_number, post.author, start, sentence, rank))
                rank += 1
        earlier_trigrams |= post_trigrams
    return candidates


def own_sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) for the sentences a post's author wrote: not quotes, attributions or signatures."""
    lines = text.splitlines(keepends=True)
    last_content = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    offset = 0
    block_start: int | None = None
    for number, line in enumerate(lines):
        starts_quoted_message = QUOTED_MESSAGE_START.match(line)
        starts_signature = SIGNATURE_START.match(line) and last_content - number < SIGNATURE_MAX_LINES
        if starts_quoted_message or starts_signature:
            break
        if QUOTE_LINE.match(line) or ATTRIBUTION_LINE.search(line):
            if block_start is not None:
                yield from split_block(text, block_start, offset)
            block_start = None
        elif block_start is None:
            block_start = offset
        offset += len(line)
    if block_start is not None:
        yield from split_block(text, block_start, offset)


def split_block(text: str, start: int, end: int) -> Iterator[tuple[int, str]]:
    """Sentences of text[start:end] with their offsets in text (segtok keeps each sentence verbatim)."""
    cursor = start
    for sentence in split_multi(text[start:end]):
        found = text.find(sentence, cursor, end)
        if found < 0:  # never expected; skipping keeps the verbatim promise unconditionally
            continue
        cursor = found + len(sentence)
        yield found, sentence


def is_key_point_material(sentence: str) -> bool:
    """A sentence of prose, neither a fragment nor code, a list of links or a wall of text."""
    words = WORD.findall(URL.sub(" ", sentence))
    if not MIN_SENTENCE_WORDS <= len(words) <= MAX_SENTENCE_WORDS:
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    if letters < 0.6 * len(sentence.replace(" ", "").replace("\n", "")):
        return False
    short_lines = sum(len(line.split()) <= 3 for line in sentence.splitlines())
    return short_lines <= 1


def without_greeting(start: int, sentence: str) -> tuple[int, str]:
    """The sentence without a greeting in front of it, and its new offset (the rest is still verbatim)."""
    greeting = GREETING_PREFIX.match(sentence)
    if greeting is None or not sentence[greeting.end() :].strip():
        return start, sentence
    return start + greeting.end(), sentence[greeting.end() :]


def phatic_kind(sentence: str) -> str | None:
    """Which kind of social sentence this is (a ``PHATIC_RULES`` name, or "address"), None for substance."""
    flat = " ".join(sentence.split())
    address = ADDRESS.match(flat)
    first_word = address["names"].split()[0].lower() if address else ""
    if address and first_word not in STOPWORDS and first_word not in NOT_NAMES:
        return None if CONTRAST.search(flat, address.end()) else "address"
    for kind, pattern in PHATIC_RULES.items():
        if pattern.search(flat):
            return kind
    return None


def guiding_questions(opening: ThreadPost) -> list[str]:
    """The opening post's questions: what the thread sets out to discuss."""
    return [sentence for _, sentence in own_sentences(opening.text[:MAX_OPENING_CHARS]) if sentence.rstrip().endswith("?")]


def own_subject(subject: str | None, title: str) -> str:
    """A post's subject line when it says something of its own (not the title, nor "Re: <title>")."""
    if not subject:
        return ""
    bare = REPLY_PREFIX.sub("", subject).strip()
    return "" if content_terms(bare) == content_terms(title) else bare


def word_trigrams(text: str) -> set[tuple[str, ...]]:
    words = ALPHANUMERIC.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def stem(word: str) -> str:
    """A light suffix stripper: enough to match "monitor", "monitors" and "monitoring"."""
    for suffix in ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> list[str]:
    return [stem(word) for word in ALPHANUMERIC.findall(text.lower()) if word not in STOPWORDS and len(word) > 1]


class SentenceVectors:
    """TF-IDF vectors of the candidate sentences, L2-normalised, over the terms that can be shared.

    A term found in only one text adds nothing to any similarity, only to that text's norm, so the
    dense matrix keeps the terms found at least twice (among the sentences and the extra texts).
    """

    def __init__(self, sentences: Sequence[str], extra_texts: Sequence[str]):
        term_lists = [content_terms(sentence) for sentence in sentences]
        document_frequency: dict[str, int] = {}
        for terms in [*term_lists, *(content_terms(text) for text in extra_texts)]:
            for term in set(terms):
                document_frequency[term] = document_frequency.get(term, 0) + 1
        documents = len(sentences) + len(extra_texts)
        self.idf = {term: math.log((1 + documents) / (1 + df)) + 1 for term, df in document_frequency.items()}
        self.columns = {term: i for i, term in enumerate(sorted(t for t, df in document_frequency.items() if df >= 2))}
        self.matrix = np.vstack([self.vector(terms) for terms in term_lists]) if term_lists else np.zeros((0, 0))

    def vector(self, terms: Sequence[str]) -> np.ndarray:
        vector = np.zeros(len(self.columns), dtype=np.float32)
        counts: dict[str, int] = {}
        for term in terms:
            counts[term] = counts.get(term, 0) + 1
        weights = {term: count * self.idf.get(term, 1.0) for term, count in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        for term, weight in weights.items():
            column = self.columns.get(term)
            if column is not None:
                vector[column] = weight / norm
        return vector

    def similarity_to_text(self, text: str) -> np.ndarray:
        terms = content_terms(text)
        if not terms:
            return np.zeros(len(self.matrix), dtype=np.float32)
        return self.matrix @ self.vector(terms)

    def similarities_to(self, index: int) -> np.ndarray:
        return self.matrix @ self.matrix[index]

    def centrality_across_authors(self, authors: Sequence[str]) -> np.ndarray:
        """Mean similarity to each other author's centroid: a point several people make scores high.

        Each author counts once, however much they wrote. With a single author, the thread's centroid.
        """
        names = sorted(set(authors))
        position = {name: i for i, name in enumerate(names)}
        author_index = np.array([position[author] for author in authors])
        centroids = np.zeros((len(names), self.matrix.shape[1]), dtype=np.float32)
        np.add.at(centroids, author_index, self.matrix)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        centroids = np.divide(centroids, norms, out=np.zeros_like(centroids), where=norms > 0)
        if len(names) == 1:
            return self.matrix @ centroids[0]
        to_all = self.matrix @ centroids.sum(axis=0)
        to_own = np.einsum("ij,ij->i", self.matrix, centroids[author_index])
        return (to_all - to_own) / (len(names) - 1)


def subject_similarity(
    candidates: Sequence[CandidateSentence], subjects: dict[int, str], vectors: SentenceVectors
) -> np.ndarray:
    """Similarity of each sentence to its own post's subject line (0 where the post has none)."""
    post_numbers = np.array([c.post_number for c in candidates])
    similarity = np.zeros(len(candidates), dtype=np.float32)
    for post_number, subject in subjects.items():
        in_post = post_numbers == post_number
        if subject and in_post.any():
            similarity[in_post] = vectors.matrix[in_post] @ vectors.vector(content_terms(subject))
    return similarity


def combine(weights: ScoringWeights, **signals: np.ndarray) -> np.ndarray:
    """Weighted sum of the signals, each scaled by its maximum in the thread."""
    total = np.zeros(len(next(iter(signals.values()))), dtype=np.float64)
    for name, values in signals.items():
        peak = float(np.max(values)) if len(values) else 0.0
        if peak > 0:
            total += getattr(weights, name) * (values / peak)
    return total


def select_mmr(
    candidates: Sequence[CandidateSentence],
    scores: np.ndarray,
    vectors: SentenceVectors,
    weights: ScoringWeights,
    max_words: int,
) -> list[int]:
    """Maximal marginal relevance: the best-scoring sentence least like those chosen, until ~max_words."""
    chosen: list[int] = []
    redundancy = np.zeros(len(candidates))
    post_numbers = np.array([c.post_number for c in candidates])
    posts_chosen = np.zeros(len(candidates), dtype=bool)
    available = np.ones(len(candidates), dtype=bool)
    words = 0
    while words < max_words and available.any():
        gain = weights.mmr_lambda * scores - (1 - weights.mmr_lambda) * redundancy
        gain -= weights.same_post_penalty * posts_chosen
        best = int(np.argmax(np.where(available, gain, -np.inf)))
        chosen.append(best)
        available[best] = False
        words += len(candidates[best].text.split())
        # A sentence making the chosen point again is credited to it (same_point_posts), never repeated.
        available &= ~makes_same_point(best, candidates, vectors)
        redundancy = np.maximum(redundancy, vectors.similarities_to(best))
        posts_chosen |= post_numbers == candidates[best].post_number
    return chosen


def makes_same_point(index: int, candidates: Sequence[CandidateSentence], vectors: SentenceVectors) -> np.ndarray:
    """Which candidates say what candidate `index` says: similar enough, and a question only like a question
    (an answer shares a question's words without making the same point)."""
    asks = candidates[index].is_question
    same_kind = np.array([c.is_question == asks for c in candidates])
    return same_kind & (vectors.similarities_to(index) >= SAME_POINT_SIMILARITY)


def same_point_posts(index: int, candidates: Sequence[CandidateSentence], vectors: SentenceVectors) -> tuple[int, ...]:
    """The key point's own post, then the other posts with a sentence making the same point."""
    own = candidates[index].post_number
    same = makes_same_point(index, candidates, vectors)
    others = {c.post_number for c, is_same in zip(candidates, same) if is_same and c.post_number != own}
    return (own, *sorted(others))
