"""annotations.campaigns.opp115: reading the OPP-115 release (fixtures in its format, written
for these tests under data/opp115/: two made-up policies, not the corpus)."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.campaigns.opp115 import (
    CATEGORY_SLUGS,
    Opp115Error,
    OppPolicy,
    OppSpan,
    attribute_slug,
    read_corpus,
    segment_markdown,
    segment_text,
)
from annotations.taxonomy import OPP115, read_taxonomy
from policies.reading.text import section_text

RELEASE = Path(__file__).resolve().parent / "data" / "opp115"


def policies(path: Path = RELEASE, **options) -> dict[str, OppPolicy]:
    return {policy.name: policy for policy in read_corpus(path, **options)}


def spans(policy: OppPolicy, line: int) -> list[tuple[str, str, str]]:
    """(attribute, how, the text the span covers) of the practice on `line`."""
    practice = next(p for p in policy.practices if p.line == line)
    text = policy.segments[practice.segment_index].text
    return [(s.attribute, s.how, text[s.start : s.end]) for s in practice.spans]


def test_policies_come_in_file_number_order_with_domain_date_and_url():
    example, sample = read_corpus(RELEASE)
    assert (example.name, example.domain) == ("7_example.com", "example.com")
    assert (sample.name, sample.domain) == ("12_sample.org", "sample.org")
    # The file's number is the documentation's Policy UID (7 -> 2015-07-02); the URL is the
    # annotations' full URL, else the documentation's with a scheme.
    assert example.collected == date(2015, 7, 2)
    assert example.url == "http://www.example.com/privacy"
    assert sample.url == "http://sample.org/privacy"


def test_a_missing_collection_date_is_none_and_reported_with_its_line():
    sample = policies()["12_sample.org"]
    assert sample.collected is None
    assert [str(p) for p in sample.problems] == [
        f"{RELEASE}/documentation/policies_opp115.csv:3: policy UID 12 has no collection date"
    ]


def test_segments_are_what_annotators_read():
    example = policies()["7_example.com"]
    assert [s.text for s in example.segments] == [
        "Example Privacy Notice",
        "We collect your email address when you sign up.\nWe keep it for 30 days.",
        "Cookies: we use *cookies* & similar_tools.\n1. You may opt out at any time.",
        "Questions? Write to privacy@example.com or call us.",
    ]
    assert example.segments[2].markdown == (
        "Cookies: we use \\*cookies\\* \\& similar\\_tools.\n\n1\\. You may opt out at any time."
    )
    assert all(section_text(s.markdown) == s.text for p in read_corpus(RELEASE) for s in p.segments)


def test_practices_keep_annotator_segment_category_and_every_attribute_value():
    practice = policies()["7_example.com"].practices[0]
    assert (practice.line, practice.annotation_id, practice.annotator_id) == (1, "970", "1")
    assert (practice.segment_index, practice.category) == (1, "First Party Collection/Use")
    assert practice.attributes == {
        "Personal Information Type": "Contact",
        "Action First-Party": "Unspecified",
        "Purpose": "Unspecified",
    }


def test_exact_spans_map_html_offsets_to_text_offsets():
    example = policies()["7_example.com"]
    assert spans(example, 1) == [("Personal Information Type", "exact", "email address")]
    # The selection includes markup: "your <strong>email address</strong>".
    assert spans(example, 2) == [("Personal Information Type", "exact", "your email address")]
    # An entity and Markdown-like characters: "*cookies* &amp; similar_tools".
    assert spans(example, 7) == [
        ("Personal Information Type", "exact", "*cookies* & similar_tools")
    ]


def test_a_span_with_wrong_offsets_is_found_where_its_text_is():
    assert spans(policies()["7_example.com"], 3) == [("Retention Period", "shifted", "30 days")]


def test_a_span_whose_text_lost_its_markup_is_found_after_normalising():
    # selectedText "when you sign up. We keep it" for HTML "... sign up. <br> <br> We keep it".
    assert spans(policies()["7_example.com"], 4) == [
        ("Retention Period", "normalised", "when you sign up.\nWe keep it")
    ]


def test_a_span_not_found_anchors_the_whole_segment():
    whole = "Questions? Write to privacy@example.com or call us."
    assert spans(policies()["7_example.com"], 5) == [("Other Type", "whole", whole)]


def test_placeholders_are_not_spans_and_a_practice_without_spans_gets_its_segment():
    example = policies()["7_example.com"]
    # Line 6: its only entry is offsets -1/-1 with selectedText "".
    practice = next(p for p in example.practices if p.line == 6)
    assert practice.spans == [OppSpan("", 0, len(example.segments[3].text), "whole")]
    assert practice.attributes == {"Other Type": "Contact"}
    # Line 7: "<br>" and "null" placeholders beside a real span; line 1: no selectedText and
    # "Not selected".
    assert [s[0] for s in spans(example, 7)] == ["Personal Information Type"]
    assert [s[0] for s in spans(example, 1)] == ["Personal Information Type"]


def test_every_case_is_counted():
    counts = policies()["7_example.com"].counts
    assert dict(counts) == {
        "exact": 5,
        "shifted": 1,
        "normalised": 1,
        "not_found": 1,
        "placeholder": 5,
        "no_span": 1,
    }


def test_lines_count_the_csv_lines_of_quoted_fields_with_line_breaks():
    # The first row's JSON holds a line break, so the next rows start on lines 3 and 4.
    sample = policies()["12_sample.org"]
    assert [p.line for p in sample.practices] == [1, 3, 4]
    assert spans(sample, 3) == [("Does/Does Not", "exact", "never sell data")]


def test_a_zip_of_the_release_under_a_top_folder_reads_the_same(tmp_path):
    archive = tmp_path / "OPP-115.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in RELEASE.rglob("*"):
            zipped.write(file, f"OPP-115/{file.relative_to(RELEASE).as_posix()}")
        zipped.writestr("__MACOSX/OPP-115/sanitized_policies/._7_example.com.html", b"\x00\x05")
    from_zip, from_folder = policies(archive), policies()
    assert list(from_zip) == list(from_folder)
    for name, policy in from_zip.items():
        assert (policy.segments, policy.practices) == (
            from_folder[name].segments,
            from_folder[name].practices,
        )
        assert [p.message for p in policy.problems] == [
            p.message for p in from_folder[name].problems
        ]


BAD_ROWS = [
    "980,b,1,3007,1,Other\n",  # line 10: 6 columns
    '981,b,1,3007,4,Other,"{}",Not specified,\n',  # line 11: the policy has segments 0-3
    '982,b,1,3007,1,Other,"{not json",Not specified,\n',  # line 12
    '983,b,1,3007,1,Cookies,"{}",Not specified,\n',  # line 13: not an OPP-115 category
    '984,b,1,3007,x,Other,"{}",Not specified,\n',  # line 14
    '985,b,1,3007,0,Other,"[1]",Not specified,\n',  # line 15
    '986,b,2,3007,0,Other,"{}",Not specified,\n',  # line 16: fine, no span
]


def bad_release(tmp_path: Path) -> Path:
    release = tmp_path / "release"
    shutil.copytree(RELEASE, release)
    with (release / "annotations" / "7_example.com.csv").open("a") as csv_file:
        csv_file.writelines(BAD_ROWS)
    return release


def test_bad_rows_are_reported_by_file_and_line_and_the_rest_is_read(tmp_path):
    example = policies(bad_release(tmp_path))["7_example.com"]
    where = f"{tmp_path}/release/annotations/7_example.com.csv"
    assert [str(p) for p in example.problems] == [
        f"{where}:10: 6 columns, expected 9",
        f"{where}:11: segment 4 out of range (the policy has 4 segments)",
        f"{where}:12: attributes are not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        f"{where}:13: unknown category 'Cookies'",
        f"{where}:14: segment index 'x' is not a number",
        f"{where}:15: attributes must be a JSON object of objects",
    ]
    assert [p.line for p in example.practices] == [*range(1, 10), 16]


def test_strict_reading_raises_at_the_first_bad_line(tmp_path):
    release = bad_release(tmp_path)
    with pytest.raises(Opp115Error, match=r"7_example\.com\.csv:10: 6 columns, expected 9"):
        list(read_corpus(release, strict=True))
    # A missing collection date is said, not an error: 12_sample.org reads strictly.
    assert policies(RELEASE, strict=True)["12_sample.org"].collected is None


def test_a_layout_that_cannot_be_read_raises(tmp_path):
    with pytest.raises(Opp115Error, match="no sanitized_policies/ folder"):
        list(read_corpus(tmp_path))
    (tmp_path / "notes.txt").write_text("not a release")
    with pytest.raises(Opp115Error, match="neither a folder nor a zip"):
        list(read_corpus(tmp_path / "notes.txt"))
    release = tmp_path / "release"
    shutil.copytree(RELEASE, release)
    (release / "sanitized_policies" / "7_example.com.html").unlink()
    with pytest.raises(Opp115Error, match=r"7_example\.com\.csv: no sanitized_policies/ text"):
        list(read_corpus(release))


def test_category_names_map_to_the_default_taxonomy_slugs():
    taxonomy = read_taxonomy(OPP115)
    assert {c.name: c.slug for c in taxonomy.categories} == CATEGORY_SLUGS
    assert CATEGORY_SLUGS["User Access, Edit and Deletion"] == "user-access-edit-deletion"
    assert len(CATEGORY_SLUGS) == 10


def test_attribute_names_map_to_slugs_whatever_their_case():
    assert attribute_slug("Do Not Track policy") == "do-not-track-policy"
    assert attribute_slug("Personal Information Type") == "personal-information-type"
    assert attribute_slug("Favourite Colour") is None


def test_segment_text_breaks_lines_at_block_tags_only():
    html = "<strong>Title</strong><br>One <em>two</em>\n  three<ul><li> four </li></ul>&amp;"
    assert segment_text(html) == "Title\nOne two three\nfour\n&"


# Printable ASCII and the whitespace HTML has; control characters are dropped by design.
ascii_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\n\t ")
)


@given(ascii_text)
def test_markdown_of_any_segment_text_renders_back_to_it(html):
    text = segment_text(html)
    assert section_text(segment_markdown(text)) == text


@given(st.text(alphabet=st.sampled_from("ab1.)-+=#>*_[]`|\\<&!~ \n"), max_size=60))
def test_markdown_escapes_line_starts_and_inline_syntax(html):
    text = segment_text(html)
    assert section_text(segment_markdown(text)) == text


@given(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="<&"))
)
def test_segment_text_without_markup_keeps_every_word(raw):
    assert segment_text(raw).split() == raw.split()


TOKENS = st.sampled_from(
    [
        "we",
        "share",
        "data",
        "1.",
        "*x*",
        " ",
        "  ",
        "<br>",
        "<strong>",
        "</strong>",
        "<li>",
        "&amp;",
    ]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=30), st.data())
def test_an_exact_span_covers_the_selected_text(tokens, data):
    # A selection of whole tokens of the HTML, with correct offsets, reads as its own text.
    start = data.draw(st.integers(0, len(tokens) - 1))
    end = data.draw(st.integers(start + 1, len(tokens)))
    html = "".join(tokens)
    offset = len("".join(tokens[:start]))
    selected = "".join(tokens[start:end])
    wanted = segment_text(selected)
    with tempfile.TemporaryDirectory() as folder:
        release = one_policy_release(Path(folder), html, offset, selected)
        (policy,) = read_corpus(release)
    found = [(s.how, policy.segments[0].text[s.start : s.end]) for s in policy.practices[0].spans]
    if not wanted:
        assert policy.counts["placeholder"] == 1
        return
    assert found[0][0] == "exact"
    assert found[0][1].split() == wanted.split()


def one_policy_release(folder: Path, html: str, offset: int, selected: str) -> Path:
    (folder / "sanitized_policies").mkdir()
    (folder / "annotations").mkdir()
    (folder / "sanitized_policies" / "1_a.example.html").write_text(html)
    entry = {"startIndexInSegment": offset, "endIndexInSegment": offset + len(selected)}
    attributes = {"A": {**entry, "selectedText": selected, "value": "v"}}
    with (folder / "annotations" / "1_a.example.csv").open("w", newline="") as out:
        csv.writer(out).writerow(
            [1, "b", 1, 1, 0, "Other", json.dumps(attributes), "Not specified", "http://a.example/"]
        )
    return folder
