"""Sanitised section HTML → the same HTML with every clause marked, plus the section's text.

Pure module. A section's *text* is what a reader sees: the text of each block element (paragraph,
list item, heading, table cell, ...) with its outer whitespace trimmed, blocks joined by "\\n".
Tags store character offsets into that text. Each block is cut into clauses (sentences, and list
items as their own blocks) by pysbd, which knows "e.g.", "Inc.", "U.S." and "Sec. 3(b)".

In the HTML, every piece of block text is wrapped in a fragment element

    <span class="clause" data-clause="7" data-start="120" data-end="188" data-frag="150">...</span>

where start/end are the clause's offsets and data-frag the offset of this fragment's first
character. A clause crossing an inline element (a link, emphasis) becomes several fragments
with the same data-clause. A fragment holds exactly one text node, so a selection anywhere maps
to an offset as data-frag + the offset inside the fragment, with no DOM walking.
"""

from __future__ import annotations

import functools
import html as html_lib
from dataclasses import dataclass
from html.parser import HTMLParser

import pysbd

__all__ = [
    "BLOCK_TAGS",
    "Clause",
    "ClauseMarkup",
    "mark_clauses",
    "reader_text",
    "section_clauses",
    "split_clauses",
]

# The elements whose text is a block of its own: the reader text puts each on its line (and the
# readable text, text.section_text, splits the same token stream at the same tags).
BLOCK_TAGS = frozenset(
    [
        "p",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "td",
        "th",
        "pre",
        "blockquote",
        "dt",
        "dd",
        "caption",
        "figcaption",
        "div",
        "tr",
        "ul",
        "ol",
        "table",
        "thead",
        "tbody",
        "hr",
        "br",
    ]
)
_VOID_TAGS = frozenset(["br", "hr", "img", "input", "meta", "link", "wbr"])


@dataclass(frozen=True, slots=True)
class Clause:
    index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ClauseMarkup:
    html: str
    text: str
    clauses: list[Clause]


@functools.cache
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def section_clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of a section's readable text (blocks are its lines): the cut
    tags, lineage, adjudication units and the wording index share."""
    spans, base = [], 0
    for line in text.split("\n"):
        spans.extend((base + a, base + b) for a, b in _cached_split(line))
        base += len(line) + 1
    return spans


# Policies repeat their blocks (template policies, boilerplate, every unchanged paragraph of a
# company's next capture): cutting one with pysbd costs about a millisecond a sentence.
@functools.lru_cache(maxsize=50_000)
def _cached_split(block: str) -> tuple[tuple[int, int], ...]:
    return tuple(split_clauses(block))


def split_clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, whitespace trimmed, in order and non-overlapping."""
    spans: list[tuple[int, int]] = []
    position = 0
    for sentence in _segmenter().segment(text):
        stripped = sentence.strip()
        if not stripped:
            continue
        start = text.find(stripped, position)
        if start < 0:  # pysbd altered the sentence; fall back to treating the rest as one clause
            break
        spans.append((start, start + len(stripped)))
        position = start + len(stripped)
    rest = text[position:]
    if rest.strip():
        lead = len(rest) - len(rest.lstrip())
        spans.append((position + lead, position + len(rest.rstrip())))
    return spans


class _Collector(HTMLParser):
    """Splits HTML into raw markup and text nodes, each text node tagged with its block number."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, int]] = []  # (markup or text, block number or -1 for markup)
        self.block = 0

    def _markup(self, raw: str, tag: str) -> None:
        self.items.append((raw, -1))
        if tag in BLOCK_TAGS:
            self.block += 1

    def handle_starttag(self, tag, attrs) -> None:
        self._markup(self.get_starttag_text() or f"<{tag}>", tag)

    def handle_startendtag(self, tag, attrs) -> None:
        self._markup(self.get_starttag_text() or f"<{tag}>", tag)

    def handle_endtag(self, tag) -> None:
        if tag not in _VOID_TAGS:
            self._markup(f"</{tag}>", tag)

    def handle_data(self, data: str) -> None:
        self.items.append((data, self.block))


def _parse(html: str) -> tuple[list[tuple[str, int]], list[int], dict[int, list[str]]]:
    """Markup and text nodes, each text node's offset in its block, and each block's text."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    block_text: dict[int, list[str]] = {}
    node_offset: list[int] = []
    for text, block in collector.items:
        if block < 0:
            node_offset.append(0)
            continue
        parts = block_text.setdefault(block, [])
        node_offset.append(sum(len(p) for p in parts))
        parts.append(text)
    return collector.items, node_offset, block_text


