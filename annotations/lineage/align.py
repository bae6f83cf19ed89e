"""One-to-one alignment of the clauses of two captures of a policy.

Pure module: section texts in, pairs of clauses out; no ORM.

A clause is a sentence or a block (list item, table row, heading) of a section's reader text, cut
as the reader cuts it. Each old clause is paired with at most one new clause and each new clause
with at most one old clause, in this order (earlier steps take their clauses out of the later
ones):

1. identical clauses (whitespace-normalised) whose text occurs once in each capture;
2. identical clauses inside the sections that the compare page aligns (`diff_sections`), in order
   of appearance when a text repeats;
3. identical clauses anywhere, preferring the same heading and then the nearest position;
4. similar clauses inside aligned sections, best first;
5. similar clauses anywhere, with a stricter threshold, best first;
6. gaps, as a diff fills them: inside the aligned sections, and then inside the other (old, new)
   section pairs that earlier steps paired clauses between (a section moved where the compare
   page does not follow it, split or merged), the paired clauses that kept their order are
   anchors; an old clause left over between two anchors (or a section's start or end) is
   paired with a new clause left over between the same two anchors when they share enough
   rare words, best first. A gap with more than GAP_MAX_CLAUSES left over on either side is a
   rewrite, not an edit, and is left alone.

"Identical" means a whole clause of the new capture: the old clause's text found inside a longer
clause is not identical (it can still be similar). Ties are broken by the same heading and then
by the nearest relative position, never by which section comes first.

Only what the clauses of interest (`wanted`, the tagged ones) need is computed: step 1 for them
alone when it pairs them all (the usual case: a tag on an unchanged clause), and the new
capture's sentence segmentation (pysbd, slow) only for the sections that steps 4 and 5 look at.
The exact steps find a clause by its text and check that it stands as a whole clause (a block of
its own, or between sentence ends), so they need no segmentation of the new capture.

Similarity is measured on words (lower-cased, punctuation ignored), so inserted and deleted words
cost in proportion to their number: `similarity` = 2 x common words / (old words + new words),
common words taken in order (an LCS); `kept` = common words / old words, the share of the old
clause that survives. Pairs are ranked by their mean. Step 6 asks less of the words, since the
position vouches for the pair, and counts them differently, since a reworded successor keeps
few words in order: the words both clauses use, each weighted by its rarity (the log of
(sections + 1) / (sections using it + 1), over the sections of both captures, so "we", "your"
or the company's name count for little), as 2 x shared weight / (old weight + new weight); a
web or e-mail address counts as one word (two different addresses share nothing, whatever
"www" and "com" they have in common). The score a step-6 pair shows is still its word
similarity. The thresholds were chosen on the hand-checked histories of
`annotations/tests/data/lineage_eval.yaml` (docs/benchmarks.md).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Indel

from policies.comparing.diffing import diff_sections
from policies.reading.clauses import section_clauses

__all__ = [
    "Alignment",
    "Capture",
    "Clause",
    "Pairing",
    "SectionText",
    "align_clauses",
    "normalise",
    "normalise_with_map",
    "section_clauses",
]

# Inside aligned sections a pair is a candidate at this word similarity, or when the new clause
# keeps this share of an old clause of at least KEPT_MIN_WORDS words (a list item merged into a
# sentence, a sentence that grew).
SECTION_SIMILARITY = 0.4
SECTION_KEPT = 0.6
KEPT_MIN_WORDS = 3
# Across the policy, where nothing else says two clauses belong together.
POLICY_SIMILARITY = 0.6
# Last, between two paired clauses that kept their order (or a section's start or end) inside
# aligned sections, an old clause and a new clause left over in the same gap are paired at this
# similarity of their words weighted by rarity (`_Weights`), if neither side of the gap has more
# than GAP_MAX_CLAUSES clauses left over (more is a rewrite: position then says little).
GAP_SIMILARITY = 0.125
GAP_MAX_CLAUSES = 10
# Above this many (old x new) leftover clauses, only the clauses of interest are compared across
# the policy (about a microsecond a cell).
POLICY_MAX_CELLS = 250_000

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# Words for weighing shared content: a web or e-mail address is one name (two addresses that
# differ share nothing, whatever "www" and "com" they have in common), its scheme and "www."
# dropped; otherwise words as above.
_TERM = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)(?:www\.)?(\S+?)[.,;:)\]]*(?=\s|$)"
    r"|([\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(\w+)"
)


def _terms(text: str) -> set[str]:
    text = text.lower()
    if "://" not in text and "@" not in text and "www." not in text:
        return set(_WORD.findall(text))  # no address: words alone, three times as fast
    return {a or b or c for a, b, c in _TERM.findall(text)}


# What may end a sentence, and close it (quotes, brackets).
_ENDS_SENTENCE = re.compile(r"[.!?…:;][\"'”’)\]]*$")


def normalise(text: str) -> str:
    """Whitespace-insensitive form of a clause: what "the same text" means for carrying a tag."""
    return _SPACE.sub(" ", text).strip()


@dataclass
class SectionText:
    """A section as alignment sees it: heading, reader text, and where its clause spans are
    known already (the reader's stored marking), a function that reads them (called only if
    they are needed; None from it, or no function, means they are computed from the text)."""

    heading: str
    text: str
    clauses: Callable[[], list[tuple[int, int]] | None] | None = None


@dataclass(frozen=True, slots=True)
class Clause:
    section: int  # index of the section in the list given
    start: int  # offsets into that section's text
    end: int
    text: str  # normalised


@dataclass(frozen=True, slots=True)
class Pairing:
    new: Clause
    exact: bool
    score: float  # word similarity, 0-100


class Capture:
    """One capture as alignment sees it: its sections, their clauses on demand, a position for
    each offset, and an index for finding a clause's text. Build it once per text and pass it to
    every alignment that text takes part in."""

    def __init__(self, sections: Sequence[SectionText]) -> None:
        self.sections = sections
        self.headings = [normalise(s.heading).casefold() for s in sections]
        self._clauses: dict[int, list[Clause]] = {}
        self._counts: dict[str, int] | None = None
        self._joined: tuple[str, list[int], list[int]] | None = None
        self._norm: dict[int, tuple[str, list[int]]] = {}
        self._found: dict[str, list[Clause]] = {}
        self._starts: dict[int, dict[str, list[int]]] = {}
        self._searches = 0
        self._ordered: dict[int, list[int] | None] = {}
        self._terms: list[set[str]] | None = None
        total = sum(len(s.text) + 1 for s in sections) or 1
        self.base, at = [], 0
        for s in sections:
            self.base.append(at / total)
            at += len(s.text) + 1
        self.scale = 1 / total

    def clauses(self, k: int) -> list[Clause]:
        if k not in self._clauses:
            section = self.sections[k]
            spans = section.clauses() if section.clauses is not None else None
            if spans is None:
                spans = section_clauses(section.text)
            self._clauses[k] = [
                Clause(k, a, b, normalise(section.text[a:b])) for a, b in spans if a < b
            ]
        return self._clauses[k]

    def covering(self, k: int, start: int, end: int) -> list[Clause]:
        """The clauses of section k that overlap text[start:end], in order."""
        clauses = self.clauses(k)
        if k not in self._ordered:
            # Found by bisection where the clauses follow one another without overlapping
            # (cut by the reader, they do), else by looking at each.
            starts = [c.start for c in clauses]
            follow = all(a.end <= b.start for a, b in zip(clauses, clauses[1:], strict=False))
            self._ordered[k] = starts if follow else None
        starts = self._ordered[k]
        if starts is not None:
            clauses = clauses[
                max(bisect.bisect_right(starts, start) - 1, 0) : bisect.bisect_left(starts, end)
            ]
        return [c for c in clauses if c.start < end and start < c.end]

    def section_terms(self) -> list[set[str]]:
        """The words (and addresses) each section uses, for weighing words by rarity."""
        if self._terms is None:
            self._terms = [_terms(s.text) for s in self.sections]
        return self._terms

    def all_clauses(self) -> Iterable[Clause]:
        for k in range(len(self.sections)):
            yield from self.clauses(k)

    def count(self, text: str) -> int:
        """How many clauses of this capture have this (normalised) text."""
        if self._counts is None:
            self._counts = defaultdict(int)
            for clause in self.all_clauses():
                self._counts[clause.text] += 1
        return self._counts.get(text, 0)

    def position(self, section: int, start: int) -> float:
        return self.base[section] + start * self.scale

    def _normalised(self, k: int) -> tuple[str, list[int] | None]:
        """Section k's text with whitespace normalised, and the map back to the text (None when
        each character stays in place: the usual text, whose lines need no work)."""
        if k not in self._norm:
            text = self.sections[k].text
            if _irregular_space(text):
                self._norm[k] = normalise_with_map(text)
            else:
                self._norm[k] = (text.replace("\n", " "), None)
        return self._norm[k]

    def _joined_text(self) -> tuple[str, list[int], list[int]]:
        """All sections' normalised texts in one string (NUL between sections), with each
        section's start, so one search covers the capture."""
        if self._joined is None:
            parts, starts, at = [], [], 0
            for k in range(len(self.sections)):
                norm, _ = self._normalised(k)
                starts.append(at)
                parts.append(norm)
                at += len(norm) + 1
            self._joined = ("\x00".join(parts), starts, list(range(len(self.sections))))
        return self._joined

    def _clause_starts(self, key: int) -> dict[str, list[int]]:
        """Where a whole clause may start in the joined text (a section's start, or after a
        line's end or a sentence's end: `_stands_alone`'s test, loosened), by the `key`
        characters that follow, in order."""
        if key not in self._starts:
            joined, offsets, _ = self._joined_text()
            positions = []
            for k, section in enumerate(self.sections):
                _, index = self._normalised(k)
                places = (m.end() for m in _MAY_START_CLAUSE.finditer(section.text))
                if index is not None:  # irregular spacing: from the text's offsets to the form's
                    back = {at: n for n, at in enumerate(index)}
                    places = (back[at] for at in places)
                positions.extend(offsets[k] + at for at in places)
            starts = self._starts[key] = defaultdict(list)
            for at in positions:
                starts[joined[at : at + key]].append(at)
        return self._starts[key]

    def _occurrences(self, text: str) -> Iterable[int]:
        """Offsets in the joined text where `text` occurs (and, once the capture is indexed, a
        whole clause may start). The first few searches scan the text; later ones look the
        clause up by its first characters (the longest key it has: many clauses share their
        first words), so a thousand clauses do not each scan the whole capture."""
        joined, _, _ = self._joined_text()
        key = next((key for key in _START_KEYS if len(text) >= key), None)
        self._searches += 1
        if key is None or self._searches <= _SCANS_BEFORE_INDEX:
            at = joined.find(text)
            while at >= 0:
                yield at
                at = joined.find(text, at + 1)
            return
        for at in self._clause_starts(key).get(text[:key], ()):
            if joined.startswith(text, at):
                yield at

    def find_whole(self, text: str, sections: Iterable[int] | None = None) -> list[Clause]:
        """Every place where `text` (normalised) stands as a whole clause, in order."""
        if sections is None:
            if text not in self._found:
                _, starts, _ = self._joined_text()
                found = []
                for at in self._occurrences(text):
                    k = bisect.bisect_right(starts, at) - 1
                    found.extend(self._whole_at(k, at - starts[k], text))
                self._found[text] = found
            return self._found[text]
        found = []
        for k in sections:
            norm, _ = self._normalised(k)
            at = norm.find(text)
            while at >= 0:
                found.extend(self._whole_at(k, at, text))
                at = norm.find(text, at + 1)
        return found

    def _whole_at(self, k: int, at: int, text: str) -> list[Clause]:
        _, index = self._normalised(k)
        start, end = (
            (at, at + len(text)) if index is None else (index[at], index[at + len(text) - 1] + 1)
        )
        raw = self.sections[k].text
        return [Clause(k, start, end, text)] if _stands_alone(raw, start, end) else []


