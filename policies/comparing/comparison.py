"""Comparisons of stored texts, computed once per pair and kept in `TextComparison`.

`diffing` does the work on the sections' readable text (`Section.plain`); this module feeds it
sections, stores the result and answers in a fixed number of queries however many captures a
history page shows.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable
from html import escape

from django.db import IntegrityError, transaction

from policies.comparing.diffing import AlignedRow, SectionDiff, diff_sections
from policies.models import PolicyText, Section, Snapshot, TextComparison
from policies.reading.text import section_body

# Bump when diffing's output changes, so cached comparisons are recomputed.
ENGINE_VERSION = 4


def _diff_input(sections: list[Section]) -> list[tuple[str, str]]:
    # The reader's text without the heading block (headings are aligned on their own), so a
    # diff's parts join back to a slice of the text tags point into.
    return [(s.heading, section_body(s.plain, s.heading, s.level)[1]) for s in sections]


def _to_json(diff: SectionDiff) -> dict:
    return dataclasses.asdict(diff)


def _from_json(data: dict) -> SectionDiff:
    rows = [AlignedRow(**row) for row in data["rows"]]
    return SectionDiff(**{**data, "rows": rows})


def compare_texts(old: PolicyText, new: PolicyText) -> SectionDiff:
    """The aligned, word-level comparison of two texts (cached)."""
    cached = TextComparison.objects.filter(
        old_text=old, new_text=new, engine_version=ENGINE_VERSION
    ).first()
    if cached is not None:
        return _from_json(cached.result)
    sections = defaultdict(list)
    for section in Section.objects.filter(text__in=[old.pk, new.pk]).order_by("position"):
        sections[section.text_id].append(section)
    diff = diff_sections(_diff_input(sections[old.pk]), _diff_input(sections[new.pk]))
    _store({(old.pk, new.pk): diff})
    return diff


def change_sizes(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """(words added, words removed) for each (old text id, new text id) pair.

    Three queries at most, whatever the number of pairs: cached results, then the sections of
    the texts still to compare, then one insert.
    """
    pairs = {(a, b) for a, b in pairs if a != b}
    if not pairs:
        return {}
    old_ids = {a for a, _ in pairs}
    found = {
        (a, b): (added, removed)
        for a, b, added, removed in TextComparison.objects.filter(
            old_text_id__in=old_ids, engine_version=ENGINE_VERSION
        ).values_list("old_text_id", "new_text_id", "words_added", "words_removed")
        if (a, b) in pairs
    }
    missing = pairs - found.keys()
    if missing:
        text_ids = {i for pair in missing for i in pair}
        sections = defaultdict(list)
        for section in Section.objects.filter(text__in=text_ids).order_by("position"):
            sections[section.text_id].append(section)
        computed = {
            (a, b): diff_sections(_diff_input(sections[a]), _diff_input(sections[b]))
            for a, b in missing
        }
        _store(computed)
        found.update({k: (d.words_added, d.words_removed) for k, d in computed.items()})
    return found


def _store(diffs: dict[tuple[int, int], SectionDiff]) -> None:
    rows = [
        TextComparison(
            old_text_id=a,
            new_text_id=b,
            engine_version=ENGINE_VERSION,
            words_added=d.words_added,
            words_removed=d.words_removed,
            result=_to_json(d),
        )
        for (a, b), d in diffs.items()
    ]
    try:
        with transaction.atomic():
            TextComparison.objects.filter(
                old_text_id__in={a for a, _ in diffs}, new_text_id__in={b for _, b in diffs}
            ).exclude(engine_version=ENGINE_VERSION).delete()
            TextComparison.objects.bulk_create(rows, ignore_conflicts=True)
    except IntegrityError:
        pass  # a concurrent request stored the same pairs first; theirs is as good


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A stretch of a changed section as the page lays it out: the two sides next to each other
    (and both in one text, for narrow screens), or a fold of `folded` unchanged paragraphs that
    spans both columns, so what follows it lines up on the two sides."""

    old_html: str = ""
    new_html: str = ""
    inline_html: str = ""  # removed and added words in one text: the one-column view
    folded: int = 0  # > 0: a fold; its text (the same on both sides) is `new_html`


@dataclasses.dataclass(frozen=True)
class DisplayRow:
    """An aligned row plus its place among the changes, for next/previous-change links."""

    row: AlignedRow
    change: int | None  # 1-based number among changed rows, None when unchanged
    previous_change: int | None
    next_change: int | None

    @property
    def old_html(self) -> str:
        return parts_html(self.row.old_parts, "del")

    @property
    def new_html(self) -> str:
        return parts_html(self.row.new_parts, "ins")

    @property
    def chunks(self) -> list[Chunk]:
        """A changed row's text in stretches; folds of unchanged paragraphs between them."""
        return changed_chunks(self.row.old_parts, self.row.new_parts)


# Blocks (paragraphs, list items, cells) of the readable text are separated by one newline.
_PARAGRAPH_BREAK = re.compile(r"(\n)")


def parts_html(parts: list[tuple[str, str]], mark: str) -> str:
    """Escaped text with the changed parts in <del> or <ins>. Built here rather than in a
    template loop: a 50,000-word comparison has thousands of parts."""
    return "".join(_marked(op, text, mark) for op, text in parts)


def _marked(op: str, text: str, mark: str) -> str:
    if op == "equal":
        return escape(text)
    return f"<{mark}>{escape(text)}</{mark}>" if text else ""  # empty: the other side changed


