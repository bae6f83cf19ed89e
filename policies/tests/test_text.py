"""policies.reading.text: the one readable text of a section, and the facts taken from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.importing.corpus import decode_policy_bytes, split_policy
from policies.reading.clauses import mark_clauses, reader_text
from policies.reading.rendering import render_markdown
from policies.reading.sectioning import split_sections
from policies.reading.text import count_words, section_body, section_text, wording_hash

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data" / "corpus-sample"

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


# Markdown built from the constructs html2text writes and the ones that trip renderers: blocks,
# lists, tables, code, links and images, entities, escapes, raw HTML, odd whitespace.
_MARKDOWN_PIECES = st.sampled_from(
    [
        "# ", "## ", "* ", "- ", "1. ", "2) ", "> ", "    ", "  ", "\n", "\n\n", "**", "__", "*",
        "_", "`", "```", "~~~", "[a](https://x.example/y)", "[b](/rel)", "![alt *x*](i.png)",
        "![](i.png)", "<b>", "</p>", "<!-- c -->", "&amp;", "&nbsp;", "&#1;", "&copy", "\\", "|",
        "| a | b |\n|---|---|\n", "|:-:|", "---", "***", "===", "\t", "\xa0", "\u2028", "\x0c",
        "\x85", "\ufeff", "é", "<", ">", "&", '"', "[x]: https://e.example\n", "[x]",
        "<https://e.example>", "\x00", "\r\n", "word", "two words", ". ",
    ]
)  # fmt: skip
_MARKDOWN = st.lists(st.one_of(_MARKDOWN_PIECES, st.text(max_size=5)), max_size=40).map("".join)


@settings(max_examples=500)
@given(_MARKDOWN)
def test_section_text_is_the_text_of_the_rendered_html(markdown):
    # section_text reads the tokens; the reader shows the sanitised HTML rendered from them.
    assert section_text(markdown) == reader_text(render_markdown(markdown))


@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_section_text_is_the_text_of_the_rendered_html_for_any_text(markdown):
    assert section_text(markdown) == reader_text(render_markdown(markdown))


@pytest.mark.parametrize("path", sorted(SAMPLE_DIR.glob("*.md")), ids=lambda path: path.name)
def test_section_text_is_the_text_of_the_rendered_html_on_the_sample_corpus(path):
    _, body = split_policy(decode_policy_bytes(path.read_bytes()).text)
    parts = split_sections(body)
    assert parts
    for part in parts:
        assert section_text(part.text) == reader_text(render_markdown(part.text))


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