def reader_text(html: str) -> str:
    """The section text `mark_clauses` would give, without cutting it into clauses (no sentence
    segmentation): the text of the reader's HTML, which `text.section_text` reads from the
    Markdown's tokens instead (the tests hold the two equal)."""
    blocks = ("".join(parts).strip() for parts in _parse(html)[2].values())
    return "\n".join(block for block in blocks if block)


def mark_clauses(html: str) -> ClauseMarkup:
    """Wrap each clause fragment of sanitised `html` and return it with the section text.

    `html` must come from the sanitiser: markup is passed through as written, text is
    re-escaped.
    """
    items, node_offset, block_text = _parse(html)

    # Trim each block, lay the blocks end to end, cut each into clauses.
    texts: list[str] = []
    block_base: dict[int, int] = {}  # global offset of the raw block's character 0
    block_bounds: dict[int, tuple[int, int]] = {}  # kept range inside the raw block
    block_cover: dict[int, list[tuple[int, int, Clause]]] = {}
    clauses: list[Clause] = []
    length = 0
    for block, parts in block_text.items():
        raw = "".join(parts)
        stripped = raw.strip()
        if not stripped:
            continue
        if texts:
            length += 1  # the "\n" between blocks
        lead = len(raw) - len(raw.lstrip())
        block_base[block] = length - lead
        block_bounds[block] = (lead, lead + len(stripped))
        spans = _cached_split(stripped)
        cover = []
        for n, (start, end) in enumerate(spans):
            clause = Clause(len(clauses), length + start, length + end)
            clauses.append(clause)
            # A fragment runs from its clause's start to the next clause's start (or block end),
            # so whitespace between sentences stays inside a fragment.
            cover_start = 0 if n == 0 else start
            cover_end = spans[n + 1][0] if n + 1 < len(spans) else len(stripped)
            cover.append((lead + cover_start, lead + cover_end, clause))
        block_cover[block] = cover
        texts.append(stripped)
        length += len(stripped)

    out: list[str] = []
    for (text, block), offset in zip(items, node_offset, strict=True):
        if block < 0:
            out.append(text)
        elif block not in block_bounds:
            out.append(html_lib.escape(text, quote=False))
        else:
            out.append(
                _wrap_node(text, offset, block_bounds[block], block_cover[block], block_base[block])
            )
    return ClauseMarkup("".join(out), "\n".join(texts), clauses)


def _wrap_node(
    text: str,
    offset: int,
    bounds: tuple[int, int],
    cover: list[tuple[int, int, Clause]],
    base: int,
) -> str:
    """One text node, its kept part split into clause fragments (raw offsets within the block)."""
    node_start, node_end = offset, offset + len(text)
    pieces: list[str] = []
    position = node_start
    for cover_start, cover_end, clause in cover:
        start = max(cover_start, node_start, bounds[0])
        end = min(cover_end, node_end, bounds[1])
        if start >= end:
            continue
        if start > position:
            pieces.append(html_lib.escape(text[position - node_start : start - node_start], False))
        fragment = html_lib.escape(text[start - node_start : end - node_start], quote=False)
        pieces.append(
            f'<span class="clause" data-clause="{clause.index}" data-start="{clause.start}" '
            f'data-end="{clause.end}" data-frag="{base + start}">{fragment}</span>'
        )
        position = end
    if position < node_end:
        pieces.append(html_lib.escape(text[position - node_start :], quote=False))
    return "".join(pieces)