# A whole clause starts a section or follows a line's end or a sentence's end, possibly with
# spaces or tabs between (`_stands_alone`): in a section's text, the end of a match. A superset
# of the places (any closing quote or bracket will do): each is checked after.
_MAY_START_CLAUSE = re.compile(r"(?:\A|[\n.!?…:;\"'”’)\]])[ \t]*(?=\S)")
_START_KEYS = (40, 12)
# A capture searched for a few clauses (tagging one clause: once per later capture) is scanned;
# the index of clause starts pays for itself from about this many searches on (an import
# carrying a company's 1,000 tags).
_SCANS_BEFORE_INDEX = 8

# Whitespace other than spaces and line ends.
_ODD_SPACE = re.compile(r"[^\S \n]")


def _irregular_space(text: str) -> bool:
    """Whether normalising `text` does more than turn its line ends into spaces: anything but
    single spaces inside lines (tested piece by piece: one pattern of all of them takes five
    times as long)."""
    return bool(
        _ODD_SPACE.search(text)
        or "  " in text
        or " \n" in text
        or "\n " in text
        or text.startswith(" ")
        or text.endswith(" ")
    )


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """`normalise(text)` and, for each of its characters, the index it came from in `text`."""
    out, index = [], []
    pending_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            index.append(i - 1)
            pending_space = False
        out.append(ch)
        index.append(i)
    return "".join(out), index


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole clause: it starts a block or follows a sentence end,
    and ends its block or ends a sentence itself. (Spaces and tabs around it are skipped one
    by one: slicing the text before and after it costs more.)"""
    at = start
    while at and text[at - 1] in " \t":
        at -= 1
    if at and text[at - 1] != "\n" and not _ENDS_SENTENCE.search(text[max(0, at - 4) : at]):
        return False
    at, length = end, len(text)
    while at < length and text[at] in " \t":
        at += 1
    if at == length or text[at] == "\n":
        return True
    return bool(_ENDS_SENTENCE.search(text[max(start, end - 4) : end])) and text[end].isspace()


@dataclass
class Alignment:
    """The pairs found, keyed by old clause (section index, start offset)."""

    old: Capture
    new: Capture
    pairs: dict[tuple[int, int], Pairing] = field(default_factory=dict)

    def old_clauses(self, section: int, start: int, end: int) -> list[Clause]:
        """The old capture's clauses that overlap text[start:end] of its section."""
        return self.old.covering(section, start, end)


