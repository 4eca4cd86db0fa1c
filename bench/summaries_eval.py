"""Quality and speed of the thread summaries (bots.summaries) on real e-mail threads (ConvoSumm, email).

    .venv/bin/python -m bench.summaries_eval [--split val|test] [--data DIR] [--smoke]

ROUGE-1/2/Lsum F1 (rouge-score, stemming) against the human summaries, for our key points and for
Lead, the first sentence of each post, LexRank and TextRank (sumy), all cut to the same number of
words: the references' mean length, rounded. Every system's sentences are kept in thread order and the
output is cut after that many words (the last sentence may be cut short), one sentence a line for
ROUGE-Lsum. Also a paired bootstrap interval of ROUGE-1 (ours - Lead), a check that every key point is
verbatim text of the post it cites (a substring; exits non-zero otherwise), and the time taken on synthetic
threads of growing length. The weights in bots.summaries were chosen on val: report on test.
"""
import argparse
import html
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from nltk.tokenize import TreebankWordTokenizer
from rouge_score import rouge_scorer
from segtok.segmenter import split_multi
from sumy.nlp.stemmers import Stemmer
from sumy.parsers.plaintext import PlaintextParser
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from bots.summaries import ALGORITHM, REPLY_PREFIX, ThreadPost, summarize

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "convosumm-email"
ROUGE_TYPES = ("rouge1", "rouge2", "rougeLsum")
BOOTSTRAP_SEED = 20240601

# A post: `Name: "…"   Email: "…"   To: …   Subject: "…"` then the body. The data flattened each
# newline to three spaces, so a run of 3-5 spaces was a line break and a longer run a blank line.
POST_HEADER = re.compile(
    r'^\s*Name: "(?P<name>.*?)"\s+Email: ".*?"\s+To: .*?\s+Subject: "(?P<subject>.*?)"(?P<body>.*)$', re.S
)
BLANK_LINE = re.compile(r" {6,}")
LINE_BREAK = re.compile(r" {3,5}")
QUOTED = re.compile(r"^\s*>+\s?")


@dataclass(frozen=True)
class Thread:
    title: str
    posts: tuple[ThreadPost, ...]
    reference: str


def load_threads(data: Path, split: str) -> list[Thread]:
    sources = (data / f"{split}.source.txt").read_text(encoding="utf-8").splitlines()
    targets = (data / f"{split}.target.txt").read_text(encoding="utf-8").splitlines()
    if len(sources) != len(targets):
        sys.exit(f"{data}: {split} has {len(sources)} threads but {len(targets)} summaries")
    threads = []
    for source, target in zip(sources, targets):
        posts = parse_thread(source)
        threads.append(Thread(title=posts[0].subject or "", posts=posts, reference=target.strip()))
    return threads


def parse_thread(line: str) -> tuple[ThreadPost, ...]:
    """Posts with author names and subjects (never e-mail addresses), and replies derived from quotes and subjects."""
    posts: list[ThreadPost] = []
    for number, raw in enumerate(line.split("</s>"), start=1):
        header = POST_HEADER.match(raw)
        if header is None:
            sys.exit(f"unexpected post header: {raw[:40]!r}")
        text = body_text(header["body"])
        subject = html.unescape(header["subject"]).strip()
        reply_to = quoted_post(text, posts) or first_post_with_subject(subject, posts)
        posts.append(ThreadPost(number, header["name"].strip(), text, reply_to, subject))
    return tuple(posts)


def body_text(body: str) -> str:
    paragraphs = []
    for paragraph in BLANK_LINE.split(body.strip()):
        lines = [line.strip() for line in LINE_BREAK.split(paragraph) if line.strip()]
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def quoted_post(text: str, earlier: Sequence[ThreadPost]) -> int | None:
    """The latest earlier post containing most of the lines this post quotes with ">"."""
    quoted = [QUOTED.sub("", line).strip() for line in text.splitlines() if QUOTED.match(line)]
    quoted = [line for line in quoted if len(line) > 20]
    if not quoted:
        return None
    best, best_hits = None, 0
    for post in reversed(earlier):
        hits = sum(line in post.text for line in quoted)
        if hits > best_hits:
            best, best_hits = post.post_number, hits
    return best


def first_post_with_subject(subject: str, earlier: Sequence[ThreadPost]) -> int | None:
    """A "Re: S" message answers the message that started subject S."""
    if not REPLY_PREFIX.match(subject):
        return None
    bare = REPLY_PREFIX.sub("", subject).strip().lower()
    for post in earlier:
        if REPLY_PREFIX.sub("", post.subject or "").strip().lower() == bare:
            return post.post_number
    return None


def thread_sentences(thread: Thread) -> list[str]:
    """Every sentence of the thread in order, as the baselines see it (quotes and signatures included)."""
    return [" ".join(s.split()) for post in thread.posts for s in split_multi(post.text) if s.strip()]


def cut_to_words(sentences: Sequence[str], words: int) -> str:
    """The sentences, one a line, cut after `words` words."""
    lines, total = [], 0
    for sentence in sentences:
        kept = sentence.split()[: words - total]
        if kept:
            lines.append(" ".join(kept))
        total += len(kept)
        if total >= words:
            break
    return "\n".join(lines)


def ours(thread: Thread, words: int) -> list[str]:
    summary = summarize(thread.title, thread.posts, max_words=words)
    return [" ".join(point.text.split()) for point in summary.key_points]


def lead(thread: Thread, words: int) -> list[str]:
    return thread_sentences(thread)


