"""Comparisons of stored texts, computed once per pair and kept in `TextComparison`.

`diffing` does the work on the sections' readable text (`Section.plain`); this module feeds it
sections, stores the result and answers in a fixed number of queries however many captures a
history page shows.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from html import escape

from django.db import IntegrityError, transaction

from policies.comparing.diffing import AlignedRow, SectionDiff, diff_sections
from policies.models import PolicyText, Section, TextComparison
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
class DisplayRow:
    """An aligned row plus its place among the changes, for next/previous-change links."""

    row: AlignedRow
    change: int | None  # 1-based number among changed rows, None when unchanged
    previous_change: int | None
    next_change: int | None

    @property
    def old_html(self) -> str:
        return parts_html(self.row.old_parts, "del", fold=self.row.kind == "changed")

    @property
    def new_html(self) -> str:
        return parts_html(self.row.new_parts, "ins", fold=self.row.kind == "changed")


# Blocks (paragraphs, list items, cells) of the readable text are separated by one newline.
_PARAGRAPH_BREAK = re.compile(r"(\n)")


def parts_html(parts: list[tuple[str, str]], mark: str, *, fold: bool = False) -> str:
    """Escaped text with the changed parts in <del> or <ins>. Built here rather than in a
    template loop: a 50,000-word comparison has thousands of parts.

    With `fold`, a long unchanged stretch keeps one paragraph of context next to each change
    and folds the rest into a <details> element (the text is all there, one click away).
    """
    out = []
    for i, (op, text) in enumerate(parts):
        if op != "equal":
            if text:  # an empty change marks where the other side changed
                out.append(f"<{mark}>{escape(text)}</{mark}>")
        elif fold:
            out.append(_folded(text, keep_start=i > 0, keep_end=i < len(parts) - 1))
        else:
            out.append(escape(text))
    return "".join(out)


def _folded(text: str, *, keep_start: bool, keep_end: bool) -> str:
    pieces = _PARAGRAPH_BREAK.split(text)  # paragraph, break, paragraph, ...
    paragraphs = (len(pieces) + 1) // 2
    head, tail = (2 if keep_start else 0), (2 if keep_end else 0)  # pieces: text and its break
    hidden = paragraphs - head // 2 - tail // 2
    if hidden < 2:
        return escape(text)
    start, end = head, len(pieces) - tail
    label = f"{hidden} unchanged paragraphs"
    return (
        escape("".join(pieces[:start]))
        + f'<details class="fold"><summary>{label}</summary>'
        + escape("".join(pieces[start:end]))
        + "</details>"
        + escape("".join(pieces[end:]))
    )


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
