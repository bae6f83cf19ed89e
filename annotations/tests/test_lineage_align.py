"""Clause alignment: its text index finds exactly what scanning the whole capture finds (lineage
decisions must not change with the speed-up), and the gaps between paired clauses are filled as a
diff fills them, no further."""

from __future__ import annotations

import bisect
import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.lineage.align import (
    _ENDS_SENTENCE,
    GAP_MAX_CLAUSES,
    Alignment,
    Capture,
    SectionText,
    _increasing,
    _irregular_space,
    _similarity,
    _stands_alone,
    _Words,
    align_clauses,
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


# Step 6, gaps. The other sections give the words their weights: a word every section uses
# counts for nothing.
_OTHER_SECTIONS = [
    SectionText(
        "Sharing",
        "Sharing\nWe do not sell your data. Our payment processor receives your card number.",
    ),
    SectionText("Contact", "Contact\nWrite to us by post at the address below."),
]
_SETTINGS = "We use cookies to remember your settings."
_BROWSER = "You can turn cookies off in your browser."
_EXPIRES = "Each cookie expires and is erased thirty days after your visit."
_REWORDED = (
    "Your browser deletes them automatically a month after they were set, thirty days at most."
)


def _cookies(*clauses: str) -> list[SectionText]:
    return [SectionText("Cookies", "Cookies\n" + " ".join(clauses)), *_OTHER_SECTIONS]


def _successor(alignment: Alignment, text: str) -> str | None:
    """The new clause the old clause `text` is paired with, or None."""
    clause = next(c for c in alignment.old.all_clauses() if c.text == text)
    pairing = alignment.pairs.get((clause.section, clause.start))
    return None if pairing is None else pairing.new.text


def test_a_reworded_clause_between_the_same_neighbours_is_its_successor():
    words = _Words()
    assert _similarity(words(_EXPIRES), words(_REWORDED), aligned=True) is None  # steps 4-5
    alignment = align_clauses(
        _cookies(_SETTINGS, _EXPIRES, _BROWSER), _cookies(_SETTINGS, _REWORDED, _BROWSER)
    )
    assert _successor(alignment, _EXPIRES) == _REWORDED
    clause = next(c for c in alignment.old.all_clauses() if c.text == _EXPIRES)
    pairing = alignment.pairs[clause.section, clause.start]
    assert not pairing.exact
    assert pairing.score == 15.4  # the word similarity, as every other pair shows
    assert _successor(alignment, _SETTINGS) == _SETTINGS


def test_a_clause_sharing_only_common_words_with_its_gap_stays_removed():
    other = "Our partners may show you advertisements chosen for your region."
    alignment = align_clauses(
        _cookies(_SETTINGS, _EXPIRES, _BROWSER), _cookies(_SETTINGS, other, _BROWSER)
    )
    assert _successor(alignment, _EXPIRES) is None


def test_a_reworded_clause_past_another_paired_clause_is_not_its_successor():
    """The reworded sentence moved after a clause that stayed: not between the same anchors."""
    alignment = align_clauses(
        _cookies(_SETTINGS, _EXPIRES, _BROWSER), _cookies(_SETTINGS, _BROWSER, _REWORDED)
    )
    assert _successor(alignment, _EXPIRES) is None


def test_two_different_web_addresses_share_nothing():
    """A partner's link replaced by another partner's: "www" and "com" are no common content."""
    intro = "Our partners' policies:"
    alignment = align_clauses(
        _cookies(_SETTINGS, f"{intro}\nhttp://www.inmobi.com/privacy-policy/\n{_BROWSER}"),
        _cookies(_SETTINGS, f"{intro}\nhttps://www.mopub.com/legal/partners/\n{_BROWSER}"),
    )
    assert _successor(alignment, intro) == intro
    assert _successor(alignment, "http://www.inmobi.com/privacy-policy/") is None


def test_a_gap_that_is_a_rewrite_is_left_alone():
    filler = [f"We list partner number {n} of our network here." for n in range(GAP_MAX_CLAUSES)]
    alignment = align_clauses(
        _cookies(_SETTINGS, _EXPIRES, _BROWSER),
        _cookies(_SETTINGS, *filler, _REWORDED, _BROWSER),
    )
    assert _successor(alignment, _EXPIRES) is None
    alignment = align_clauses(
        _cookies(_SETTINGS, _EXPIRES, _BROWSER),
        _cookies(_SETTINGS, *filler[1:], _REWORDED, _BROWSER),
    )
    assert _successor(alignment, _EXPIRES) == _REWORDED


def test_a_section_the_compare_page_does_not_align_is_filled_after_its_paired_heading():
    """The section was renamed and rewritten: the compare page shows it removed and another
    added, but its heading was paired across the policy, so its leftover clauses look there."""
    old = [
        SectionText(
            "What we do with your traffic",
            "What we do with your traffic\nWe count the bytes each connection transfers. These "
            "counts are discarded after sixty days. We never alter your traffic as it passes "
            "through our servers.",
        ),
        *_OTHER_SECTIONS,
    ]
    new = [
        _OTHER_SECTIONS[0],
        SectionText(
            "What we do not do with your traffic",
            "What we do not do with your traffic\nWe DO NOT alter the contents of any traffic. "
            "We DO NOT sell anything about you.",
        ),
        _OTHER_SECTIONS[1],
    ]
    alignment = align_clauses(old, new)
    assert _successor(alignment, "What we do with your traffic") == (
        "What we do not do with your traffic"
    )
    assert _successor(
        alignment, "We never alter your traffic as it passes through our servers."
    ) == ("We DO NOT alter the contents of any traffic.")
    assert _successor(alignment, "These counts are discarded after sixty days.") is None


@given(st.lists(st.integers(0, 12), max_size=9, unique=True))
def test_the_anchors_kept_are_a_longest_run_in_order(seconds):
    pairs = list(enumerate(seconds))
    run = _increasing(pairs)
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(run))
    assert set(run) <= set(pairs)
    longest = max(
        (
            len(combo)
            for size in range(len(pairs) + 1)
            for combo in itertools.combinations(pairs, size)
            if all(a[1] < b[1] for a, b in itertools.pairwise(combo))
        ),
        default=0,
    )
    assert len(run) == longest
