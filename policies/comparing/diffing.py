"""Word-level diffs of two texts, and side-by-side alignment of two lists of sections.

Pure module: text in, data out; no Django, no ORM.

`diff_words` turns two plain texts into equal/delete/insert segments. The texts are cut into
tokens (a word, or a run of punctuation, each with the whitespace after it), every distinct token
is mapped to one code point, and the two code strings are diffed as follows (the measurements
behind each choice are in bench/diff.py and docs/benchmarks.md):

- up to `_RAPIDFUZZ_MAX_CELLS` (length x length), rapidfuzz's Indel opcodes: an exact LCS whose
  cost grows with the product of the lengths but not with the number of differences, so a
  10k-word rewrite costs what a 10k-word typo fix does;
- above that, sentences and lines are diffed first as units (diff-match-patch's line mode, with
  sentences for lines), and each region between equal units is diffed as above; a region that
  is still too big is split at patience-diff anchors (tokens unique on both sides) and the parts
  are diffed in turn. A region without a single anchor is shown as one replacement.

diff-match-patch itself is not used: it is the fastest engine on two nearly identical texts, but
its cost grows with the square of the differences, and a capture that keeps half its paragraphs
and rewrites the rest took it over a second at 20k words.

A diff-match-patch style semantic clean-up then folds short equalities lying between larger edits
into those edits ("the", a comma), so changes read as phrases rather than word confetti.

`diff_sections` aligns two documents' sections (by heading, then by content, then by position)
before diffing each pair, which keeps every diff small and lets moved and renamed sections be
reported as such instead of as removed plus added.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Indel

from policies.reading.text import WORD_RE, count_words

__all__ = ["AlignedRow", "SectionDiff", "diff_sections", "diff_words"]

EQUAL = "equal"
DELETE = "delete"
INSERT = "insert"

# A word or a run of punctuation, each taking the whitespace after it; a leading run of whitespace
# is a token of its own. Gluing whitespace on halves the token count (and LCS cost grows with its
# square) while punctuation stays separate, so "data," -> "data." is a one-token change.
_TOKEN_RE = re.compile(r"\w+\s*|[^\w\s]+\s*|\s+")
_ROMAN_NUMERAL_RE = re.compile(r"[ivxlc]+")

# Beyond this many cells (old tokens x new tokens), rapidfuzz's bit-parallel LCS costs more than
# ~25 ms here; see docs/benchmarks.md for the measurements behind every threshold below.
_RAPIDFUZZ_MAX_CELLS = 120_000_000

# Splitting an over-large region at unique anchors recurses at most this deep; adversarial input
# could otherwise peel one anchor per level.
_MAX_ANCHOR_DEPTH = 40

# Token codes start above Latin-1 and skip the surrogates (not valid in UTF-8 or UTF-32 text).
_CODE_POINTS = (range(0x100, 0xD800), range(0xE000, 0x110000))
_MAX_CODES = sum(len(r) for r in _CODE_POINTS)

# An edit slides at most this many tokens looking for a better place (repeats could go far).
_SLIDE_LIMIT = 32

# Section alignment.
_MATCH_MIN_SIMILARITY = 0.5  # content similarity for pairing sections whose headings differ
_HEADING_BONUS = 0.5  # added to a same-heading pair's similarity when choosing pairs
_POSITION_MIN_SIMILARITY = 0.1  # floor for pairing leftover sections by position in a gap
_BLOCK_MAX_SIMILARITY = 0.3  # below this a paired section is shown as one replacement
# A gap this big (old x new leftovers) is a rewrite of many sections, with nothing much to pair
# by position; the similarity table would cost ~10 us a cell.
_GAP_MAX_CELLS = 400

_Op = list  # [is_equal, old token count, new token count], mutable for the clean-up


def diff_words(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff of two texts as ("equal" | "delete" | "insert", text) segments.

    Joining the "equal" and "delete" segments gives `old` exactly, "equal" and "insert" give
    `new`. Within one change the "delete" segment comes before the "insert" segment, and no two
    neighbouring segments have the same op. Identical texts give one "equal" segment (none if
    both are empty).
    """
    return _word_diff(old, new)[0]


