"""policies.reading.sectioning: where sections start, their names, and that no text is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.reading.sectioning import SectionPart, page_title, split_sections

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_FILES = sorted([*SAMPLE_DATA.glob("seeds/*.txt"), *SAMPLE_DATA.glob("corpus-sample/*.md")])


def _body(path: Path) -> str:
    """The file's Markdown body: everything after the corpus header line and the blank lines."""
    text = path.read_text(encoding="utf-8")
    return text.split("\n", 1)[1].lstrip("\n")


def _sample(name: str) -> str:
    return _body(SAMPLE_DATA / "corpus-sample" / name)


def _headings(body: str) -> list[str]:
    return [part.heading for part in split_sections(body)]


def _outline(body: str) -> list[tuple[int, str]]:
    return [(part.level, part.heading) for part in split_sections(body)]


def _assert_well_formed(body: str, parts: list[SectionPart]) -> None:
    assert "".join(part.text for part in parts) == body
    assert all(part.text for part in parts)
    anchors = [part.anchor for part in parts]
    assert len(set(anchors)) == len(anchors)
    assert all(anchors)
    assert all(1 <= part.level <= 6 for part in parts)
    assert all(part.heading for part in parts)
    # Sections start at line starts, so every part but the first follows a line ending.
    assert all(before.text[-1] in "\r\n" for before in parts[:-1])
    # Only the first part can be the preamble, and it is the only part at level 1.
    assert all(part.level >= 2 for part in parts[1:])


# Property tests ---------------------------------------------------------------------------------

_words = st.text(
    alphabet=st.sampled_from(list("abcxyzÄéßЖж中 12.,:?!'-_*#|\\[]()¶`~>")), min_size=0, max_size=12
)
_indent = st.sampled_from(["", " ", "  ", "   ", "    ", "\t", "\u00a0"])
_markdownish_line = st.one_of(
    st.builds(
        lambda lead, level, gap, text, closing: f"{lead}{'#' * level}{gap}{text}{closing}",
        _indent,
        st.integers(1, 7),
        st.sampled_from(["", " ", "  ", "\t"]),
        _words,
        st.sampled_from(["", " ", "  ", " ##", "#"]),
    ),
    st.builds(
        lambda lead, wrapper, text, trail: f"{lead}{wrapper[0]}{text}{wrapper[1]}{trail}",
        _indent,
        st.sampled_from(
            [("**", "**"), ("__", "__"), ("**_", "_**"), ("_**", "**_"), ("_**", "** _")]
        ),
        _words,
        st.sampled_from(["", "  ", "\\", " "]),
    ),
    st.builds(lambda label, text: f"**{label}:** {text}", _words, _words),
    st.builds(
        lambda lead, marker, text: f"{lead}{marker} {text}",
        _indent,
        st.sampled_from(["*", "-", "+", "1.", "2)", "10."]),
        _words,
    ),
    st.sampled_from(["a | b | c", "---|---", "| x | y |", "|---|:-:|", "|  |   "]),
    st.sampled_from(
        ["```", "~~~", "```python", "````", "  ```", "* * *", "---", "===", ">", "> q"]
    ),
    st.sampled_from(["", " ", "    ", "\t", "\u00a0", "[ ¶](https://example.com/#x)", "1\\."]),
    _words,
    st.text(max_size=20),
)
_line_ending = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "  \n", "\\\n", "\n\n"])
_markdownish_body = st.builds(
    lambda pairs, last: "".join(line + ending for line, ending in pairs) + last,
    st.lists(st.tuples(_markdownish_line, _line_ending), max_size=40),
    st.sampled_from(["", "tail without newline", "## tail heading", "**tail bold**"]),
)


@settings(max_examples=400)
@given(_markdownish_body)
def test_markdownish_text_splits_losslessly_with_unique_anchors(body):
    parts = split_sections(body)
    _assert_well_formed(body, parts)
    assert isinstance(page_title(body), str)


@settings(max_examples=300)
@given(st.text())
def test_any_text_splits_losslessly(body):
    parts = split_sections(body)
    _assert_well_formed(body, parts)
    assert isinstance(page_title(body), str)


@given(
    st.lists(
        st.sampled_from(["## Same", "**Same**", "## Same 2", "## same-2", "## ¶"]), max_size=30
    )
)
def test_anchors_stay_unique_when_headings_and_suffixes_collide(headings):
    body = "".join(f"{heading}\n\ntext\n\n" for heading in headings)
    anchors = [part.anchor for part in split_sections(body)]
    assert len(set(anchors)) == len(anchors)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: path.name)