class _Aligner:
    def __init__(self, old: Capture, new: Capture) -> None:
        self.result = Alignment(old, new)
        self.old, self.new = old, new
        self.pairs = self.result.pairs
        self.taken: set[tuple[int, int]] = set()  # new (section, start)
        self.section_pairs: list[tuple[int, int]] | None = None

    def pair(self, old: Clause, new: Clause, exact: bool, score: float) -> None:
        self.pairs[old.section, old.start] = Pairing(new, exact, score)
        self.taken.add((new.section, new.start))

    def paired(self, old: Clause) -> bool:
        return (old.section, old.start) in self.pairs

    def free(self, new: Clause) -> bool:
        return (new.section, new.start) not in self.taken

    def whole(self, text: str) -> list[Clause]:
        return self.new.find_whole(text)

    def distance(self, old: Clause, new: Clause) -> tuple[bool, float]:
        """Tie-breaker: a different heading, then how far apart the two clauses sit."""
        return (
            self.old.headings[old.section] != self.new.headings[new.section],
            abs(
                self.old.position(old.section, old.start)
                - self.new.position(new.section, new.start)
            ),
        )

    # 1. Identical clauses unique on both sides.
    def unique(self, clauses: Iterable[Clause]) -> None:
        for clause in clauses:
            if self.paired(clause) or self.old.count(clause.text) != 1:
                continue
            found = self.whole(clause.text)
            if len(found) == 1 and self.free(found[0]):
                self.pair(clause, found[0], True, 100.0)

    def aligned_sections(self) -> list[tuple[int, int]]:
        if self.section_pairs is None:
            rows = diff_sections(
                [(s.heading, s.text) for s in self.old.sections],
                [(s.heading, s.text) for s in self.new.sections],
            ).rows
            self.section_pairs = sorted(
                (r.old_index, r.new_index)
                for r in rows
                if r.old_index is not None and r.new_index is not None
            )
        return self.section_pairs

    # 2. Identical clauses inside aligned sections, in order of appearance.
    def identical_in_sections(self) -> None:
        for a, b in self.aligned_sections():
            for clause in self.old.clauses(a):
                if self.paired(clause):
                    continue
                for new in self.new.find_whole(clause.text, [b]):
                    if self.free(new):
                        self.pair(clause, new, True, 100.0)
                        break

    # 3. Identical clauses anywhere.
    def identical_anywhere(self) -> None:
        candidates = [
            (self.distance(old, new), n, old, new)
            for n, old in enumerate(self.old.all_clauses())
            if not self.paired(old)
            for new in self.whole(old.text)
            if self.free(new)
        ]
        for _, _, old, new in sorted(candidates, key=lambda c: (c[0], c[1])):
            if not self.paired(old) and self.free(new):
                self.pair(old, new, True, 100.0)

    # 4 and 5. Similar clauses.
    def similar(self, cells: Iterable[tuple[Clause, Clause]], aligned: bool) -> None:
        words = _Words()
        scored = []
        for old, new in cells:
            if self.paired(old) or not self.free(new):
                continue
            found = _similarity(words(old.text), words(new.text), aligned)
            if found is not None:
                rank, score = found
                scored.append(((-rank, *self.distance(old, new)), len(scored), old, new, score))
        for _, _, old, new, score in sorted(scored, key=lambda s: (s[0], s[1])):
            if not self.paired(old) and self.free(new):
                self.pair(old, new, False, round(100 * score, 1))

    def similar_in_sections(self, sections: set[int] | None) -> None:
        self.similar(
            (
                (old, new)
                for a, b in self.aligned_sections()
                if sections is None or a in sections
                for old in self.old.clauses(a)
                for new in self.new.clauses(b)
            ),
            aligned=True,
        )

    def related_sections(self) -> list[tuple[int, int]]:
        """The aligned sections, then the other (old, new) sections that clauses went between,
        most pairs first: a section split or merged, or moved where the compare page does not
        follow it."""
        aligned = self.aligned_sections()
        between: dict[tuple[int, int], int] = defaultdict(int)
        for (a, _), p in self.pairs.items():
            between[a, p.new.section] += 1
        known = set(aligned)
        others = sorted((-n, pair) for pair, n in between.items() if pair not in known)
        return [*aligned, *(pair for _, pair in others)]

    # 6. Leftover clauses between the same paired neighbours.
    def fill_gaps(self, sections: set[int]) -> None:
        weights, words = _Weights(self.old, self.new), _Words()
        for a, b in self.related_sections():
            if a not in sections:
                continue
            olds, news = self.old.clauses(a), self.new.clauses(b)
            at = {c.start: j for j, c in enumerate(news)}
            anchors = [
                (i, at[p.new.start])
                for i, c in enumerate(olds)
                if (p := self.pairs.get((a, c.start))) is not None
                and p.new.section == b
                and p.new.start in at
            ]
            bounds = [(-1, -1), *_increasing(anchors), (len(olds), len(news))]
            for (i0, j0), (i1, j1) in zip(bounds, bounds[1:], strict=False):
                gap_old = [c for c in olds[i0 + 1 : i1] if not self.paired(c)]
                gap_new = [c for c in news[j0 + 1 : j1] if self.free(c)]
                if max(len(gap_old), len(gap_new)) > GAP_MAX_CLAUSES:
                    continue  # a rewrite, not an edit: where a clause sits says little
                scored = [
                    (-score, n, old, new)
                    for n, (old, new) in enumerate((o, c) for o in gap_old for c in gap_new)
                    if (score := weights.similarity(old.text, new.text)) >= GAP_SIMILARITY
                ]
                for _, _, old, new in sorted(scored, key=lambda s: (s[0], s[1])):
                    if not self.paired(old) and self.free(new):
                        # The score shown is the word similarity, as for every other pair.
                        score = _word_similarity(words(old.text), words(new.text))
                        self.pair(old, new, False, round(100 * score, 1))

    def similar_anywhere(self, wanted: list[Clause]) -> None:
        olds = [c for c in self.old.all_clauses() if not self.paired(c)]
        news = [c for c in self.new.all_clauses() if self.free(c)]
        if len(olds) * len(news) > POLICY_MAX_CELLS:
            # A rewrite of a long policy: only the clauses of interest look everywhere.
            olds = [c for c in wanted if not self.paired(c)]
        self.similar(((old, new) for old in olds for new in news), aligned=False)