def _word_diff(old: str, new: str) -> tuple[list[tuple[str, str]], float]:
    """`diff_words` segments, and the share of tokens left equal (1.0 for two empty texts)."""
    old_tokens = _TOKEN_RE.findall(old)
    new_tokens = _TOKEN_RE.findall(new)
    ops = _diff_tokens(old_tokens, new_tokens)
    total = len(old_tokens) + len(new_tokens)
    equal = sum(a_len for is_equal, a_len, _ in ops if is_equal)
    return _segments(old_tokens, new_tokens, ops), 2 * equal / total if total else 1.0


@dataclass(slots=True)
class AlignedRow:
    """One row of a side-by-side comparison: a section on either side, or on both.

    `old_parts` are the equal/delete segments for the left column, `new_parts` the equal/insert
    segments for the right column; each joins back to that side's text.
    """

    kind: str  # "unchanged", "changed", "added" or "removed"
    moved: bool
    renamed: bool
    old_index: int | None
    new_index: int | None
    old_heading: str | None
    new_heading: str | None
    similarity: float
    old_parts: list[tuple[str, str]] = field(default_factory=list)
    new_parts: list[tuple[str, str]] = field(default_factory=list)
    words_added: int = 0
    words_removed: int = 0

    def __post_init__(self) -> None:
        # Rows come back from JSON with the (op, text) pairs as lists; keep one shape.
        self.old_parts = [tuple(part) for part in self.old_parts]
        self.new_parts = [tuple(part) for part in self.new_parts]


@dataclass(slots=True)
class SectionDiff:
    """The aligned rows of two documents and what changed between them.

    `added`, `removed`, `changed` and `unchanged` count rows by kind (they add up to the number
    of rows); `moved` counts rows whose section changed place, whatever their kind.
    """

    rows: list[AlignedRow]
    added: int
    removed: int
    changed: int
    moved: int
    unchanged: int
    words_added: int
    words_removed: int
    identical: bool


def diff_sections(old: Sequence[tuple[str, str]], new: Sequence[tuple[str, str]]) -> SectionDiff:
    """Align two documents' sections, given as (heading, plain text) pairs, and diff each pair.

    Sections are paired, in this order of preference: by identical normalised heading (where it
    is unique on both sides); by similar content (word-pair overlap of at least 0.5), so renamed
    sections find their counterpart; and, between two consecutive pairs that kept their order,
    by position, so a rewritten document still lines up section by section. Pairs that changed
    order relative to the other pairs are flagged `moved` (the pairs outside a longest
    increasing subsequence weighted by size), never reported as removed plus added. A pair whose
    texts share less than 30% of their words is shown as one replacement rather than as
    interleaved word changes.

    Rows follow the new document's order; a removed section comes right after the row of the
    section that preceded it in the old document.
    """
    old_side, new_side = _Side(old), _Side(new)
    compared: dict[tuple[int, int], AlignedRow] = {}

    def compare(i: int, j: int) -> AlignedRow:
        if (i, j) not in compared:
            compared[i, j] = _compare(old[i], new[j])
        return compared[i, j]

    pairs = _pair_by_heading_and_content(old_side, new_side, compare)
    in_order = _ordered_pairs(pairs, old_side, new_side)
    moved = {i for i in pairs if i not in in_order}
    pairs.update(_pair_by_position(old_side, new_side, pairs, in_order))

    rows_by_new: dict[int, AlignedRow] = {}
    for i, j in pairs.items():
        row = compare(i, j)
        row.old_index, row.new_index = i, j
        row.moved = i in moved
        # A replaced block is not a renamed section, even if the headings differ.
        row.renamed = row.similarity >= _BLOCK_MAX_SIMILARITY and (
            old_side.headings[i] != new_side.headings[j]
        )
        rows_by_new[j] = row
    return _assemble(old, new, pairs, rows_by_new)


# Token diff -------------------------------------------------------------------------------------


def _loose(token: str) -> str:
    """A token without the whitespace after it: 'Ontario\n\n' and 'Ontario' are the same word."""
    return token.rstrip() or " "


def _diff_tokens(old_tokens: list[str], new_tokens: list[str]) -> list[_Op]:
    """Cleaned-up ops turning `old_tokens` into `new_tokens`."""
    if old_tokens == new_tokens:
        return [[True, len(old_tokens), len(new_tokens)]] if old_tokens else []
    codes = _encode(old_tokens, new_tokens)
    if codes is None:  # over a million distinct tokens: no engine input, show one replacement
        return [[False, len(old_tokens), len(new_tokens)]]
    old_codes, new_codes, unit_ends = codes
    ops = _cleanup_semantic(_diff_codes(old_codes, new_codes, unit_ends))
    return _slide_to_boundaries(ops, old_tokens, new_tokens)


