"""Clause marking: offsets that map back to the text, legal abbreviations kept in one clause."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.reading.clauses import mark_clauses, reader_text, split_clauses
from policies.reading.rendering import render_markdown
from policies.reading.sectioning import split_sections

FRAGMENT = re.compile(
    r'<span class="clause" data-clause="(\d+)" data-start="(\d+)" data-end="(\d+)" '
    r'data-frag="(\d+)">([^<]*)</span>'
)


def assert_fragments_map_to_text(marked) -> None:
    for match in FRAGMENT.finditer(marked.html):
        text = html.unescape(match.group(5))
        at = int(match.group(4))
        assert marked.text[at : at + len(text)] == text
        start, end = int(match.group(2)), int(match.group(3))
        assert marked.text[start:end] == marked.text[start:end].strip()


def test_legal_abbreviations_do_not_end_a_clause():
    text = "We share data with e.g. Google Inc. and other U.S. firms. See Sec. 3(b) for more."
    spans = split_clauses(text)
    assert [text[a:b] for a, b in spans] == [
        "We share data with e.g. Google Inc. and other U.S. firms.",
        "See Sec. 3(b) for more.",
    ]


def test_list_items_are_clauses_of_their_own():
    marked = mark_clauses(render_markdown("Intro sentence.\n\n* first item\n* second item\n"))
    assert [marked.text[c.start : c.end] for c in marked.clauses] == [
        "Intro sentence.",
        "first item",
        "second item",
    ]
    assert marked.text == "Intro sentence.\nfirst item\nsecond item"


def test_clause_crossing_a_link_is_split_into_fragments_with_one_id():
    marked = mark_clauses(render_markdown("Read [our terms](http://example.com) now. Next one."))
    ids = [m.group(1) for m in FRAGMENT.finditer(marked.html)]
    assert ids == ["0", "0", "0", "1"]
    assert_fragments_map_to_text(marked)


def test_markup_in_text_is_escaped_again():
    marked = mark_clauses(render_markdown("Use &lt;b&gt; and 1 < 2 & 3 > 2."))
    assert "<b>" not in marked.html
    assert "1 &lt; 2 &amp; 3 &gt; 2." in marked.html
    assert_fragments_map_to_text(marked)


@pytest.mark.parametrize(
    "name",
    [
        "corpus-sample/psiphon3.com_2018-07-21.md",
        "corpus-sample/transloadit.com_2019-05-06.md",
        "corpus-sample/hasin.wordpress.com_2011-10-04.md",
        "seeds/000_a06f46bb5fdea414.txt",
    ],
)
def test_every_fragment_maps_to_the_section_text_on_samples(sample_dir, name):
    body = (sample_dir / name).read_text().split("\n", 1)[1].lstrip("\n")
    for part in split_sections(body):
        assert_fragments_map_to_text(mark_clauses(render_markdown(part.text)))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_markdown_gives_fragments_that_map_back(text):
    html = render_markdown(text)
    marked = mark_clauses(html)
    assert_fragments_map_to_text(marked)
    # The fast path used for lineage gives exactly the text tags point into.
    assert reader_text(html) == marked.text
