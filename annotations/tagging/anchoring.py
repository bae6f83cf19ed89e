"""Tags stay on their words when a section's readable text is derived again.

A tag stores offsets into `Section.plain` with its exact quote and some context (a W3C
TextQuoteSelector). When `policies.reading.reader.refresh_texts` derives the text anew (a
`TEXT_VERSION` bump), the offsets may point elsewhere; `reanchor_sections` finds each quote in
the new text again, choosing among several occurrences by the stored context and then by
nearness to the old offset, and reports the tags whose words it could not find.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os.path import commonprefix

from annotations.lineage.follow import context_around
from annotations.models import Annotation
from policies.models import Section
from policies.reading.text import WORD_RE


@dataclass(frozen=True)
class Unanchored:
    """A tag whose quote no longer occurs in its section's text; it keeps its old offsets."""

    tag_id: int
    section_id: int
    quote: str

    def __str__(self) -> str:
        return f"tag {self.tag_id} (section {self.section_id}): {self.quote[:80]!r} not found"


def reanchor_sections(section_ids: list[int]) -> list[Unanchored]:
    """Move the tags on these sections onto their quotes in the sections' current text.

    Called (through `policies.extensions.texts_changed`) inside refresh_texts' transaction.
    """
    texts = dict(Section.objects.filter(pk__in=section_ids).values_list("pk", "plain"))
    moved, lost = [], []
    for tag in Annotation.objects.filter(section_id__in=section_ids).only(
        "pk", "section_id", "start", "end", "quote", "prefix", "suffix"
    ):
        text = texts[tag.section_id]
        span = _find(tag, text)
        if span is None:
            lost.append(Unanchored(tag.pk, tag.section_id, tag.quote))
            continue
        start, end = span
        if (start, end, text[start:end]) != (tag.start, tag.end, tag.quote):
            tag.start, tag.end, tag.quote = start, end, text[start:end]
            tag.prefix, tag.suffix = context_around(text, start, end)
            moved.append(tag)
    Annotation.objects.bulk_update(
        moved, ["start", "end", "quote", "prefix", "suffix"], batch_size=500
    )
    return lost


def _find(tag: Annotation, text: str) -> tuple[int, int] | None:
    """The span of the tag's quote in `text`: exact occurrences first, then the same words with
    other spacing; among several, the best context, then the nearest to the old offset."""
    if text[tag.start : tag.end] == tag.quote:
        return tag.start, tag.end
    spans = [(m.start(), m.start() + len(tag.quote)) for m in _occurrences(tag.quote, text)]
    spans = spans or _same_words(tag.quote, text)
    if not spans:
        return None
    return max(spans, key=lambda s: (_context_score(tag, text, *s), -abs(s[0] - tag.start)))


def _same_words(quote: str, text: str) -> list[tuple[int, int]]:
    """Spans of `text` with the quote's words in order, whatever lies between them (spacing,
    list bullets, other punctuation), plus the punctuation the quote has at either end."""
    words = WORD_RE.findall(quote)
    if not words:
        return []
    lead = quote[: quote.find(words[0])].strip()
    trail = quote[quote.rfind(words[-1]) + len(words[-1]) :].strip()
    pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b")
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span()
        if lead and text[max(0, start - len(lead)) : start] == lead:
            start -= len(lead)
        if trail and text[end : end + len(trail)] == trail:
            end += len(trail)
        spans.append((start, end))
    return spans


def _occurrences(quote: str, text: str):
    return re.finditer(re.escape(quote), text) if quote else iter(())


def _context_score(tag: Annotation, text: str, start: int, end: int) -> int:
    """Characters of the stored prefix and suffix that the text around a span still has."""
    before = text[max(0, start - len(tag.prefix)) : start]
    after = text[end : end + len(tag.suffix)]
    return len(commonprefix([before[::-1], tag.prefix[::-1]])) + len(
        commonprefix([after, tag.suffix])
    )