def test_every_sample_file_splits_losslessly(path):
    body = _body(path)
    parts = split_sections(body)
    _assert_well_formed(body, parts)
    assert page_title(body)  # every sample has a `#` page title


def test_empty_body_gives_no_parts():
    assert split_sections("") == []
    assert page_title("") == ""


# ATX headings -----------------------------------------------------------------------------------


def test_atx_headings_start_sections_at_their_level():
    body = "intro\n\n## Two\n\ntext\n\n### Three\n\ntext\n\n###### Six\n\ntext\n"
    parts = split_sections(body)
    assert [(part.level, part.heading) for part in parts] == [
        (1, "Preamble"),
        (2, "Two"),
        (3, "Three"),
        (6, "Six"),
    ]
    assert parts[1].text == "## Two\n\ntext\n\n"
    assert parts[3].text == "###### Six\n\ntext\n"


def test_heading_levels_may_skip():
    body = "## A\n\n#### B\n\n## C\n\n##### D\n"
    assert _outline(body) == [(2, "A"), (4, "B"), (2, "C"), (5, "D")]


def test_heading_with_leading_and_extra_spaces_is_a_heading():
    body = "   ##  Web sites analytics \n\ntext\n\n##\tTabbed ##\n"
    assert _outline(body) == [(2, "Web sites analytics"), (2, "Tabbed")]


def test_heading_interrupts_a_paragraph_without_a_blank_line():
    assert _headings("some text\n## Heading\nmore\n") == ["Preamble", "Heading"]


def test_heading_like_lines_that_are_not_headings_are_body_text():
    body = "intro\n\n####### seven hashes\n\n##no space\n\n    ## indented code\n\n#hashtag\n"
    assert _headings(body) == ["Preamble"]


def test_first_level_one_heading_is_the_page_title_not_a_section():
    body = "# Privacy Policy | Example\n\nintro\n\n## Collection\n\ntext\n"
    parts = split_sections(body)
    assert page_title(body) == "Privacy Policy | Example"
    assert [part.heading for part in parts] == ["Preamble", "Collection"]
    assert parts[0].text.startswith("# Privacy Policy")


def test_page_title_stays_inside_the_section_it_is_in():
    body = "## First\n\ntext\n# Late Title\n\nmore\n"
    parts = split_sections(body)
    assert [part.heading for part in parts] == ["First"]
    assert page_title(body) == "Late Title"


def test_later_level_one_headings_are_level_two_sections():
    body = "# Title\n\n# Another\n\n**Bold**\n\ntext\n"
    assert _outline(body) == [(1, "Preamble"), (2, "Another"), (3, "Bold")]


def test_page_title_is_plain_text_and_empty_without_a_level_one_heading():
    assert page_title("# **Privacy** [Policy](https://example.com) 1\\.\n") == "Privacy Policy 1."
    assert page_title("## Only a subheading\n\ntext\n") == ""
    assert page_title("```\n# not a title\n```\n\n# Title\n") == "Title"
    assert page_title("* # in a list\n\n> # in a quote\n") == ""


def test_empty_heading_takes_its_title_from_the_next_line():
    body = "## Payment\n\ntext\n\n###   \nBitcoin and Bitcoin Cash\n\nThis is digital cash.\n"
    parts = split_sections(body)
    assert [(part.level, part.heading) for part in parts] == [
        (2, "Payment"),
        (3, "Bitcoin and Bitcoin Cash"),
    ]
    assert parts[1].text == "###   \nBitcoin and Bitcoin Cash\n\nThis is digital cash.\n"


def test_empty_heading_title_line_that_is_bold_is_not_a_second_boundary():
    assert _outline("##\n\n**Named**\n\ntext\n") == [(2, "Named")]


def test_empty_heading_with_nothing_to_name_it_is_body_text():
    assert _headings("intro\n\n##   \n\n## Real\n\ntext\n\n###\n") == ["Preamble", "Real"]


def test_empty_heading_in_mullvad_sample_takes_next_line():
    headings = _headings(_sample("mullvad.net_2018-11-16.md"))
    assert "Bitcoin and Bitcoin Cash" in headings
    assert "Credit card, PayPal, Swish, and bank wire" in headings
    assert "Data that we do handle" in headings
    assert "" not in headings


# Bold pseudo-headings ---------------------------------------------------------------------------


