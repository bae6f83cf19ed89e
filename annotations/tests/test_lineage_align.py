"""Clause alignment's text index: finding a clause through the index finds exactly what scanning
the whole capture finds (lineage decisions must not change with the speed-up)."""

from __future__ import annotations

import bisect
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.lineage.align import (
    _ENDS_SENTENCE,
    Capture,
    SectionText,
    _irregular_space,
    _stands_alone,
    normalise,
)

_TEXT = st.text(alphabet="ab .!?:;)”’\"'\n\t\u00a0", max_size=80)


def _scanned(capture: Capture, text: str) -> list:
    """find_whole as it was: every occurrence in the joined text, each checked."""
    joined, starts, _ = capture._joined_text()
    found, at = [], joined.find(text)
    while at >= 0:
        k = bisect.bisect_right(starts, at) - 1
        found.extend(capture._whole_at(k, at - starts[k], text))
        at = joined.find(text, at + 1)
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=4), st.data())
def test_the_index_finds_what_a_scan_finds(sections, data):
    capture = Capture([SectionText("", text) for text in sections])
    joined, _, _ = capture._joined_text()
    for _ in range(5):
        start = data.draw(st.integers(0, len(joined)))
        end = data.draw(st.integers(start, min(len(joined), start + 30)))
        text = normalise(joined[start:end].replace("\x00", " "))
        if text:
            assert capture.find_whole(text) == _scanned(Capture(capture.sections), text)


def test_a_long_clause_is_found_only_where_it_stands_alone():
    sentence = "We keep your data for sixty days."
    capture = Capture([SectionText("", f"{sentence} Then {sentence}\n{sentence}")])
    found = capture.find_whole(sentence)
    assert [(c.start, c.end) for c in found] == [(0, 33), (73, 106)]


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=3), st.data())
def test_the_clauses_covering_a_span_are_those_a_scan_finds(sections, data):
    capture = Capture([SectionText("", text) for text in sections])
    for k, text in enumerate(sections):
        for _ in range(5):
            start = data.draw(st.integers(0, len(text)))
            end = data.draw(st.integers(start, len(text)))
            scanned = [c for c in capture.clauses(k) if c.start < end and start < c.end]
            assert capture.covering(k, start, end) == scanned


def test_overlapping_clauses_are_all_found_covering_a_span():
    spans = [(0, 25), (5, 8), (12, 30)]  # not as the reader cuts them, but possible input
    capture = Capture([SectionText("", "x" * 30, lambda: spans)])
    assert [(c.start, c.end) for c in capture.covering(0, 20, 22)] == [(0, 25), (12, 30)]


@given(_TEXT)
def test_irregular_spacing_is_what_the_single_pattern_found(text):
    """The piecewise test agrees with the one pattern it replaced (five times slower)."""
    pattern = re.compile(r"[^\S \n]| {2}| \n|\n |^ | $")
    assert _irregular_space(text) == bool(pattern.search(text))


def _stood_alone(text: str, start: int, end: int) -> bool:
    """`_stands_alone` as it was, on slices of the text."""
    before = text[:start].rstrip(" \t")
    if before and not before.endswith("\n") and not _ENDS_SENTENCE.search(before[-4:]):
        return False
    after = text[end:]
    if not after or after[0] == "\n" or not after.strip(" \t") or after.lstrip(" \t")[0] == "\n":
        return True
    return bool(_ENDS_SENTENCE.search(text[max(start, end - 4) : end])) and after[0].isspace()


@given(_TEXT, st.data())
def test_a_clause_stands_alone_where_it_did(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert _stands_alone(text, start, end) == _stood_alone(text, start, end)