def _encode(old_tokens: list[str], new_tokens: list[str]) -> tuple[str, str, str] | None:
    """Map each distinct token to one code point: (old codes, new codes, unit-ending codes).

    A unit-ending token closes a sentence or a line: the large-input path diffs those units
    first.
    """
    vocabulary = dict.fromkeys(old_tokens)
    vocabulary.update(dict.fromkeys(new_tokens))
    if len(vocabulary) > _MAX_CODES:
        return None
    code_points = itertools.chain.from_iterable(_CODE_POINTS)
    code_of = dict(zip(vocabulary, map(chr, code_points), strict=False))
    unit_ends = "".join(
        code for token, code in code_of.items() if "\n" in token or token[0] in ".!?"
    )
    old_codes = "".join(map(code_of.__getitem__, old_tokens))
    new_codes = "".join(map(code_of.__getitem__, new_tokens))
    return old_codes, new_codes, unit_ends


def _diff_codes(a: str, b: str, unit_ends: str) -> list[_Op]:
    """Ops for two code strings: rapidfuzz when small enough, else units first."""
    prefix, suffix, a_mid, b_mid = _trim_common(a, b)
    if len(a_mid) * len(b_mid) <= _RAPIDFUZZ_MAX_CELLS or not unit_ends:
        middle = _diff_region(a_mid, b_mid)
    else:
        middle = _diff_by_units(a_mid, b_mid, unit_ends)
    return _with_common(prefix, middle, suffix)


def _diff_by_units(a: str, b: str, unit_ends: str) -> list[_Op]:
    """Diff sentences/lines as units, then each region between equal units token by token.

    This is line mode of diff-match-patch with sentences for lines: cheap (one unit per ~15
    tokens), and for the usual scattered edits it leaves many small regions.
    """
    ends = re.escape(unit_ends)
    unit_re = re.compile(f"[^{ends}]*[{ends}]|[^{ends}]+")
    a_units = unit_re.findall(a)
    b_units = unit_re.findall(b)
    unit_codes = _encode(a_units, b_units)
    if unit_codes is None or len(a_units) * len(b_units) > _RAPIDFUZZ_MAX_CELLS:
        return _diff_region(a, b)
    a_unit_codes, b_unit_codes, _ = unit_codes
    # Where each unit starts in the code strings, to slice regions out.
    a_starts = list(itertools.accumulate(map(len, a_units), initial=0))
    b_starts = list(itertools.accumulate(map(len, b_units), initial=0))
    ops: list[_Op] = []
    a_unit = b_unit = 0  # first unit of the open region, on each side
    for tag, i1, i2, j1, j2 in Indel.opcodes(a_unit_codes, b_unit_codes).as_list():
        if tag != EQUAL:
            continue
        # Everything between the previous equal run and this one is one region.
        region_a = a[a_starts[a_unit] : a_starts[i1]]
        region_b = b[b_starts[b_unit] : b_starts[j1]]
        ops.extend(_diff_region(region_a, region_b))
        n = a_starts[i2] - a_starts[i1]
        ops.append([True, n, n])
        a_unit, b_unit = i2, j2
    ops.extend(_diff_region(a[a_starts[a_unit] :], b[b_starts[b_unit] :]))
    return ops


