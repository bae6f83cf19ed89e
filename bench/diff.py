"""Benchmark the diff engines and policies.comparing.diffing on synthetic and sample captures.

    .venv/bin/python bench/diff.py [--runs N] [--quick] [--case NAME]

Cases: a 50,000-word pair with 5% edits, a typical 1,300-word pair, 10k- and 50k-word complete
rewrites (new text under new headings; the 20k one in ~1,300 one-sentence sections), 20k words
with half the paragraphs rewritten, the 34k-word live.com sample against a 5%-edited copy,
and three real histories from sample_data (psiphon3.com's partial rewrite with moved and renamed
sections, liveperson.com's and livejournal.com's complete rewrites). For each case it times, as
the median of N runs: the raw engines on the same word tokens policies.comparing.diffing uses
(diff-match-patch, rapidfuzz Indel opcodes, difflib), then `diff_words` on the whole texts, the
Markdown-to-sections step (split_sections + section_text), and `diff_sections` on those sections.
Texts are generated from a fixed seed, so runs compare like with like.
"""

from __future__ import annotations

import argparse
import difflib
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fast_diff_match_patch  # noqa: E402
import goals  # noqa: E402 (bench/ is the script's folder)
from rapidfuzz.distance import Indel  # noqa: E402

from policies.comparing import diffing  # noqa: E402
from policies.reading.text import section_text  # noqa: E402

try:
    from policies.reading.sectioning import split_sections
except ImportError:  # the sectioning module is being written alongside; fall back to "## "
    split_sections = None

SAMPLE_DIR = ROOT / "sample_data"
SAMPLE = SAMPLE_DIR / "corpus-sample"
LIVE_COM = SAMPLE / "live.com_2019-12-31.md"
SAMPLE_PAIRS = [
    ("psiphon3 2018 -> 2019", "corpus-sample/psiphon3.com_2018-07-21.md",
     "corpus-sample/psiphon3.com_2019-12-09.md"),
    ("liveperson 2003 -> 2015", "corpus-sample/liveperson.com_2003-08-01.md",
     "corpus-sample/liveperson.com_2015-12-28.md"),
    ("livejournal seeds 000->001", "seeds/000_a06f46bb5fdea414.txt",
     "seeds/001_8c44c36bd2a3f39e.txt"),
]  # fmt: skip

# Raw engines get this long before a run is cut short (diff-match-patch's own time limit) or,
# for difflib which has none, before further runs are skipped.
SLOW_RUN_SECONDS = 3.0
# Goals for the whole diff (issue #3): a typical pair, a large rewrite; anything else <= 1 s.
DIFF_GOALS_MS = {"1.3k words, 5% edits": 20, "10k rewrite": 200}


@dataclass
class Case:
    name: str
    old: str  # Markdown
    new: str


