"""Clause alignment's text index: finding a clause through the index finds exactly what scanning
the whole capture finds (lineage decisions must not change with the speed-up)."""

from __future__ import annotations

import bisect

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.lineage.align import Capture, SectionText, normalise

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