def _diff_region(a: str, b: str, depth: int = 0) -> list[_Op]:
    """Ops for one region: rapidfuzz if small enough, else split at unique anchors and recurse.

    The anchors are patience diff's: tokens that occur exactly once on each side, kept where
    their order agrees on both sides (a longest increasing subsequence). Between two anchors
    the region is smaller, and tokens that were repeated in the whole may be unique in the
    part, so the recursion finds new anchors. With no anchor left the region is one
    replacement: a word-level LCS of texts without a single shared rare word is noise.
    """
    if not a or not b:
        return [[False, len(a), len(b)]] if a or b else []
    if len(a) * len(b) <= _RAPIDFUZZ_MAX_CELLS:
        return [
            [tag == EQUAL, i2 - i1, j2 - j1]
            for tag, i1, i2, j1, j2 in Indel.opcodes(a, b).as_list()
        ]
    anchors = _unique_anchors(a, b) if depth < _MAX_ANCHOR_DEPTH else []
    if not anchors:
        return [[False, len(a), len(b)]]
    ops: list[_Op] = []
    a_pos = b_pos = 0
    for i, j in anchors:
        ops.extend(_diff_region(a[a_pos:i], b[b_pos:j], depth + 1))
        ops.append([True, 1, 1])
        a_pos, b_pos = i + 1, j + 1
    ops.extend(_diff_region(a[a_pos:], b[b_pos:], depth + 1))
    return ops


def _unique_anchors(a: str, b: str) -> list[tuple[int, int]]:
    """(position in a, position in b) of codes unique on both sides, in an order both agree on."""
    a_counts, b_counts = Counter(a), Counter(b)
    unique = [code for code, n in a_counts.items() if n == 1 and b_counts[code] == 1]
    if not unique:
        return []
    # Find them with one regex scan per side rather than a Python loop over every code.
    finder = re.compile(f"[{re.escape(''.join(unique))}]")
    b_position = {match.group(): match.start() for match in finder.finditer(b)}
    matched = [(match.start(), b_position[match.group()]) for match in finder.finditer(a)]
    return _increasing_subsequence(matched)