def test_whole_bold_paragraph_starts_a_section():
    body = "intro\n\n**What we collect**\n\ntext\n\n__Sharing__\n\nmore\n"
    parts = split_sections(body)
    assert [(part.level, part.heading) for part in parts] == [
        (1, "Preamble"),
        (2, "What we collect"),
        (2, "Sharing"),
    ]
    assert parts[1].text == "**What we collect**\n\ntext\n\n"


def test_bold_heading_is_one_level_deeper_than_the_last_heading():
    body = "## A\n\n**a1**\n\n#### B\n\n**b1**\n\n###### C\n\n**c1**\n"
    assert _outline(body) == [(2, "A"), (3, "a1"), (4, "B"), (5, "b1"), (6, "C"), (6, "c1")]


def test_run_in_bold_is_body_text():
    body = (
        "intro\n\n**Registration:** We collect your name.\n\n"
        "**Cookies.** Third parties may place cookies.\n\n"
        "**Two** bold **labels**\n\ntext with **bold** inside\n"
    )
    assert _headings(body) == ["Preamble"]


def test_run_in_bold_samples_have_no_bold_sections():
    assert _headings(_sample("livefootballol.tv_2017-12-29.md")) == ["Preamble"]
    headings = _headings(_sample("livejournal.com_2014-06-30.md"))
    assert not any(heading.startswith("Registration") for heading in headings)


def test_bold_line_continued_by_a_soft_line_break_is_body_text():
    assert _headings("intro\n\n**Note**\nthis continues the paragraph.\n") == ["Preamble"]


def test_bold_line_ending_in_a_hard_break_is_the_heading_of_its_paragraph():
    for hard_break in ("  ", "\\"):
        body = f"intro\n\n**Information sharing**{hard_break}\nWe share only when asked.\n"
        parts = split_sections(body)
        assert [part.heading for part in parts] == ["Preamble", "Information sharing"]
        assert parts[1].text == f"**Information sharing**{hard_break}\nWe share only when asked.\n"


def test_bold_hard_break_sample_headings():
    body = _body(SAMPLE_DATA / "seeds" / "004_8750b887977fa0c2.txt")
    assert "Choices for personal information" in _headings(body)
    assert "Please note!" in _headings(_sample("mageia.org_2016-05-12.md"))


def test_bold_line_in_the_middle_of_a_paragraph_is_body_text():
    assert _headings("a sentence\n**Bold**\n\ntext\n") == ["Preamble"]


def test_bold_italic_pseudo_headings_in_both_nestings():
    body = (
        "**_What does LivePerson do?_**\n\ntext\n\n"
        "_**What information do we collect from LivePerson Users?**_\n\ntext\n\n"
        "_**What information do we collect from ASP Users?** _\n\ntext\n"
    )
    assert _headings(body) == [
        "What does LivePerson do?",
        "What information do we collect from LivePerson Users?",
        "What information do we collect from ASP Users?",
    ]


def test_liveperson_2003_bold_italic_headings():
    headings = _headings(_sample("liveperson.com_2003-08-01.md"))
    assert headings[:4] == [
        "Preamble",
        "What does LivePerson do?",
        "LivePerson Users",
        "What information do we collect from LivePerson Users?",
    ]
    assert "What information do we collect from ASP Users?" in headings
    assert 'What about "cookies"?' in headings
    assert len(headings) == 16


def test_bold_paragraph_with_leading_space_is_a_heading():
    body = "intro\n\n **The information we gather**\n\ntext\n"
    assert _headings(body) == ["Preamble", "The information we gather"]
    live5news = _headings(_sample("live5news.com_2015-11-15.md"))
    assert live5news[1:3] == ["The information we gather", "Collection of geo-location information"]


def test_asterisks_that_do_not_hug_the_text_are_not_bold():
    # live.com: `** _In the event of a conflict..._**` renders with literal asterisks.
    body = "intro\n\n** _In the event of a conflict, the terms control._**\n\n** spaced **\n"
    assert _headings(body) == ["Preamble"]


def test_bold_line_with_a_pipe_is_table_debris_not_a_heading():
    assert _headings("intro\n\n**Name | Year**\n\ntext\n") == ["Preamble"]


def test_bold_line_without_text_is_not_a_heading():
    assert _headings("intro\n\n****\n\n**[](https://example.com/x.png)**\n\n** **\n") == [
        "Preamble"
    ]


# Blocks that are never split --------------------------------------------------------------------


def test_bold_list_item_is_not_a_boundary():
    body = (
        "intro\n\n  * **Provide our products.**\n  * **Bold item**\n- **Another**\n1. **Ordered**\n"
    )
    assert _headings(body) == ["Preamble"]