def changed_chunks(old: list[tuple[str, str]], new: list[tuple[str, str]]) -> list[Chunk]:
    """The stretches of a changed section. Each change has a part on both sides and the n-th
    unchanged part on the left faces the n-th on the right, so both sides are cut at the same
    places: a long unchanged stretch keeps one paragraph of context next to each change and
    folds the rest (counted once, from the newer side) into one element across both columns."""
    paired = len(old) == len(new) and all(
        (a == "equal") == (b == "equal") for (a, _), (b, _) in zip(old, new, strict=True)
    )
    if not paired:  # a whole-block replacement: the old text, then the new one
        old_html, new_html = parts_html(old, "del"), parts_html(new, "ins")
        return [Chunk(old_html, new_html, old_html + new_html)]
    chunks: list[Chunk] = []
    sides: list[list[str]] = [[], [], []]  # old, new, inline html of the open stretch
    for i, ((op, old_text), (_, new_text)) in enumerate(zip(old, new, strict=True)):
        if op != "equal":
            removed, added = _marked(op, old_text, "del"), _marked(op, new_text, "ins")
            for side, html in zip(sides, (removed, added, removed + added), strict=True):
                side.append(html)
            continue
        fold = _fold(old_text, new_text, keep_start=i > 0, keep_end=i < len(old) - 1)
        if fold is None:
            for side, text in zip(sides, (old_text, new_text, new_text), strict=True):
                side.append(escape(text))
            continue
        (old_head, new_head), hidden, count, (old_tail, new_tail) = fold
        # The fold is a block of its own: no blank line next to it.
        for side, text in zip(sides, (old_head, new_head, new_head), strict=True):
            side.append(escape(text.rstrip()))
        chunks.append(Chunk(*("".join(side) for side in sides)))
        chunks.append(Chunk(new_html=escape(hidden), inline_html=escape(hidden), folded=count))
        sides = [[escape(text.lstrip())] for text in (old_tail, new_tail, new_tail)]
    chunks.append(Chunk(*("".join(side) for side in sides)))
    return [chunk for chunk in chunks if chunk.folded or chunk.old_html or chunk.new_html]


def _fold(
    old: str, new: str, *, keep_start: bool, keep_end: bool
) -> tuple[tuple[str, str], str, int, tuple[str, str]] | None:
    """Cut an unchanged stretch into (old head, new head), the folded text, the number of
    paragraphs folded, and (old tail, new tail); None when fewer than two would fold.

    The paragraphs are counted on the newer side; the older side's text has the same
    characters but its paragraph breaks may sit elsewhere, so it is cut after as many
    non-blank characters as the newer side's head (and before as many as its tail)."""
    pieces = _PARAGRAPH_BREAK.split(new)  # paragraph, break, paragraph, ...
    paragraphs = (len(pieces) + 1) // 2
    head, tail = (2 if keep_start else 0), (2 if keep_end else 0)  # pieces: text and its break
    hidden = paragraphs - head // 2 - tail // 2
    if hidden < 2:
        return None
    new_head, new_tail = "".join(pieces[:head]), "".join(pieces[len(pieces) - tail :])
    old_start = _after_nonblank(old, _nonblank(new_head))
    old_end = len(old) - _after_nonblank(old[::-1], _nonblank(new_tail), trailing=False)
    hidden_text = new[len(new_head) : len(new) - len(new_tail)]
    return (old[:old_start], new_head), hidden_text, hidden, (old[old_end:], new_tail)


def _nonblank(text: str) -> int:
    return sum(not ch.isspace() for ch in text)


def _after_nonblank(text: str, count: int, *, trailing: bool = True) -> int:
    """The index in `text` just after its first `count` non-blank characters (and, with
    `trailing`, the whitespace that follows them)."""
    seen = index = 0
    while index < len(text) and seen < count:
        seen += not text[index].isspace()
        index += 1
    while trailing and index < len(text) and text[index].isspace():
        index += 1
    return index


def nearest_different(
    captures: Iterable[Snapshot], left: Snapshot, right: Snapshot
) -> tuple[Snapshot | None, Snapshot | None]:
    """For two captures with the same wording: the latest capture before `left` and the
    earliest after `right` whose wording differs (`text.wording_hash`, the one meaning of
    "unchanged"). `captures` are the company's, in date order, annotated with `wording`."""
    wording = left.text.normalized_hash
    before = [c for c in captures if c.captured_at < left.captured_at and c.wording != wording]
    after = [c for c in captures if c.captured_at > right.captured_at and c.wording != wording]
    return (before[-1] if before else None), (after[0] if after else None)


def display_rows(diff: SectionDiff) -> list[DisplayRow]:
    """Number the rows that changed (edited, added, removed or moved) for navigation."""
    changed = [
        i for i, row in enumerate(diff.rows) if row.kind != "unchanged" or row.moved or row.renamed
    ]
    number = {index: n for n, index in enumerate(changed, start=1)}
    total = len(changed)
    return [
        DisplayRow(
            row,
            number.get(i),
            (number[i] - 1 or None) if i in number else None,
            (number[i] + 1 if number[i] < total else None) if i in number else None,
        )
        for i, row in enumerate(diff.rows)
    ]


def compare_pairs(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], SectionDiff]:
    """The comparison of each (old text id, new text id) pair: one query for those already
    stored, `compare_texts` for the rest."""
    if not pairs:
        return {}
    stored = TextComparison.objects.filter(
        old_text_id__in={a for a, _ in pairs},
        new_text_id__in={b for _, b in pairs},
        engine_version=ENGINE_VERSION,
    ).values_list("old_text_id", "new_text_id", "result")
    found = {(a, b): _from_json(result) for a, b, result in stored if (a, b) in pairs}
    for a, b in pairs - found.keys():
        found[a, b] = compare_texts(PolicyText(pk=a), PolicyText(pk=b))
    return found
