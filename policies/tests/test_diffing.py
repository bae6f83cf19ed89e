"""diffing: word-level diffs that never lose text, and section alignment that reads well."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.comparing import diffing
from policies.comparing.comparison import changed_chunks
from policies.comparing.diffing import AlignedRow, SectionDiff, diff_sections, diff_words
from policies.reading.text import section_text

try:
    from policies.reading.sectioning import split_sections
except ImportError:  # pragma: no cover - sectioning is written alongside this module
    split_sections = None

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
CORPUS = SAMPLE_DIR / "corpus-sample"


def _sections(markdown: str) -> list[tuple[str, str]]:
    """(heading, plain text) per section, as the comparison page feeds diff_sections."""
    if split_sections is not None:
        return [(part.heading, section_text(part.text)) for part in split_sections(markdown)]
    chunks = re.split(r"(?m)^(?=## )", markdown)
    return [(chunk.split("\n", 1)[0].lstrip("# "), section_text(chunk)) for chunk in chunks]


def _sample(path: Path) -> list[tuple[str, str]]:
    body = path.read_text(encoding="utf-8").split("\n", 1)[1].lstrip("\n")
    return _sections(body)


def _old_and_new(segments: list[tuple[str, str]]) -> tuple[str, str]:
    old = "".join(text for op, text in segments if op != "insert")
    new = "".join(text for op, text in segments if op != "delete")
    return old, new


def _assert_rows_rebuild(diff: SectionDiff, old, new) -> None:
    """Every section appears once per side, and its parts join back to its text."""
    old_seen, new_seen = [], []
    for row in diff.rows:
        if row.old_index is not None:
            assert "".join(text for _, text in row.old_parts) == old[row.old_index][1]
            assert {op for op, _ in row.old_parts} <= {"equal", "delete"}
            old_seen.append(row.old_index)
        if row.new_index is not None:
            assert "".join(text for _, text in row.new_parts) == new[row.new_index][1]
            assert {op for op, _ in row.new_parts} <= {"equal", "insert"}
            new_seen.append(row.new_index)
    assert sorted(old_seen) == list(range(len(old)))
    assert new_seen == list(range(len(new)))  # rows follow the new document's order


def _swapped_summary(diff: SectionDiff) -> tuple[int, ...]:
    return (
        diff.removed,
        diff.added,
        diff.changed,
        diff.moved,
        diff.unchanged,
        diff.words_removed,
        diff.words_added,
    )


def _summary(diff: SectionDiff) -> tuple[int, ...]:
    return (
        diff.added,
        diff.removed,
        diff.changed,
        diff.moved,
        diff.unchanged,
        diff.words_added,
        diff.words_removed,
    )


def _policy(*names: str) -> list[tuple[str, str]]:
    """Sections with distinct, realistic text, picked by name from a fixed set."""
    texts = {
        "Intro": "This policy explains what Acme collects and why. It applies to all our sites.",
        "Data": "We collect your name, email address and postal address when you register. "
        "We also log the pages you visit and the browser you use.",
        "Cookies": "Cookies are small files stored by your browser. We use them to keep you "
        "signed in and to count visitors. You can refuse them in your browser settings.",
        "Sharing": "We never sell your data. We share it with payment processors and with "
        "the police when a court orders us to.",
        "Children": "Our services are not meant for children under thirteen, and we delete "
        "any account we learn belongs to one.",
        "Contact": "Write to privacy@acme.example or to Acme Inc, 1 Main Street, Springfield.",
    }
    return [(name, texts[name]) for name in names]


# diff_words ------------------------------------------------------------------------------------


def test_identical_texts_are_one_equal_segment():
    text = "We collect your email address.\n\nWe never sell it."
    assert diff_words(text, text) == [("equal", text)]
    assert diff_words("", "") == []


def test_one_word_changed():
    assert diff_words("We collect your email address.", "We collect your postal address.") == [
        ("equal", "We collect your "),
        ("delete", "email "),
        ("insert", "postal "),
        ("equal", "address."),
    ]


def test_punctuation_change_is_its_own_token():
    assert diff_words("We log visits, pages.", "We log visits; pages.") == [
        ("equal", "We log visits"),
        ("delete", ", "),
        ("insert", "; "),
        ("equal", "pages."),
    ]


def test_sentence_inserted():
    old = "We collect your email. We never sell it."
    new = "We collect your email. We keep it for two years. We never sell it."
    assert diff_words(old, new) == [
        ("equal", "We collect your email. "),
        ("insert", "We keep it for two years. "),
        ("equal", "We never sell it."),
    ]


def test_text_from_nothing_and_to_nothing():
    assert diff_words("", "New text.") == [("insert", "New text.")]
    assert diff_words("Old text.", "") == [("delete", "Old text.")]


def test_unrelated_sentences_are_one_replacement_not_confetti():
    segments = diff_words(
        "We use cookies to remember your preferences on this site.",
        "Your data is stored in the United States by our hosting provider.",
    )
    # One change; at most the final full stop is left in common.
    assert [op for op, _ in segments][:2] == ["delete", "insert"]
    assert all(not re.search(r"\w", text) for op, text in segments if op == "equal")


def test_whitespace_and_unicode_survive():
    old = "  Données\tpersonnelles — “quoted” ①\n\n• item\u00a0one  "
    new = "  Données personnelles — “quoted” ②\n\n• item\u00a0two  "
    assert _old_and_new(diff_words(old, new)) == (old, new)


words = st.sampled_from(
    ["we", "We", "data", "your", "the", "cookies", "share", "never", "email", "Acme", "é", "１"]
)
separators = st.sampled_from([" ", " ", " ", ", ", ". ", "\n", "\n\n", "  ", "\t", "—", ""])
texts = st.lists(st.tuples(words, separators).map("".join), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts, texts)
def test_segments_rebuild_both_texts(old, new):
    segments = diff_words(old, new)
    assert _old_and_new(segments) == (old, new)
    assert all(text for _, text in segments)
    assert all(a[0] != b[0] for a, b in zip(segments, segments[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_segments_rebuild_any_unicode(old, new):
    assert _old_and_new(diff_words(old, new)) == (old, new)


@contextmanager
def _rapidfuzz_limit(cells: int) -> Iterator[None]:
    saved = diffing._RAPIDFUZZ_MAX_CELLS
    diffing._RAPIDFUZZ_MAX_CELLS = cells
    try:
        yield
    finally:
        diffing._RAPIDFUZZ_MAX_CELLS = saved


@settings(max_examples=150, deadline=None)
@given(texts, texts, st.sampled_from([1, 50, 2_000]))
def test_large_input_paths_rebuild_both_texts(old, new, cells):
    # Shrink the rapidfuzz limit so small inputs take the sentence-unit, unique-anchor and
    # whole-replacement paths that real inputs only take above ~10k words.
    with _rapidfuzz_limit(cells):
        assert _old_and_new(diff_words(old, new)) == (old, new)


def test_large_path_splits_at_unique_anchors_without_sentences(monkeypatch):
    monkeypatch.setattr(diffing, "_RAPIDFUZZ_MAX_CELLS", 100)
    old = " ".join(f"item{n} is listed" for n in range(100))  # one sentence, no line breaks
    new = old.replace("item10 is", "item10 was").replace("item90 is", "item90 was")
    calls = []
    monkeypatch.setattr(diffing, "_unique_anchors", _spy(diffing._unique_anchors, calls))
    assert [(op, text) for op, text in diff_words(old, new) if op != "equal"] == [
        ("delete", "is "),
        ("insert", "was "),
        ("delete", "is "),
        ("insert", "was "),
    ]
    assert calls


def test_large_path_finds_the_same_small_edit(monkeypatch):
    monkeypatch.setattr(diffing, "_RAPIDFUZZ_MAX_CELLS", 100)
    old = " ".join(f"Sentence number {n} is about data." for n in range(200))
    new = old.replace("number 20 is", "number 20 was").replace("number 180 is", "number 180 was")
    calls = []
    monkeypatch.setattr(diffing, "_diff_by_units", _spy(diffing._diff_by_units, calls))
    assert [(op, text) for op, text in diff_words(old, new) if op != "equal"] == [
        ("delete", "is "),
        ("insert", "was "),
        ("delete", "is "),
        ("insert", "was "),
    ]
    assert calls


def _spy(function, calls):
    def spy(*args):
        calls.append(args)
        return function(*args)

    return spy


def _generated_capture(rng: random.Random, vocabulary: list[str], size: int) -> str:
    sentences = []
    count = 0
    while count < size:
        sentence = [rng.choice(vocabulary) for _ in range(rng.randint(6, 20))]
        sentences.append(" ".join(sentence).capitalize() + ".")
        count += len(sentence)
        if rng.random() < 0.2:
            sentences.append("\n\n")
    return " ".join(sentences)


def _edited(rng: random.Random, vocabulary: list[str], text: str, share: float) -> str:
    tokens = text.split(" ")
    for _ in range(int(len(tokens) * share)):
        k = rng.randrange(len(tokens))
        action = rng.randrange(3)
        if action == 0:
            tokens[k] = rng.choice(vocabulary)
        elif action == 1:
            tokens.insert(k, rng.choice(vocabulary))
        else:
            del tokens[k]
    return " ".join(tokens)


@pytest.fixture(scope="module")
def vocabulary() -> list[str]:
    text = (CORPUS / "live.com_2019-12-31.md").read_text(encoding="utf-8")
    return re.findall(r"[a-z]+", text)


def test_fifty_thousand_word_captures_rebuild(vocabulary):
    rng = random.Random(5)
    old = _generated_capture(rng, vocabulary, 50_000)
    new = _edited(rng, vocabulary, old, 0.05)
    segments = diff_words(old, new)
    assert _old_and_new(segments) == (old, new)
    changed = sum(len(text.split()) for op, text in segments if op != "equal")
    assert changed < 0.25 * len(old.split())  # a 5% edit reads as a 5% edit, not a rewrite


def test_fifty_thousand_word_rewrite_rebuilds(vocabulary):
    rng = random.Random(6)
    old = _generated_capture(rng, vocabulary, 50_000)
    new = _generated_capture(rng, vocabulary, 50_000)
    assert _old_and_new(diff_words(old, new)) == (old, new)


def test_fifty_thousand_word_sections_rebuild(vocabulary):
    rng = random.Random(7)
    old = [(f"Part {n}", _generated_capture(rng, vocabulary, 1_000)) for n in range(50)]
    new = [(h, _edited(rng, vocabulary, text, 0.05)) for h, text in old]
    new.insert(10, ("Part new", _generated_capture(rng, vocabulary, 500)))
    del new[30]
    diff = diff_sections(old, new)
    _assert_rows_rebuild(diff, old, new)
    assert (diff.added, diff.removed, diff.moved) == (1, 1, 0)


# diff_sections -----------------------------------------------------------------------------------


def test_identical_documents():
    sections = _policy("Intro", "Data", "Cookies", "Contact")
    diff = diff_sections(sections, list(sections))
    assert diff.identical
    assert [row.kind for row in diff.rows] == ["unchanged"] * 4
    assert _summary(diff) == (0, 0, 0, 0, 4, 0, 0)
    assert all(row.similarity == 1.0 and not row.moved for row in diff.rows)


def test_identical_sample_is_identical():
    sections = _sample(CORPUS / "live5news.com_2015-11-15.md")
    again = _sample(CORPUS / "live5news.com_2017-12-11.md")
    diff = diff_sections(sections, again)
    assert diff.identical
    assert diff.unchanged == len(sections)


def test_empty_documents():
    assert diff_sections([], []).identical
    diff = diff_sections([], _policy("Intro"))
    assert (diff.added, diff.identical) == (1, False)


def test_one_word_changed_in_a_section():
    old = _policy("Intro", "Data", "Contact")
    new = [*old]
    new[1] = ("Data", old[1][1].replace("postal address", "phone number"))
    diff = diff_sections(old, new)
    assert _summary(diff) == (0, 0, 1, 0, 2, 2, 2)
    row = diff.rows[1]
    assert (row.kind, row.old_index, row.new_index, row.renamed) == ("changed", 1, 1, False)
    assert ("delete", "postal address ") in row.old_parts
    assert ("insert", "phone number ") in row.new_parts
    _assert_rows_rebuild(diff, old, new)


def test_section_added():
    old = _policy("Intro", "Data", "Contact")
    new = _policy("Intro", "Data", "Cookies", "Contact")
    diff = diff_sections(old, new)
    assert _summary(diff)[:5] == (1, 0, 0, 0, 3)
    row = diff.rows[2]
    assert (row.kind, row.old_index, row.new_index) == ("added", None, 2)
    assert row.new_parts == [("insert", new[2][1])]
    assert row.words_added == len(new[2][1].split())


def test_section_removed_follows_its_old_predecessor():
    old = _policy("Intro", "Data", "Cookies", "Sharing", "Contact")
    new = _policy("Intro", "Data", "Contact")
    diff = diff_sections(old, new)
    assert [(row.kind, row.old_index, row.new_index) for row in diff.rows] == [
        ("unchanged", 0, 0),
        ("unchanged", 1, 1),
        ("removed", 2, None),
        ("removed", 3, None),
        ("unchanged", 4, 2),
    ]
    assert diff.rows[2].old_parts == [("delete", old[2][1])]


def test_removed_first_section_comes_first():
    diff = diff_sections(_policy("Intro", "Data"), _policy("Data"))
    assert [(row.kind, row.old_index) for row in diff.rows] == [("removed", 0), ("unchanged", 1)]


def test_section_moved_is_not_removed_and_added():
    old = _policy("Intro", "Data", "Cookies", "Sharing", "Children", "Contact")
    new = _policy("Intro", "Cookies", "Sharing", "Children", "Data", "Contact")
    diff = diff_sections(old, new)
    assert _summary(diff) == (0, 0, 0, 1, 6, 0, 0)
    assert not diff.identical
    moved = [row for row in diff.rows if row.moved]
    assert [(row.old_index, row.new_index, row.kind) for row in moved] == [(1, 4, "unchanged")]


def test_section_renamed_lines_up_with_its_counterpart():
    old = _policy("Intro", "Data", "Cookies", "Contact")
    new = [*old]
    new[2] = ("Tracking technologies", old[2][1])
    diff = diff_sections(old, new)
    row = diff.rows[2]
    assert (row.kind, row.renamed, row.old_index, row.new_index) == ("unchanged", True, 2, 2)
    assert (row.old_heading, row.new_heading) == ("Cookies", "Tracking technologies")
    assert (diff.added, diff.removed) == (0, 0)


def test_section_moved_and_renamed():
    old = _policy("Intro", "Data", "Cookies", "Sharing", "Contact")
    new = _policy("Intro", "Sharing", "Cookies", "Contact")
    new.insert(3, ("What we collect", old[1][1] + " We also keep your IP address."))
    diff = diff_sections(old, new)
    (row,) = [row for row in diff.rows if row.old_index == 1]
    assert (row.new_index, row.kind, row.renamed, row.moved) == (3, "changed", True, True)
    assert row.words_added == 6
    assert (diff.added, diff.removed) == (0, 0)


def test_heading_numbering_and_case_do_not_break_a_match():
    old = [("1. Your Data", "We keep it safe."), ("2. Contact", "Write to us.")]
    new = [("Contact", "Write to us."), ("3) your data", "We keep it safe.")]
    diff = diff_sections(old, new)
    assert [(row.old_index, row.new_index, row.renamed) for row in diff.rows] == [
        (1, 0, False),
        (0, 1, False),
    ]


def test_text_that_moved_under_a_new_heading_follows_its_content():
    # lexsynergy.com 2014 added a bold "Updated" line that the sectioning takes for a heading:
    # the whole policy moved from the preamble into that section.
    old = _sample(CORPUS / "lexsynergy.com_2010-05-15.md")
    new = _sample(CORPUS / "lexsynergy.com_2014-11-20.md")
    diff = diff_sections(old, new)
    (row,) = [row for row in diff.rows if row.old_index == 0]
    assert new[row.new_index][0].startswith("Updated")
    assert row.similarity > 0.9
    assert diff.words_removed < 20


def test_complete_rewrite_reads_section_by_section():
    old = _sample(SAMPLE_DIR / "seeds" / "000_a06f46bb5fdea414.txt")
    new = _sample(SAMPLE_DIR / "seeds" / "001_8c44c36bd2a3f39e.txt")
    diff = diff_sections(old, new)
    _assert_rows_rebuild(diff, old, new)
    assert not diff.identical
    assert diff.unchanged == 0
    for row in diff.rows:
        if row.kind == "changed":
            # Nothing in common: one block out, one block in, no interleaved word confetti.
            assert row.similarity < 0.3
            assert [op for op, _ in row.old_parts] == ["delete"]
            assert [op for op, _ in row.new_parts] == ["insert"]
    # Same-named sections still face each other.
    (gather,) = [row for row in diff.rows if row.new_heading == "Information We Gather"]
    assert gather.old_heading == "Information We Gather"
    assert diff.words_removed == sum(len(re.findall(r"\w+", text)) for _, text in old)


def test_section_by_section_rewrite_in_place_pairs_by_position():
    old = _policy("Intro", "Cookies", "Contact")
    new = [old[0], ("Children", _policy("Children")[0][1]), old[2]]
    diff = diff_sections(old, new)
    row = diff.rows[1]
    assert (row.kind, row.old_index, row.new_index, row.renamed) == ("changed", 1, 1, False)
    assert row.old_parts == [("delete", old[1][1])]
    assert row.new_parts == [("insert", new[1][1])]


def test_small_revision_of_a_sample():
    old = _sample(CORPUS / "livejournal.com_2014-06-30.md")
    new = _sample(CORPUS / "livejournal.com_2017-04-03.md")
    diff = diff_sections(old, new)
    _assert_rows_rebuild(diff, old, new)
    assert (diff.added, diff.removed, diff.moved) == (0, 0, 0)
    assert 0 < diff.words_added < 40
    assert "and/or applicable law" in "".join(
        text for row in diff.rows for op, text in row.new_parts if op == "insert"
    )


def test_psiphon_rewrite_shows_moved_and_renamed_sections():
    old = _sample(CORPUS / "psiphon3.com_2018-07-21.md")
    new = _sample(CORPUS / "psiphon3.com_2019-12-09.md")
    diff = diff_sections(old, new)
    _assert_rows_rebuild(diff, old, new)
    assert diff.moved >= 1
    (ads,) = [row for row in diff.rows if row.old_heading == "Advertising Networks"]
    assert ads.new_heading == "Psiphon Client Advertising Networks"
    assert ads.renamed
    assert ads.similarity > 0.9
    renamed_and_moved = [row for row in diff.rows if row.renamed and row.moved]
    assert renamed_and_moved


def test_psiphon_section_added():
    old = _sample(CORPUS / "psiphon3.com_2018-05-18.md")
    new = _sample(CORPUS / "psiphon3.com_2018-07-21.md")
    diff = diff_sections(old, new)
    added = [row.new_heading for row in diff.rows if row.kind == "added"]
    assert added == ["PsiCash"]
    assert (diff.removed, diff.moved) == (0, 0)


@pytest.mark.parametrize(
    ("old_name", "new_name"),
    [
        ("psiphon3.com_2018-07-21.md", "psiphon3.com_2019-12-09.md"),
        ("mullvad.net_2018-11-16.md", "mullvad.net_2019-08-21.md"),
        ("liveperson.com_2003-08-01.md", "liveperson.com_2015-12-28.md"),
        ("livejournal.com_2014-06-30.md", "livejournal.com_2017-04-03.md"),
    ],
)
def test_swapping_sides_swaps_added_and_removed(old_name, new_name):
    old, new = _sample(CORPUS / old_name), _sample(CORPUS / new_name)
    forward, backward = diff_sections(old, new), diff_sections(new, old)
    assert _summary(forward) == _swapped_summary(backward)
    _assert_rows_rebuild(forward, old, new)
    _assert_rows_rebuild(backward, new, old)


def test_swapping_sides_of_a_rewrite():
    old = _sample(SAMPLE_DIR / "seeds" / "000_a06f46bb5fdea414.txt")
    new = _sample(SAMPLE_DIR / "seeds" / "001_8c44c36bd2a3f39e.txt")
    assert _summary(diff_sections(old, new)) == _swapped_summary(diff_sections(new, old))


def test_result_survives_a_json_round_trip():
    old = _policy("Intro", "Data", "Cookies", "Contact")
    new = _policy("Intro", "Cookies", "Data", "Children")
    diff = diff_sections(old, new)
    data = json.loads(json.dumps(dataclasses.asdict(diff)))
    again = SectionDiff(**{**data, "rows": [AlignedRow(**row) for row in data["rows"]]})
    assert again == diff


def test_chunks_cut_both_sides_of_an_unchanged_stretch_at_the_same_words():
    old = [("equal", "One.\nTwo.\nThree\nfour.\nFive. "), ("delete", "old"), ("equal", " end.")]
    new = [("equal", "One.\nTwo.\nThree four.\nFive. "), ("insert", "new"), ("equal", " end.")]
    fold, stretch = changed_chunks(old, new)
    assert (fold.folded, fold.new_html) == (3, "One.\nTwo.\nThree four.")
    assert stretch.old_html == "Five. <del>old</del> end."
    assert stretch.new_html == "Five. <ins>new</ins> end."
    assert stretch.inline_html == "Five. <del>old</del><ins>new</ins> end."


def test_a_whole_block_replacement_is_one_chunk_old_then_new():
    (chunk,) = changed_chunks([("delete", "a & b")], [("insert", "c")])
    assert chunk.inline_html == "<del>a &amp; b</del><ins>c</ins>"