def body(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n", 1)[1].lstrip("\n")


def vocabulary() -> list[str]:
    # Words drawn from running text keep natural frequencies (many "the", few "subpoena").
    words: list[str] = []
    for path in sorted(SAMPLE.glob("*.md")):
        words += re.findall(r"[A-Za-z][a-z]+", body(path))
    return words


def sentence(rng: random.Random, words: list[str]) -> str:
    picked = [rng.choice(words) for _ in range(rng.randint(6, 24))]
    picked[0] = picked[0].capitalize()
    if rng.random() < 0.3:
        picked[rng.randrange(1, len(picked))] += ","
    return " ".join(picked) + "."


def document(
    rng: random.Random,
    words: list[str],
    size: int,
    paragraphs: tuple[int, int] = (3, 10),
    sentences: tuple[int, int] = (1, 5),
) -> list[list[str]]:
    """Sections, each a list of paragraphs, totalling `size` words."""
    sections: list[list[str]] = []
    count = 0
    while count < size:
        section = []
        for _ in range(rng.randint(*paragraphs)):
            paragraph = [sentence(rng, words) for _ in range(rng.randint(*sentences))]
            count += sum(len(s.split()) for s in paragraph)
            section.append(" ".join(paragraph))
        sections.append(section)
    return sections


def to_markdown(sections: list[list[str]], rng_seed: int, words: list[str]) -> str:
    rng = random.Random(rng_seed)  # the same seed gives both sides of a pair the same headings
    distinct = sorted(set(words))
    parts = []
    for number, paragraphs in enumerate(sections, start=1):
        heading = " ".join(w.capitalize() for w in rng.sample(distinct, 3))
        parts.append(f"## {number}. {heading}\n\n" + "\n\n".join(paragraphs))
    return "\n\n".join(parts) + "\n"


def edited(rng: random.Random, words: list[str], sections: list[list[str]], share: float):
    """A copy with `share` of its words edited: half as single words, half as whole sentences.

    Word edits (replace, insert, delete one word) are scattered, the worst case for a diff;
    sentence edits (replace, insert, delete a sentence) are what revisions mostly look like.
    """
    flat = [(s, p) for s, paragraphs in enumerate(sections) for p in range(len(paragraphs))]
    copy = [list(paragraphs) for paragraphs in sections]
    total = sum(len(p.split()) for paragraphs in sections for p in paragraphs)
    budget_words = budget_sentences = int(total * share / 2)
    while budget_words > 0:
        s, p = rng.choice(flat)
        tokens = copy[s][p].split(" ")
        k = rng.randrange(len(tokens))
        action = rng.randrange(3)
        if action == 0:
            tokens[k] = rng.choice(words)
        elif action == 1:
            tokens.insert(k, rng.choice(words))
        elif len(tokens) > 3:
            del tokens[k]
        copy[s][p] = " ".join(tokens)
        budget_words -= 1
    while budget_sentences > 0:
        s, p = rng.choice(flat)
        sentences = re.findall(r"[^.]+\.\s*", copy[s][p]) or [copy[s][p]]
        k = rng.randrange(len(sentences))
        new_sentence = sentence(rng, words) + " "
        action = rng.randrange(3)
        if action == 0:
            budget_sentences -= len(sentences[k].split()) + len(new_sentence.split())
            sentences[k] = new_sentence
        elif action == 1:
            budget_sentences -= len(new_sentence.split())
            sentences.insert(k, new_sentence)
        elif len(sentences) > 1:
            budget_sentences -= len(sentences[k].split())
            del sentences[k]
        copy[s][p] = "".join(sentences).rstrip()
    return copy


def rewritten(rng: random.Random, words: list[str], paragraph: str) -> str:
    """A new paragraph with as many sentences as `paragraph`."""
    return " ".join(sentence(rng, words) for _ in range(paragraph.count(". ") + 1))


def edited_markdown(rng: random.Random, words: list[str], text: str, share: float) -> str:
    """Edit `share` of the words of real Markdown in place (lines and markup stay put)."""
    tokens = re.split(r"( +)", text)
    word_positions = [i for i, t in enumerate(tokens) if re.fullmatch(r"[A-Za-z]+", t)]
    for k in rng.sample(word_positions, int(len(word_positions) * share)):
        action = rng.randrange(3)
        if action == 0:
            tokens[k] = rng.choice(words)
        elif action == 1:
            tokens[k] = f"{tokens[k]} {rng.choice(words)}"
        else:
            tokens[k] = ""
    return "".join(tokens)


def cases(quick: bool) -> list[Case]:
    rng = random.Random(20240601)
    words = vocabulary()
    made = []

    def pair(name: str, size: int, share: float | None, **shape: tuple[int, int]) -> None:
        old = document(rng, words, size, **shape)
        old_seed = new_seed = rng.randrange(1 << 30)
        if share is None:  # a rewrite: new text under new headings
            new, new_seed = document(rng, words, size, **shape), rng.randrange(1 << 30)
        else:
            new = edited(rng, words, old, share)
        made.append(
            Case(name, to_markdown(old, old_seed, words), to_markdown(new, new_seed, words))
        )

    pair("1.3k words, 5% edits", 1_300, 0.05)
    pair("10k rewrite", 10_000, None)
    if not quick:
        pair("50k words, 5% edits", 50_000, 0.05)
        pair("50k rewrite", 50_000, None)
        # Half the paragraphs kept, half rewritten: the case that rules diff-match-patch out.
        old = document(rng, words, 20_000)
        new = [
            [p if rng.random() < 0.5 else rewritten(rng, words, p) for p in paragraphs]
            for paragraphs in old
        ]
        seed = rng.randrange(1 << 30)
        old_markdown, new_markdown = to_markdown(old, seed, words), to_markdown(new, seed, words)
        made.append(Case("20k, half rewritten", old_markdown, new_markdown))
        # Many one-sentence sections: every section is a candidate partner of every other.
        pair("20k rewrite, tiny sections", 20_000, None, paragraphs=(1, 1), sentences=(1, 1))
        live = body(LIVE_COM)
        made.append(Case("live.com vs 5% edited", live, edited_markdown(rng, words, live, 0.05)))
    # Real histories: a partial rewrite with moved and renamed sections, and two full rewrites.
    for name, old_file, new_file in SAMPLE_PAIRS:
        made.append(Case(name, body(SAMPLE_DIR / old_file), body(SAMPLE_DIR / new_file)))
    return made


def sections_of(markdown: str) -> list[tuple[str, str]]:
    # Measure the derivation itself, not section_text's per-process cache of earlier runs.
    section_text.cache_clear()
    if split_sections is not None:
        return [(part.heading, section_text(part.text)) for part in split_sections(markdown)]
    chunks = re.split(r"(?m)^(?=## )", markdown)
    return [(chunk.split("\n", 1)[0].lstrip("# "), section_text(chunk)) for chunk in chunks]


def median_ms(function: Callable[[], object], runs: int) -> tuple[float, int]:
    """Median wall time in ms, and how many runs it took (fewer when one run is very slow)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
        if times[-1] > SLOW_RUN_SECONDS:
            break
    return statistics.median(times) * 1000, len(times)


def encode(old_tokens: list[str], new_tokens: list[str]) -> tuple[str, str]:
    codes: dict[str, str] = {}
    for token in (*old_tokens, *new_tokens):
        codes.setdefault(token, chr(0x100 + len(codes) + (0x800 if len(codes) >= 0xD700 else 0)))
    return "".join(codes[t] for t in old_tokens), "".join(codes[t] for t in new_tokens)


def measurements(case: Case) -> tuple[list[tuple[str, Callable[[], object]]], str]:
    """What to time for one case (label, function), and a one-line summary of its result."""
    old_sections, new_sections = sections_of(case.old), sections_of(case.new)
    old_text = "\n\n".join(text for _, text in old_sections)
    new_text = "\n\n".join(text for _, text in new_sections)
    old_tokens = diffing._TOKEN_RE.findall(old_text)
    new_tokens = diffing._TOKEN_RE.findall(new_text)
    a, b = encode(old_tokens, new_tokens)

    def tokenise_and_encode() -> object:
        return diffing._encode(
            diffing._TOKEN_RE.findall(old_text), diffing._TOKEN_RE.findall(new_text)
        )

    def dmp(cleanup: str) -> Callable[[], object]:
        return lambda: fast_diff_match_patch.diff(
            a, b, timelimit=SLOW_RUN_SECONDS, checklines=False, cleanup=cleanup
        )

    result = diffing.diff_sections(old_sections, new_sections)
    summary = (
        f"tokens {len(old_tokens)}/{len(new_tokens)}, sections {len(old_sections)}/"
        f"{len(new_sections)}: {result.changed} changed, {result.added} added, "
        f"{result.removed} removed, {result.moved} moved, "
        f"+{result.words_added}/-{result.words_removed} words"
    )
    return [
        ("tokenise + encode", tokenise_and_encode),
        ("raw dmp (no cleanup)", dmp("No")),
        ("raw dmp (semantic cleanup)", dmp("Semantic")),
        ("raw rapidfuzz Indel.opcodes", lambda: Indel.opcodes(a, b)),
        (
            "raw difflib (autojunk)",
            lambda: difflib.SequenceMatcher(None, old_tokens, new_tokens).get_opcodes(),
        ),
        ("diff_words (whole text)", lambda: diffing.diff_words(old_text, new_text)),
        ("split_sections + section_text", lambda: (sections_of(case.old), sections_of(case.new))),
        ("diff_sections", lambda: diffing.diff_sections(old_sections, new_sections)),
    ], summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="skip the large synthetic cases")
    parser.add_argument("--case", default="", help="only cases whose name contains this")
    args = parser.parse_args()

    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"ms, median of {args.runs} runs (fewer when a run takes over {SLOW_RUN_SECONDS:.0f} s)")
    print()
    header = f"| {'case':26} | {'measurement':30} | {'ms':>8} | {'runs':>4} |"
    print(header)
    print(f"|{'-' * 28}|{'-' * 32}|{'-' * 9}:|{'-' * 5}:|")
    summaries, whole_diffs = [], []
    for case in (c for c in cases(args.quick) if args.case in c.name):
        timed, summary = measurements(case)
        summaries.append(f"{case.name}: {summary}")
        for label, function in timed:
            ms, runs = median_ms(function, args.runs)
            capped = "dmp" in label and ms >= SLOW_RUN_SECONDS * 1000
            note = " (dmp stopped at its time limit)" if capped else ""
            print(f"| {case.name:26} | {label:30} | {ms:8.1f} | {runs:4} |{note}", flush=True)
            if label == "diff_sections":
                whole_diffs.append((case.name, ms))
    print()
    print("\n".join(summaries))
    for case_name, ms in whole_diffs:
        goals.check(f"diff_sections, {case_name}", ms, DIFF_GOALS_MS.get(case_name, 1000), "ms")


if __name__ == "__main__":
    main()
