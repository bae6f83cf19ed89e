"""policies.reading.text: the one readable text of a section, and the facts taken from it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policies.reading.clauses import mark_clauses
from policies.reading.rendering import render_markdown
from policies.reading.text import count_words, section_body, section_text, wording_hash

LIST_CLAUSE = "## Sharing\n\nWe share it with advertisers, and\n\n* partners.\n* others\n"


def test_section_text_drops_markup_and_puts_each_block_on_a_line():
    markdown = (
        "## Your *rights*\n\n"
        "Read [the policy](https://example.com/policy) or write to **privacy@example.com**.\n\n"
        "* first item\n"
        "  * nested item\n\n"
        "| Data | Kept |\n"
        "|---|---|\n"
        "| IP | no |\n"
    )
    assert section_text(markdown) == (
        "Your rights\n"
        "Read the policy or write to privacy@example.com.\n"
        "first item\n"
        "nested item\n"
        "Data\nKept\nIP\nno"
    )


def test_section_text_is_the_text_the_reader_marks_clauses_in():
    # Tags are made on the reader's page (mark_clauses) and stored against section_text: the
    # two must agree character for character.
    html = render_markdown(LIST_CLAUSE)
    assert mark_clauses(html).text == section_text(LIST_CLAUSE)


@given(st.text(alphabet=st.sampled_from("ab *#-_[]()\n|`>1.\\&;"), max_size=120))
def test_section_text_and_marked_text_never_disagree(markdown):
    assert mark_clauses(render_markdown(markdown)).text == section_text(markdown)


def test_count_words_counts_words_not_punctuation():
    assert count_words("We share it — with advertisers, and\npartners.") == 7
    assert count_words("… !!") == 0


def test_wording_hash_sees_punctuation_but_not_spacing_or_link_targets():
    base = wording_hash([section_text("We keep [logs](https://a.example/x).")])
    assert wording_hash([section_text("We keep [logs](https://b.example/y).")]) == base
    assert wording_hash([section_text("We  keep\n[logs](https://a.example/x).")]) == base
    assert wording_hash([section_text("We keep [logs](https://a.example/x)!")]) != base


def test_wording_hash_keeps_section_boundaries():
    assert wording_hash(["a b", "c"]) != wording_hash(["a", "b c"])


def test_section_body_drops_the_heading_block_and_says_where_the_body_starts():
    text = section_text(LIST_CLAUSE)
    offset, body = section_body(text, "Sharing", 2)
    assert text[offset:] == body == "We share it with advertisers, and\npartners.\nothers"


def test_section_body_keeps_a_preamble_whole():
    text = section_text("# Privacy\n\nWe collect data.\n")
    assert section_body(text, "Privacy", 1) == (0, text)