def align_clauses(
    old: Capture | Sequence[SectionText],
    new: Capture | Sequence[SectionText],
    wanted: Iterable[tuple[int, int, int]] | None = None,
) -> Alignment:
    """Pair the clauses of two captures (each a `Capture`, or its sections).

    `wanted` lists the spans whose clauses matter, as (section index, start, end) in the old
    capture; the work stops as soon as all their clauses are paired. By default every clause
    matters.
    """
    old = old if isinstance(old, Capture) else Capture(old)
    new = new if isinstance(new, Capture) else Capture(new)
    aligner = _Aligner(old, new)
    if wanted is None:
        chosen = list(old.all_clauses())
    else:
        chosen = [
            c
            for section, start, end in sorted(set(wanted))
            for c in old.covering(section, start, end)
        ]

    def done() -> bool:
        return all(aligner.paired(c) for c in chosen)

    aligner.unique(chosen)
    if done():
        return aligner.result
    aligner.unique(old.all_clauses())
    aligner.identical_in_sections()
    aligner.identical_anywhere()
    if done():
        return aligner.result
    aligner.similar_in_sections({c.section for c in chosen if not aligner.paired(c)})
    if done():
        return aligner.result
    aligner.similar_in_sections(None)
    aligner.similar_anywhere(chosen)
    if done():
        return aligner.result
    aligner.fill_gaps({c.section for c in chosen if not aligner.paired(c)})
    return aligner.result


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of `pairs` (ordered by their first item) whose second items increase:
    the paired clauses that keep their order, as a diff keeps its common lines."""
    tails: list[int] = []  # tails[k]: the pair ending the best run of length k + 1 found so far
    ends: list[int] = []  # its second item
    before = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(ends, j)
        before[n] = tails[k - 1] if k else -1
        if k == len(tails):
            tails.append(n)
            ends.append(j)
        else:
            tails[k], ends[k] = n, j
    run, n = [], tails[-1] if tails else -1
    while n >= 0:
        run.append(pairs[n])
        n = before[n]
    return run[::-1]


class _Weights:
    """Words weighted by rarity: log of (sections + 1) / (sections using the word + 1), over
    the sections of both captures, so a word every section uses counts for nothing."""

    def __init__(self, old: Capture, new: Capture) -> None:
        used = Counter(w for c in (old, new) for terms in c.section_terms() for w in terms)
        total = len(old.sections) + len(new.sections) + 1
        self.weight = {w: math.log(total / (n + 1)) for w, n in used.items()}
        self.clauses: dict[str, tuple[set[str], float]] = {}

    def _terms(self, text: str) -> tuple[set[str], float]:
        if text not in self.clauses:
            terms = _terms(text)
            self.clauses[text] = terms, sum(self.weight.get(w, 0.0) for w in terms)
        return self.clauses[text]

    def similarity(self, old: str, new: str) -> float:
        """2 x weight of the words both use / (weight of the old's + weight of the new's)."""
        (a, weight_a), (b, weight_b) = self._terms(old), self._terms(new)
        if not weight_a + weight_b:
            return 0.0
        return 2 * sum(self.weight.get(w, 0.0) for w in a & b) / (weight_a + weight_b)


class _Words:
    """Clauses as strings of word codes, so rapidfuzz's Indel distance counts words."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if text not in self.cache:
            self.cache[text] = "".join(
                self.codes.setdefault(w, chr(0x100 + len(self.codes)))
                for w in _WORD.findall(text.lower())
            )
        return self.cache[text]


def _word_similarity(old: str, new: str) -> float:
    """2 x common words (in order) / (old words + new words), of two encoded clauses: the
    similarity `_similarity` computes, for a pair made on other grounds."""
    if not old or not new:
        return 0.0
    return (len(old) + len(new) - Indel.distance(old, new)) / (len(old) + len(new))


def _similarity(old: str, new: str, aligned: bool) -> tuple[float, float] | None:
    """(rank, word similarity) of two encoded clauses if they are close enough to pair."""
    m, n = len(old), len(new)
    if not m or not n:
        return None
    threshold = SECTION_SIMILARITY if aligned else POLICY_SIMILARITY
    kept_possible = aligned and m >= KEPT_MIN_WORDS and n >= m * SECTION_KEPT
    if 2 * min(m, n) / (m + n) < threshold and not kept_possible:
        return None  # cannot reach the threshold whatever the words
    common = (m + n - Indel.distance(old, new)) / 2
    similarity = 2 * common / (m + n)
    kept = common / m
    if similarity >= threshold or (kept_possible and kept >= SECTION_KEPT):
        return (similarity + kept) / 2, similarity
    return None