def test_bold_line_in_list_continuation_is_not_a_boundary():
    body = "intro\n\n  * item\n\n    **Indented bold**\n\n    ## indented heading\n"
    assert _headings(body) == ["Preamble"]


def test_bold_line_lazily_continuing_a_list_item_is_not_a_boundary():
    assert _headings("* item\n**Bold**\n\ntext\n") == ["Preamble"]


def test_bold_paragraph_after_a_list_ends_it_and_is_a_boundary():
    body = "  * item\nlazy line\n\n **Your communications preferences**\n\ntext\n"
    assert _headings(body) == ["Preamble", "Your communications preferences"]


def test_heading_right_after_a_list_item_is_a_boundary():
    assert _headings("* item\n## After\n\ntext\n") == ["Preamble", "After"]


def test_nested_list_keeps_deeper_lines_inside():
    body = "* outer\n  * inner\n\n    **deep bold**\n\n  **still in outer item**\n\n**Out**\n"
    assert _headings(body) == ["Preamble", "Out"]


def test_heading_like_lines_inside_fenced_code_are_not_boundaries():
    body = (
        "intro\n\n```\n## not a heading\n\n**not bold**\n```\n\n"
        "~~~~\n## nope\n```\n~~~~\n\n## Yes\n"
    )
    assert _headings(body) == ["Preamble", "Yes"]


def test_unclosed_fence_runs_to_the_end():
    assert _headings("intro\n\n```\n## inside\n\n**inside**\n") == ["Preamble"]


def test_indented_code_block_is_not_split():
    body = "**Queries**\n    \n    \n     **cSpecial** (Records=1)\n\n    **site**\n\n\t## tab\n"
    assert _headings(body) == ["Queries"]


def test_indented_line_after_text_is_lazy_continuation_not_code():
    parts = split_sections("text\n    more text\n**Bold**\n\nx\n")
    assert [part.heading for part in parts] == ["Preamble"]


def test_blockquote_is_not_split():
    body = "intro\n\n> **Quoted bold**\n>\n> ## quoted heading\n**lazy continuation**\n\ntext\n"
    assert _headings(body) == ["Preamble"]


def test_heading_like_lines_inside_a_table_are_not_boundaries():
    body = (
        "intro\n\n"
        "supplier | data\n---|---\n**Bold cell**\n## hash cell\nAWS | files\n\n"
        "**After the table**\n\ntext\n"
    )
    assert _headings(body) == ["Preamble", "After the table"]


def test_thematic_break_is_not_a_list_and_does_not_block_a_heading():
    body = "intro\n\n* * *\n\n**Heading**\n\ntext\n"
    assert _headings(body) == ["Preamble", "Heading"]


def test_bold_line_directly_above_a_list_is_a_heading():
    body = "intro\n\n**Purpose**\n  * Auditing\n  * Developing\n"
    assert _headings(body) == ["Preamble", "Purpose"]


# Preamble, anchors, headings ------------------------------------------------------------------


def test_text_before_the_first_boundary_is_the_preamble():
    parts = split_sections("Some intro.\n\n## First\n\ntext\n")
    assert parts[0] == SectionPart("Preamble", 1, "Some intro.\n\n", "preamble")


def test_whitespace_only_preamble_is_kept():
    parts = split_sections("\n  \n## First\ntext")
    assert [part.heading for part in parts] == ["Preamble", "First"]
    assert parts[0].text == "\n  \n"


def test_body_that_starts_with_a_boundary_has_no_preamble():
    assert _headings("## First\n\ntext\n") == ["First"]
    assert _headings("**Bold first**\n\ntext\n") == ["Bold first"]


def test_body_without_boundaries_is_one_preamble():
    body = "just text\nwithout headings"
    assert split_sections(body) == [SectionPart("Preamble", 1, body, "preamble")]


def test_duplicate_anchors_get_numbered_suffixes():
    body = "## Cookies\n\n## Cookies\n\n## Cookies 2\n\n## Cookies\n\n## Preamble\n\n**Cookies**\n"
    anchors = [part.anchor for part in split_sections("intro\n\n" + body)]
    assert anchors == [
        "preamble",
        "cookies",
        "cookies-2",
        "cookies-2-2",
        "cookies-3",
        "preamble-2",
        "cookies-4",
    ]