def first_sentence_of_each_post(thread: Thread, words: int) -> list[str]:
    firsts = []
    for post in thread.posts:
        sentence = next((s for s in split_multi(post.text) if s.strip()), None)
        if sentence:
            firsts.append(" ".join(sentence.split()))
    return firsts


class SegtokTreebankTokenizer:
    """sumy's tokenizer interface on segtok and NLTK's Treebank tokenizer: neither needs downloaded data."""

    language = "english"

    def __init__(self):
        self.words = TreebankWordTokenizer()

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(s for s in split_multi(paragraph) if s.strip())

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(w for w in self.words.tokenize(sentence) if any(ch.isalnum() for ch in w))


def sumy_system(summarizer_class: type) -> Callable[[Thread, int], list[str]]:
    tokenizer = SegtokTreebankTokenizer()
    summarizer = summarizer_class(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")

    def run(thread: Thread, words: int) -> list[str]:
        document = PlaintextParser.from_string("\n\n".join(p.text for p in thread.posts), tokenizer).document

        def best_until_words(ranked):  # sumy passes sentences best first; keep enough to fill the budget
            kept, total = [], 0
            for info in ranked:
                if total >= words:
                    break
                kept.append(info)
                total += len(str(info.sentence).split())
            return kept

        return [" ".join(str(s).split()) for s in summarizer(document, best_until_words)]

    return run


SYSTEMS: dict[str, Callable[[Thread, int], list[str]]] = {
    f"ours ({ALGORITHM})": ours,
    "Lead": lead,
    "first sentence of each post": first_sentence_of_each_post,
    "LexRank (sumy)": sumy_system(LexRankSummarizer),
    "TextRank (sumy)": sumy_system(TextRankSummarizer),
}


def check_verbatim(threads: Sequence[Thread], words: int) -> int:
    """Every key point is a sentence of the post it cites first; returns how many were checked."""
    checked = 0
    for thread in threads:
        posts = {post.post_number: post for post in thread.posts}
        for point in summarize(thread.title, thread.posts, max_words=words).key_points:
            if point.text not in posts[point.post_numbers[0]].text:
                sys.exit(f"key point not verbatim in post {point.post_numbers[0]} of {thread.title!r}: {point.text!r}")
            checked += 1
    return checked


def bootstrap_interval(differences: np.ndarray, resamples: int) -> tuple[float, float]:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[picks].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def synthetic_thread(threads: Sequence[Thread], length: int) -> tuple[str, list[ThreadPost]]:
    """`length` posts cycled from the given threads, every third one replying to an earlier post."""
    pool = [post for thread in threads for post in thread.posts if post.text]
    posts = []
    for number in range(1, length + 1):
        source = pool[(number - 1) % len(pool)]
        reply_to = (number * 7919) % (number - 1) + 1 if number > 1 and number % 3 == 0 else None
        posts.append(ThreadPost(number, source.author, source.text, reply_to, source.subject))
    return threads[0].title, posts


def time_summaries(threads: Sequence[Thread], lengths: Sequence[int]) -> list[tuple[int, int, float]]:
    timings = []
    for length in lengths:
        title, posts = synthetic_thread(threads, length)
        started = time.perf_counter()
        summarize(title, posts)
        timings.append((length, sum(len(p.text.split()) for p in posts), time.perf_counter() - started))
    return timings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("val", "test"), default="test")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--smoke", action="store_true", help="10 threads, 100 resamples, 27/200-post timing")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)

    threads = load_threads(args.data, args.split)
    timing_threads = load_threads(args.data, "val")
    lengths: Sequence[int] = (27, 1_000, 10_000)
    resamples = args.resamples
    if args.smoke:
        threads, lengths, resamples = threads[:10], (27, 200), 100

    reference_words = statistics.mean(len(t.reference.split()) for t in threads)
    words = round(reference_words)
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    references = ["\n".join(" ".join(s.split()) for s in split_multi(t.reference)) for t in threads]

    results: dict[str, np.ndarray] = {}
    output_words: dict[str, float] = {}
    for name, system in SYSTEMS.items():
        outputs = [cut_to_words(system(thread, words), words) for thread in threads]
        output_words[name] = statistics.mean(len(o.split()) for o in outputs)
        scores = [scorer.score(ref, out) for ref, out in zip(references, outputs)]
        results[name] = np.array([[s[t].fmeasure * 100 for t in ROUGE_TYPES] for s in scores])

    checked = check_verbatim(threads, words)
    ours_name, lead_name = next(iter(SYSTEMS)), "Lead"
    low, high = bootstrap_interval(results[ours_name][:, 0] - results[lead_name][:, 0], resamples)

    print(f"## Thread summaries on ConvoSumm email `{args.split}` ({len(threads)} threads)\n")
    print(f"References: mean {reference_words:.1f} words; every output is cut at {words} words.\n")
    print("| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | mean words |")
    print("|---|---:|---:|---:|---:|")
    for name, values in results.items():
        r1, r2, rl = values.mean(axis=0)
        print(f"| {name} | {r1:.2f} | {r2:.2f} | {rl:.2f} | {output_words[name]:.1f} |")
    difference = results[ours_name][:, 0].mean() - results[lead_name][:, 0].mean()
    print(f"\nROUGE-1 ours - Lead: {difference:+.2f}, paired bootstrap 95% interval [{low:+.2f}, {high:+.2f}] "
          f"({resamples} resamples, seed {BOOTSTRAP_SEED}).")
    print(f"Verbatim check: all {checked} key points are exact text of the post they cite.\n")
    print("| synthetic thread | words | seconds |")
    print("|---:|---:|---:|")
    for length, total_words, seconds in time_summaries(timing_threads, lengths):
        print(f"| {length:,} posts | {total_words:,} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