def _increasing_subsequence(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A longest run of `pairs` (sorted by first item) whose second items increase."""
    tails: list[int] = []  # tails[k]: second item ending the best run of length k + 1
    tail_index: list[int] = []
    previous = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        length = bisect.bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            tail_index.append(k)
        else:
            tails[length] = j
            tail_index[length] = k
        previous[k] = tail_index[length - 1] if length else -1
    run: list[tuple[int, int]] = []
    k = tail_index[-1] if tail_index else -1
    while k != -1:
        run.append(pairs[k])
        k = previous[k]
    return run[::-1]


def _trim_common(a: str, b: str) -> tuple[int, int, str, str]:
    """Lengths of the common prefix and suffix, and what is left between them."""
    prefix = _common_prefix_length(a, b)
    a_rest, b_rest = a[prefix:], b[prefix:]
    suffix = _common_prefix_length(a_rest[::-1], b_rest[::-1])
    return prefix, suffix, a_rest[: len(a_rest) - suffix], b_rest[: len(b_rest) - suffix]


def _common_prefix_length(a: str, b: str) -> int:
    # Binary search with slice comparisons: a handful of C-speed compares instead of a Python
    # loop over up to 100k characters.
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _with_common(prefix: int, middle: list[_Op], suffix: int) -> list[_Op]:
    ops: list[_Op] = [[True, prefix, prefix]] if prefix else []
    ops.extend(middle)
    if suffix:
        ops.append([True, suffix, suffix])
    return ops


def _merge(ops: Iterable[_Op]) -> list[_Op]:
    """Join neighbouring equal ops, and neighbouring change ops into one change."""
    merged: list[_Op] = []
    for is_equal, a_len, b_len in ops:
        if not a_len and not b_len:
            continue
        if merged and merged[-1][0] == is_equal:
            merged[-1][1] += a_len
            merged[-1][2] += b_len
        else:
            merged.append([is_equal, a_len, b_len])
    return merged


def _cleanup_semantic(ops: Iterable[_Op]) -> list[_Op]:
    """Fold equalities no longer than the changes on both sides of them into those changes.

    The rule of diff-match-patch's diff_cleanupSemantic, measured in tokens: an equality goes
    when it is no longer than the larger side (deleted or inserted) of the change before it and
    of the change after it. Folding one equality grows the changes around its neighbours, which
    may then go too. diff-match-patch re-scans after each fold, which is quadratic on rewrites
    (thousands of tiny equalities); a stack of standing equalities, each with the change before
    it, does the same folding in one pass. Returns merged ops.
    """
    stack: list[tuple[int, int, int]] = []  # (equality length, deleted, inserted before it)
    deleted = inserted = 0  # the change after the last standing equality
    for is_equal, a_len, b_len in ops:
        if is_equal:
            if not (deleted or inserted) and stack:
                # Two equalities in a row: one equality.
                length, before_deleted, before_inserted = stack.pop()
                stack.append((length + a_len, before_deleted, before_inserted))
            else:
                stack.append((a_len, deleted, inserted))
                deleted = inserted = 0
            continue
        deleted += a_len
        inserted += b_len
        while stack:
            length, before_deleted, before_inserted = stack[-1]
            if length > max(before_deleted, before_inserted) or length > max(deleted, inserted):
                break
            stack.pop()
            deleted += before_deleted + length
            inserted += before_inserted + length
    merged: list[_Op] = []
    for length, before_deleted, before_inserted in stack:
        if before_deleted or before_inserted:
            merged.append([False, before_deleted, before_inserted])
        merged.append([True, length, length])
    if deleted or inserted:
        merged.append([False, deleted, inserted])
    return merged


def _slide_to_boundaries(ops: list[_Op], old_tokens: list[str], new_tokens: list[str]) -> list[_Op]:
    """Slide each pure insertion or deletion to where its edges read best.

    "email. We [keep it. We ]never" and "email. [We keep it. ]We never" are the same diff; the
    second puts the edges at sentence ends. This is diff-match-patch's
    diff_cleanupSemanticLossless at token level: an insertion can slide along the equal text
    around it while the token leaving one end matches the token entering the other.
    """
    a = b = 0
    for k, (is_equal, a_len, b_len) in enumerate(ops):
        shift = 0
        if not is_equal and (a_len == 0) != (b_len == 0) and 0 < k < len(ops) - 1:
            before, after = ops[k - 1], ops[k + 1]  # merged ops alternate: both are equalities
            tokens, start, length = (new_tokens, b, b_len) if b_len else (old_tokens, a, a_len)
            left = right = 0
            while (
                left < min(before[1], _SLIDE_LIMIT)
                and tokens[start - left - 1] == tokens[start + length - left - 1]
            ):
                left += 1
            while (
                right < min(after[1], _SLIDE_LIMIT)
                and tokens[start + right] == tokens[start + length + right]
            ):
                right += 1
            best_score = -1
            for offset in range(-left, right + 1) if left or right else ():
                score = _edge_score(tokens, start + offset) + _edge_score(
                    tokens, start + offset + length
                )
                if score >= best_score:  # ties go right, as in diff-match-patch
                    shift, best_score = offset, score
            before[1] += shift
            before[2] += shift
            after[1] -= shift
            after[2] -= shift
        a += shift + a_len
        b += shift + b_len
    return _merge(ops)


def _edge_score(tokens: list[str], index: int) -> int:
    """How good a place the gap before tokens[index] is for an edit to start or end."""
    if index <= 0 or index >= len(tokens):
        return 6
    previous = tokens[index - 1]
    stripped = previous.rstrip()
    if "\n\n" in previous:
        return 5
    if "\n" in previous:
        return 4
    if stripped[-1:] in (".", "!", "?"):
        return 3
    if stripped and not WORD_RE.match(stripped[-1]):
        return 2
    return 1 if stripped != previous else 0


def _segments(
    old_tokens: list[str], new_tokens: list[str], ops: list[_Op]
) -> list[tuple[str, str]]:
    """Turn merged ops back into text segments, the deletion before the insertion."""
    segments: list[tuple[str, str]] = []
    a = b = 0
    for is_equal, a_len, b_len in ops:
        if is_equal:
            segments.append((EQUAL, "".join(old_tokens[a : a + a_len])))
        else:
            if a_len:
                segments.append((DELETE, "".join(old_tokens[a : a + a_len])))
            if b_len:
                segments.append((INSERT, "".join(new_tokens[b : b + b_len])))
        a += a_len
        b += b_len
    return segments


# Section alignment ------------------------------------------------------------------------------


class _Side:
    """One document's sections as the alignment sees them; word pairs are computed on demand."""

    def __init__(self, sections: Sequence[tuple[str, str]]) -> None:
        self.sections = sections
        self.headings = [_normalise_heading(heading) for heading, _ in sections]
        self._bigrams: dict[int, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self.sections)

    def size(self, index: int) -> int:
        heading, text = self.sections[index]
        return len(heading) + len(text) + 1

    def bigrams(self, index: int) -> frozenset[str]:
        if index not in self._bigrams:
            heading, text = self.sections[index]
            words = WORD_RE.findall(f"{heading}\n{text}".casefold())
            # As "w1 w2" strings: their hash is cached, a tuple's is recomputed at every lookup.
            self._bigrams[index] = frozenset(map(" ".join, zip(words, words[1:], strict=False)))
        return self._bigrams[index]


def _normalise_heading(heading: str) -> str:
    # Case, punctuation and numbering ("3.", "iv)") change without the section changing.
    words = WORD_RE.findall(heading.casefold())
    while len(words) > 1 and (words[0].isdigit() or _ROMAN_NUMERAL_RE.fullmatch(words[0])):
        words.pop(0)
    return " ".join(words)


def _similarity(old: _Side, i: int, new: _Side, j: int) -> float:
    """Dice coefficient of two sections' word pairs: cheap, order-aware, symmetric."""
    a, b = old.bigrams(i), new.bigrams(j)
    total = len(a) + len(b)
    return 2 * len(a & b) / total if total else 1.0


def _pair_by_heading_and_content(
    old: _Side, new: _Side, compare: Callable[[int, int], AlignedRow]
) -> dict[int, int]:
    """Pair sections by unique identical heading and by similar content, best pairs first.

    A heading match scores `_HEADING_BONUS` plus its similarity (from its word diff, which the
    row needs anyway), a content match its word-pair similarity (from 0.5 up). So a same-named
    section keeps its partner unless another section holds much more of its text, as when a
    bold line added above the text became a heading of its own and took the body with it. Only
    sections without a good heading match are searched for content matches.
    """
    old_counts, new_counts = Counter(old.headings), Counter(new.headings)
    new_by_heading = {h: j for j, h in enumerate(new.headings) if new_counts[h] == 1}
    candidates: list[tuple[float, int, int]] = []
    open_old = set(range(len(old)))
    open_new = set(range(len(new)))
    for i, heading in enumerate(old.headings):
        j = new_by_heading.get(heading)
        if j is None or old_counts[heading] != 1:
            continue
        score = compare(i, j).similarity
        candidates.append((_HEADING_BONUS + score, i, j))
        if score >= _MATCH_MIN_SIMILARITY:
            open_old.discard(i)
            open_new.discard(j)
    candidates += _content_candidates(old, sorted(open_old), new, sorted(open_new))
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for _, i, j in sorted(candidates, key=lambda c: (-c[0], c[1], c[2])):
        if i not in pairs and j not in taken:
            pairs[i] = j
            taken.add(j)
    return pairs


def _content_candidates(
    old: _Side, old_open: list[int], new: _Side, new_open: list[int]
) -> list[tuple[float, int, int]]:
    """(similarity, i, j) for the open pairs with word-pair similarity of at least 0.5.

    Comparing every open section with every other is quadratic, and a rewrite opens them all.
    Prefix filtering (Chaudhuri et al., 2006) finds the same pairs from an index: order all
    word pairs rarest first; two sets with Dice >= 0.5 (Jaccard >= 1/3) must share one of the
    first |s| - ceil(|s| / 3) + 1 pairs of each, so only those are indexed and looked up, and
    the common pairs ("of the") that would make every section a candidate never are.
    """
    if not old_open or not new_open:
        return []
    frequency = Counter(itertools.chain.from_iterable(old.bigrams(i) for i in old_open))
    frequency.update(itertools.chain.from_iterable(new.bigrams(j) for j in new_open))
    # Any one total order will do (ties may fall either way): the pairs found are then verified.
    rank = {gram: r for r, gram in enumerate(sorted(frequency, key=frequency.__getitem__))}
    jaccard = _MATCH_MIN_SIMILARITY / (2 - _MATCH_MIN_SIMILARITY)

    def prefix(grams: frozenset[str]) -> list[str]:
        keep = len(grams) - math.ceil(jaccard * len(grams)) + 1
        return sorted(grams, key=rank.__getitem__)[:keep]

    index: dict[str, list[int]] = {}
    for j in new_open:
        for gram in prefix(new.bigrams(j)):
            index.setdefault(gram, []).append(j)
    candidates = []
    for i in old_open:
        grams = old.bigrams(i)
        found = set(itertools.chain.from_iterable(index.get(g, ()) for g in prefix(grams)))
        for j in sorted(found):
            score = _similarity(old, i, new, j)
            if score >= _MATCH_MIN_SIMILARITY:
                candidates.append((score, i, j))
    return candidates


def _ordered_pairs(pairs: dict[int, int], old: _Side, new: _Side) -> dict[int, int]:
    """The pairs that kept their relative order: a heaviest increasing subsequence.

    Weighting by size means that when a small section and a large one swap places, the small
    one is reported as moved. A Fenwick tree of running maxima keeps it O(n log n).
    """
    ordered = sorted(pairs.items())
    size = len(new)
    tree_best = [0] * (size + 1)
    tree_index = [-1] * (size + 1)
    best = [0] * len(ordered)
    previous = [-1] * len(ordered)
    for k, (i, j) in enumerate(ordered):
        # Heaviest chain ending at a new index below j (Fenwick slot j covers indices < j).
        top, top_index, slot = 0, -1, j
        while slot > 0:
            if tree_best[slot] > top:
                top, top_index = tree_best[slot], tree_index[slot]
            slot -= slot & -slot
        best[k] = top + old.size(i) + new.size(j)
        previous[k] = top_index
        slot = j + 1
        while slot <= size:
            if best[k] > tree_best[slot]:
                tree_best[slot], tree_index[slot] = best[k], k
            slot += slot & -slot
    chain: dict[int, int] = {}
    k = max(range(len(ordered)), key=best.__getitem__, default=-1)
    while k != -1:
        chain[ordered[k][0]] = ordered[k][1]
        k = previous[k]
    return chain


def _pair_by_position(
    old: _Side, new: _Side, pairs: dict[int, int], anchors: dict[int, int]
) -> dict[int, int]:
    """Pair the leftovers that sit in the same gap between in-order pairs, keeping their order.

    A gap with as many leftovers on each side pairs them in order. Otherwise an order-keeping
    alignment maximises the summed similarity (an LCS-style table, for gaps of up to
    `_GAP_MAX_CELLS` cells), and sections with less than a low floor of similarity stay added
    and removed.
    """
    paired_new = set(pairs.values())
    bounds = [(-1, -1), *sorted(anchors.items()), (len(old), len(new))]
    found: dict[int, int] = {}
    for (i0, j0), (i1, j1) in itertools.pairwise(bounds):
        old_gap = [i for i in range(i0 + 1, i1) if i not in pairs]
        new_gap = [j for j in range(j0 + 1, j1) if j not in paired_new]
        if len(old_gap) == len(new_gap):
            # As many sections out as in, at the same place: read it as a section-by-section
            # rewrite and keep them side by side (shown as replacements if nothing is shared).
            found.update(zip(old_gap, new_gap, strict=True))
        elif old_gap and new_gap and len(old_gap) * len(new_gap) <= _GAP_MAX_CELLS:
            found.update(_align_gap(old, old_gap, new, new_gap))
    return found


def _align_gap(old: _Side, old_gap: list[int], new: _Side, new_gap: list[int]) -> dict[int, int]:
    rows, cols = len(old_gap), len(new_gap)
    score = [[_similarity(old, i, new, j) for j in new_gap] for i in old_gap]
    usable = [[value >= _POSITION_MIN_SIMILARITY for value in row] for row in score]
    table = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for r in range(rows - 1, -1, -1):
        for c in range(cols - 1, -1, -1):
            take = score[r][c] + table[r + 1][c + 1] if usable[r][c] else -1.0
            table[r][c] = max(take, table[r + 1][c], table[r][c + 1])
    found: dict[int, int] = {}
    r = c = 0
    while r < rows and c < cols:
        if usable[r][c] and table[r][c] == score[r][c] + table[r + 1][c + 1]:
            found[old_gap[r]] = new_gap[c]
            r += 1
            c += 1
        elif table[r][c] == table[r + 1][c]:
            r += 1
        else:
            c += 1
    return found


def _compare(old: tuple[str, str], new: tuple[str, str]) -> AlignedRow:
    """The row for two paired sections (indices, moved and renamed are filled in later)."""
    (old_heading, old_text), (new_heading, new_text) = old, new
    row = AlignedRow(
        kind="unchanged",
        moved=False,
        renamed=False,
        old_index=None,
        new_index=None,
        old_heading=old_heading,
        new_heading=new_heading,
        similarity=1.0,
        old_parts=[(EQUAL, old_text)] if old_text else [],
        new_parts=[(EQUAL, new_text)] if new_text else [],
    )
    if old_text == new_text:
        return row
    old_tokens, new_tokens = _TOKEN_RE.findall(old_text), _TOKEN_RE.findall(new_text)
    # Whitespace after a word does not make it a different word (a paragraph break moved).
    ops = _diff_tokens(list(map(_loose, old_tokens)), list(map(_loose, new_tokens)))
    total = len(old_tokens) + len(new_tokens)
    equal = sum(a_len for is_equal, a_len, _ in ops if is_equal)
    row.similarity = 2 * equal / total if total else 1.0
    if row.similarity == 1.0:  # only whitespace differs
        return row
    row.kind = "changed"
    if row.similarity < _BLOCK_MAX_SIMILARITY:
        # Too little in common for word changes to help: show the old text and the new text.
        row.old_parts = [(DELETE, old_text)] if old_text else []
        row.new_parts = [(INSERT, new_text)] if new_text else []
        row.words_removed, row.words_added = count_words(old_text), count_words(new_text)
    else:
        row.old_parts, row.new_parts = _sided_segments(old_tokens, new_tokens, ops)
        row.words_removed = sum(count_words(text) for op, text in row.old_parts if op == DELETE)
        row.words_added = sum(count_words(text) for op, text in row.new_parts if op == INSERT)
    return row


def _sided_segments(
    old_tokens: list[str], new_tokens: list[str], ops: list[_Op]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Left and right parts, each side with its own text (equal words may differ in spacing).

    Both sides get a part for every change, empty on the side where nothing was removed or
    added, so the n-th unchanged part on the left faces the n-th on the right.
    """
    old_parts: list[tuple[str, str]] = []
    new_parts: list[tuple[str, str]] = []
    a = b = 0
    for is_equal, a_len, b_len in ops:
        old_text, new_text = "".join(old_tokens[a : a + a_len]), "".join(new_tokens[b : b + b_len])
        if is_equal:
            old_parts.append((EQUAL, old_text))
            new_parts.append((EQUAL, new_text))
        elif a_len or b_len:
            old_parts.append((DELETE, old_text))
            new_parts.append((INSERT, new_text))
        a += a_len
        b += b_len
    return _merge_parts(old_parts), _merge_parts(new_parts)


def _merge_parts(parts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for op, text in parts:
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def _assemble(
    old: Sequence[tuple[str, str]],
    new: Sequence[tuple[str, str]],
    pairs: dict[int, int],
    rows_by_new: dict[int, AlignedRow],
) -> SectionDiff:
    """Order the rows (new order, removed sections after their old predecessor) and count."""
    removed_after: dict[int, list[AlignedRow]] = {}
    anchor = -1  # new index of the row the next removed section follows; -1 means the top
    for i, (heading, text) in enumerate(old):
        if i in pairs:
            anchor = pairs[i]
            continue
        words = count_words(text)
        removed_after.setdefault(anchor, []).append(
            AlignedRow(
                kind="removed",
                moved=False,
                renamed=False,
                old_index=i,
                new_index=None,
                old_heading=heading,
                new_heading=None,
                similarity=0.0,
                old_parts=[(DELETE, text)] if text else [],
                words_removed=words,
            )
        )
    rows = list(removed_after.get(-1, []))
    for j, (heading, text) in enumerate(new):
        row = rows_by_new.get(j)
        if row is None:
            row = AlignedRow(
                kind="added",
                moved=False,
                renamed=False,
                old_index=None,
                new_index=j,
                old_heading=None,
                new_heading=heading,
                similarity=0.0,
                new_parts=[(INSERT, text)] if text else [],
                words_added=count_words(text),
            )
        rows.append(row)
        rows.extend(removed_after.get(j, []))
    kinds = Counter(row.kind for row in rows)
    moved = sum(row.moved for row in rows)
    return SectionDiff(
        rows=rows,
        added=kinds["added"],
        removed=kinds["removed"],
        changed=kinds["changed"],
        moved=moved,
        unchanged=kinds["unchanged"],
        words_added=sum(row.words_added for row in rows),
        words_removed=sum(row.words_removed for row in rows),
        identical=not (kinds["added"] or kinds["removed"] or kinds["changed"] or moved),
    )