def test_anchor_slugs_keep_unicode_letters_and_digits():
    body = "## Данные & Cookies!\n\n## Ünïcödé 2019/2020\n\n## ¶ ¶\n\n## 中文 标题\n"
    anchors = [part.anchor for part in split_sections(body)]
    assert anchors == ["данные-cookies", "ünïcödé-2019-2020", "section", "中文-标题"]


def test_long_heading_anchor_is_capped():
    heading = "word " * 60
    [part] = split_sections(f"**{heading.strip()}**\n")
    assert part.heading == heading.strip()
    assert len(part.anchor) <= 80
    assert not part.anchor.endswith("-")


def test_heading_text_is_plain_text():
    body = (
        "## [Link text](https://example.com/a_(b) 'title') and `code`\n"
        "##  1\\. Acknowledgement\\*\n"
        "#### What does Psiphon **NOT** do with _your_ data?\n"
        "## snake_case stays\n"
        "## See <https://example.com/privacy>\n"
        "##   lots    of   space   \n"
        "## Closing hashes ###\n"
    )
    assert _headings(body) == [
        "Link text and code",
        "1. Acknowledgement*",
        "What does Psiphon NOT do with your data?",
        "snake_case stays",
        "See https://example.com/privacy",
        "lots of space",
        "Closing hashes",
    ]


def test_pilcrow_anchor_links_are_dropped_from_headings():
    headings = _headings(_sample("silicondust.com_2008-05-22.md"))
    assert headings == ["Preamble", "HDHomeRun Lineup Server", "HDHomeRun Support Server"]


def test_wiki_edit_links_are_dropped_from_headings():
    headings = _headings(_sample("hasin.wordpress.com_2011-10-04.md"))
    assert headings[:3] == ["Preamble", "Purpose", "P3P user agents"]


def test_lines_of_no_break_spaces_count_as_blank():
    body = "intro\n\u00a0\n**Bold**\n\u00a0 \ntext\n"
    assert _headings(body) == ["Preamble", "Bold"]


def test_crlf_line_endings_are_kept_and_understood():
    body = "intro\r\n\r\n## First\r\n\r\n**Bold**\r\n\r\ntext\r\n"
    parts = split_sections(body)
    assert [part.heading for part in parts] == ["Preamble", "First", "Bold"]
    assert parts[1].text == "## First\r\n\r\n"
    assert "".join(part.text for part in parts) == body


# Real samples -----------------------------------------------------------------------------------


def test_adwaremedic_has_two_level_two_sections():
    body = _sample("adwaremedic.com_2015-06-13.md")
    parts = split_sections(body)
    assert [(part.level, part.heading) for part in parts] == [
        (1, "Preamble"),
        (2, "This site"),
        (2, "The AdwareMedic application"),
    ]
    assert parts[1].text.startswith("## This site\n")
    assert page_title(body) == "AdwareMedic Privacy Policy"


def test_psiphon_2018_07_has_a_psicash_section():
    parts = split_sections(_sample("psiphon3.com_2018-07-21.md"))
    psicash = next(part for part in parts if part.heading == "PsiCash")
    assert psicash.level == 3
    assert psicash.anchor == "psicash"
    assert psicash.text.startswith("### PsiCash\n\nThe PsiCash system only collects")
    assert "### Feedback" not in psicash.text
    assert "PsiCash" not in _headings(_sample("psiphon3.com_2018-05-18.md"))


def test_28598_cn_escaped_numbered_headings():
    assert _headings(_sample("28598.cn_2014-08-09.md"))[1:3] == [
        "1. Acknowledgement and Acceptance of Terms.",
        "2. What Information Do We Collect?",
    ]


def test_rvtraderonline_bold_headings_ignore_code_and_lists():
    headings = _headings(_sample("rvtraderonline.com_2002-12-06.md"))
    assert headings[1:3] == [
        "Privacy Policy for TraderOnline.com",
        "I. What information is collected?",
    ]
    assert "cSpecial" not in " ".join(headings)


def test_adversarial_long_lines_split_losslessly():
    # Built to make backtracking regexes explode; a regression shows as a hung suite.
    # Split speed itself is measured in bench/, not asserted here.
    bodies = [
        "**" + "[a](" * 50_000 + "**",
        "## " + " " * 200_000 + "x #",
        "**" + "\\(" * 50_000 + "**",
        "##\n" + "\n" * 100_000 + "x\n",
        "* a\n  * b\n" * 20_000,
        "**Same**\n\n" * 20_000,
    ]
    for body in bodies:
        parts = split_sections(body)
        assert "".join(part.text for part in parts) == body
