"""Tests for policies.importing.corpus: decoding policy bytes and parsing the corpus header line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.importing.corpus import (
    CorpusFormatError,
    Header,
    clean_text,
    decode_policy_bytes,
    parse_capture_time,
    parse_header,
    split_policy,
)

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_FILES = sorted(
    [*SAMPLE_DIR.glob("seeds/*.txt"), *SAMPLE_DIR.glob("corpus-sample/*.md")],
    key=lambda p: p.name,
)

LIVEJOURNAL_HEADER = (
    "> *The following text is extracted and transformed from the livejournal.com privacy "
    "policy that was archived on 2005-06-22. Please check the [original snapshot on the "
    "Wayback Machine](https://web.archive.org/web/20050622043445id_/http%3A//www.livejournal"
    ".com/legal/privacy.bml) for the most accurate reproduction.*"
)


def make_header(
    *,
    domain: str = "example.com",
    archived_on: str = "2015-06-13",
    url: str = "https://web.archive.org/web/20150613051519id_/http%3A//www.example.com/privacy",
) -> str:
    """A corpus header line with the given parts swapped in."""
    return (
        f"> *The following text is extracted and transformed from the {domain} privacy "
        f"policy that was archived on {archived_on}. Please check the [original snapshot on "
        f"the Wayback Machine]({url}) for the most accurate reproduction.*"
    )


# --- the sample corpus ----------------------------------------------------------------


def test_sample_files_are_found():
    assert len(SAMPLE_FILES) == 37


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_file_decodes_and_splits_cleanly(path):
    decoded = decode_policy_bytes(path.read_bytes())
    header, body = split_policy(decoded.text)

    assert decoded.warnings == []
    assert header.captured_at.tzinfo == UTC
    assert header.archived_on == header.captured_at.date()
    assert header.archive_url.startswith("https://web.archive.org/web/")
    assert header.source_url.startswith(("http://", "https://"))
    # Samples are "<header>\n\n<body>": the body is the rest, byte for byte.
    assert body == decoded.text.split("\n", 2)[2]
    if path.parent.name == "corpus-sample":
        # Corpus samples are named "<domain>_<archive date>.md" after their header.
        domain, archived_on = path.stem.rsplit("_", 1)
        assert header.domain == domain
        assert header.archived_on.isoformat() == archived_on


def test_livejournal_seed_header():
    text = decode_policy_bytes((SAMPLE_DIR / "seeds/000_a06f46bb5fdea414.txt").read_bytes()).text

    header, body = split_policy(text)

    assert header == Header(
        domain="livejournal.com",
        archived_on=date(2005, 6, 22),
        captured_at=datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC),
        archive_url=(
            "https://web.archive.org/web/20050622043445id_/"
            "http%3A//www.livejournal.com/legal/privacy.bml"
        ),
        source_url="http://www.livejournal.com/legal/privacy.bml",
    )
    assert body.startswith("# LiveJournal.com Privacy Policy\n")


# --- decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n ", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_empty_or_blank_file_is_refused(data):
    with pytest.raises(CorpusFormatError, match="^empty file$"):
        decode_policy_bytes(data)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", "PNG image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "ZIP archive"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
    ],
)
def test_known_binary_formats_are_named(data, kind):
    with pytest.raises(CorpusFormatError, match=f"^binary file, not text .*{kind}"):
        decode_policy_bytes(data)


def test_file_dominated_by_control_bytes_is_binary():
    data = bytes(range(32)) * 20 + b"some text"

    with pytest.raises(CorpusFormatError, match="^binary file, not text"):
        decode_policy_bytes(data)


def test_utf16_is_refused_with_a_way_out():
    with pytest.raises(CorpusFormatError, match="UTF-16 text, not UTF-8: save the file as UTF-8"):
        decode_policy_bytes("Privacy policy".encode("utf-16"))


def test_utf8_bom_is_stripped_silently():
    decoded = decode_policy_bytes(b"\xef\xbb\xbf# Caf\xc3\xa9 privacy\n")

    assert decoded.text == "# Café privacy\n"
    assert decoded.warnings == []


def test_windows_1252_falls_back_with_a_warning():
    decoded = decode_policy_bytes(b"caf\xe9 \x93quoted\x94 \x96 costs \x80 5")

    assert decoded.text == "café “quoted” – costs € 5"
    assert decoded.warnings == ["not valid UTF-8; decoded as Windows-1252"]


@pytest.mark.parametrize("byte", [b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"])
def test_bytes_undefined_in_windows_1252_are_refused(byte):
    with pytest.raises(CorpusFormatError) as excinfo:
        decode_policy_bytes(b"caf\xe9 " + byte + b" text")

    assert str(excinfo.value) == (
        "not UTF-8 or Windows-1252 text: byte 0xE9 at offset 3 is not valid UTF-8 and "
        f"byte 0x{byte[0]:02X} at offset 5 is undefined in Windows-1252"
    )


def test_byte_invalid_in_both_encodings_is_named_once():
    with pytest.raises(CorpusFormatError) as excinfo:
        decode_policy_bytes(b"text \x81 more")

    assert str(excinfo.value) == (
        "not UTF-8 or Windows-1252 text: byte 0x81 at offset 5 is neither valid UTF-8 nor "
        "defined in Windows-1252"
    )


def test_mostly_utf8_with_a_damaged_byte_is_refused_not_garbled():
    # A Windows-1252 reading would succeed and turn "é" into "Ã©" everywhere.
    prefix = "Café, naïve, résumé, “quotes”: ".encode() * 5 + b"broken "

    with pytest.raises(CorpusFormatError, match=f"mostly UTF-8 .* offset {len(prefix)} "):
        decode_policy_bytes(prefix + b"\xe9 byte")


def test_utf8_cut_mid_character_is_refused():
    data = "Privacy – policy ".encode() * 3 + "é".encode()[:1]

    with pytest.raises(CorpusFormatError, match="^not UTF-8 or Windows-1252 text: .*mostly UTF-8"):
        decode_policy_bytes(data)


def test_other_legacy_encodings_are_refused_not_garbled():
    data = "Политика конфиденциальности сайта".encode("cp1251")

    with pytest.raises(CorpusFormatError, match="another legacy encoding"):
        decode_policy_bytes(data)


def test_double_encoded_utf8_is_kept_with_a_warning():
    decoded = decode_policy_bytes("We donâ€™t sell data. CafÃ© policy.".encode())

    assert decoded.text == "We donâ€™t sell data. CafÃ© policy."
    assert len(decoded.warnings) == 1
    assert "double-encoded" in decoded.warnings[0]
    assert "'’'" in decoded.warnings[0]


def test_nul_bytes_are_removed_with_a_warning():
    decoded = decode_policy_bytes(b"# Privacy\x00 policy\n\nWe\x00 collect\x00 nothing.\n")

    assert decoded.text == "# Privacy policy\n\nWe collect nothing.\n"
    assert decoded.warnings == ["removed 3 NUL bytes"]


def test_line_endings_are_normalised_silently():
    decoded = decode_policy_bytes(b"one\r\ntwo\rthree\n")

    assert decoded.text == "one\ntwo\nthree\n"
    assert decoded.warnings == []


def test_clean_text_removes_lone_surrogates():
    text, warnings = clean_text("ok \ud800 here \udfff too")

    assert text == "ok  here  too"
    assert warnings == ["removed 2 lone surrogates (U+D800-U+DFFF)"]
    text.encode("utf-8")


def test_clean_text_joins_surrogate_pairs():
    text, warnings = clean_text("smile \ud83d\ude00 and a lone \udc00 one")

    assert text == "smile 😀 and a lone  one"
    assert warnings == [
        "joined 1 UTF-16 surrogate pair",
        "removed 1 lone surrogate (U+D800-U+DFFF)",
    ]


def test_clean_text_leaves_clean_text_alone():
    assert clean_text("Plain ✅ text\n") == ("Plain ✅ text\n", [])


printable_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"),
    min_size=1,
).filter(lambda s: s.strip() and not s.startswith("\ufeff"))


@given(printable_text)
def test_utf8_text_survives_decoding_unchanged(text):
    assert decode_policy_bytes(text.encode("utf-8")).text == text


@given(st.text())
def test_clean_text_always_returns_storable_text(text):
    cleaned, _ = clean_text(text)

    assert "\x00" not in cleaned
    assert "\r" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogates left


# --- header --------------------------------------------------------------------------------


def test_header_fields_are_parsed():
    header = parse_header(make_header(domain="Example.COM"))

    assert header.domain == "example.com"
    assert header.archived_on == date(2015, 6, 13)
    assert header.captured_at == datetime(2015, 6, 13, 5, 15, 19, tzinfo=UTC)
    assert header.source_url == "http://www.example.com/privacy"


def test_header_accepts_punycode_domains_and_a_one_day_drift():
    header = parse_header(
        make_header(
            domain="xn--mnchen-3ya.de",
            archived_on="2015-06-12",
            url="https://web.archive.org/web/20150613000001id_/http%3A//xn--mnchen-3ya.de/",
        )
    )

    assert header.domain == "xn--mnchen-3ya.de"
    assert header.archived_on == date(2015, 6, 12)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("# Privacy Policy", "^missing header line"),
        ("", "^missing header line"),
        (make_header().split(" Please check")[0], "^malformed header: no Wayback URL$"),
        (
            make_header(url="https://example.com/privacy"),
            "^malformed header: 'https://example.com/privacy' is not a Wayback Machine URL",
        ),
        (
            make_header(url="https://web.archive.org/web/2015061305id_/http%3A//example.com/"),
            "Wayback timestamp '2015061305' should be 14 digits",
        ),
        (make_header(archived_on="2005-02-30"), "^impossible header date 2005-02-30$"),
        (make_header(archived_on="June 2005"), "malformed header"),
        (
            make_header(
                archived_on="2005-12-13",
                url="https://web.archive.org/web/20051345000000id_/http%3A//example.com/",
            ),
            "^impossible capture timestamp 20051345000000$",
        ),
        (
            make_header(
                archived_on="2005-06-22",
                url="https://web.archive.org/web/20040622043445id_/http%3A//example.com/",
            ),
            "^header date 2005-06-22 does not match Wayback timestamp 20040622043445",
        ),
        (make_header(domain="example .com"), "^invalid domain 'example .com'"),
        (make_header(domain="example.com/privacy"), "^invalid domain"),
        (make_header(domain="localhost"), "^invalid domain"),
        (make_header(domain="-bad.com"), "^invalid domain"),
    ],
    ids=[
        "markdown-heading",
        "empty",
        "no-url",
        "not-wayback",
        "short-timestamp",
        "impossible-date",
        "unreadable-date",
        "impossible-timestamp",
        "date-mismatch",
        "space-in-domain",
        "slash-in-domain",
        "single-label-domain",
        "leading-hyphen",
    ],
)
def test_bad_headers_say_what_is_wrong(line, reason):
    with pytest.raises(CorpusFormatError, match=reason):
        parse_header(line)


# --- split_policy ----------------------------------------------------------------------


def test_split_drops_only_the_blank_lines_after_the_header():
    body = "# Policy\n\n    indented code\n\ntrailing spaces   \n\n\n"

    header, split_body = split_policy(f"{make_header()}\n\n \t\n{body}")

    assert header.domain == "example.com"
    assert split_body == body


def test_split_tolerates_blank_lines_before_the_header():
    _, body = split_policy(f"\n\n{make_header()}\n\nText.")

    assert body == "Text."


def test_split_without_header_or_overrides_explains_the_options():
    with pytest.raises(CorpusFormatError) as excinfo:
        split_policy("# Privacy Policy\n\nWe collect nothing.\n")

    assert str(excinfo.value) == (
        "missing or malformed header line; pass --domain and --captured-at to import a "
        "file without one"
    )


def test_split_without_header_uses_overrides_and_keeps_all_text():
    text = "# Privacy Policy\n\nWe collect nothing.\n"
    captured_at = datetime(2019, 5, 6, 8, 38, 18, tzinfo=UTC)

    header, body = split_policy(text, domain="Example.com", captured_at=captured_at)

    assert body == text
    assert header == Header(
        domain="example.com",
        archived_on=date(2019, 5, 6),
        captured_at=captured_at,
        archive_url="https://web.archive.org/web/20190506083818id_/example.com",
        source_url="http://example.com/",
    )


def test_split_without_header_needs_both_overrides():
    with pytest.raises(CorpusFormatError, match="--captured-at is needed too"):
        split_policy("# Policy\n\nText.", domain="example.com")


def test_overrides_win_over_the_header():
    captured_at = datetime(2016, 1, 2, 3, 4, 5, tzinfo=UTC)

    header, body = split_policy(
        f"{make_header()}\n\nText.", domain="other.org", captured_at=captured_at
    )

    assert (header.domain, header.captured_at, header.archived_on) == (
        "other.org",
        captured_at,
        date(2016, 1, 2),
    )
    assert header.source_url == "http://www.example.com/privacy"
    assert body == "Text."


def test_malformed_header_is_an_error_even_with_overrides():
    line = make_header(archived_on="2005-02-30")

    with pytest.raises(CorpusFormatError, match="impossible header date"):
        split_policy(
            f"{line}\n\nText.",
            domain="example.com",
            captured_at=datetime(2005, 3, 1, tzinfo=UTC),
        )


def test_invalid_domain_override_is_refused():
    with pytest.raises(CorpusFormatError, match="^invalid domain 'exa mple.com'"):
        split_policy("Text.", domain="exa mple.com", captured_at=datetime(2005, 3, 1, tzinfo=UTC))


@pytest.mark.parametrize("rest", ["", "\n", "\n\n  \n"])
def test_header_without_body_is_refused(rest):
    with pytest.raises(CorpusFormatError, match="^no policy text after the header line$"):
        split_policy(make_header() + rest)


first_line_has_text = st.text(min_size=1).filter(
    lambda s: s.split("\n", 1)[0].strip(" \t") and s.strip()
)


@given(first_line_has_text)
def test_split_returns_the_body_exactly(body):
    _, split_body = split_policy(f"{make_header()}\n\n{body}")

    assert split_body == body


# --- parse_capture_time --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2005-06-22", datetime(2005, 6, 22, tzinfo=UTC)),
        ("2005-06-22T04:34", datetime(2005, 6, 22, 4, 34, tzinfo=UTC)),
        ("2005-06-22T04:34:45", datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC)),
        ("2005-06-22T04:34:45Z", datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC)),
        ("2005-06-22 04:34:45", datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC)),
        ("2005-06-22T06:34:45+02:00", datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC)),
        ("20050622043445", datetime(2005, 6, 22, 4, 34, 45, tzinfo=UTC)),
        (" 2005-06-22 ", datetime(2005, 6, 22, tzinfo=UTC)),
    ],
)
def test_capture_time_formats(value, expected):
    parsed = parse_capture_time(value)

    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2005-02-30", "^impossible capture time 2005-02-30$"),
        ("2005-06-22T25:00", "^impossible capture time"),
        ("20051345000000", "^impossible capture timestamp 20051345000000$"),
        ("1985-01-01", "before the web existed"),
        ("22/06/2005", "^unrecognised capture time '22/06/2005'"),
        ("2005-06-22T04:34:45+25:00", "impossible time zone offset"),
        ("", "^unrecognised capture time"),
    ],
)
def test_bad_capture_times_are_refused(value, reason):
    with pytest.raises(CorpusFormatError, match=reason):
        parse_capture_time(value)
