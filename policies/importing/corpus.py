"""Bytes to text, and the corpus header line to structured data.

The Princeton-Leuven corpus stores one snapshot per file: a Markdown body under a
one-line header naming the domain, the archive date and the Wayback Machine URL.
This module turns the raw bytes of such a file into clean text and splits off that
header. It is pure: no ORM, no settings; callers pass everything in.

Every problem is reported as a `CorpusFormatError` whose message is a plain-language
reason an admin can act on, because that message is what the importer shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, unquote

__all__ = [
    "CorpusFormatError",
    "DecodedText",
    "Header",
    "clean_text",
    "decode_policy_bytes",
    "parse_capture_time",
    "parse_header",
    "split_policy",
]


class CorpusFormatError(ValueError):
    """A file cannot be imported; the message says why, in words an admin understands."""


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from a file, with what had to be repaired on the way."""

    text: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Header:
    """What the corpus header line says about a snapshot."""

    domain: str
    archived_on: date
    captured_at: datetime
    archive_url: str
    source_url: str


# --- decoding --------------------------------------------------------------------------

_UTF8_BOM = b"\xef\xbb\xbf"

# Signatures of formats people upload by mistake; naming the format makes the error
# message useful ("you picked the screenshot, not the policy").
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive or Office document"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed file"),
    (b"\xfd7zXZ\x00", "xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Microsoft Office document"),
    (b"\x7fELF", "program (ELF executable)"),
    (b"SQLite format 3\x00", "SQLite database"),
)

# C0 controls other than tab, newline, vertical tab, form feed and carriage return, plus
# DEL. Text files contain almost none; binary files are full of them.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_NON_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_MAX_CONTROL_SHARE = 0.10

# A well-formed UTF-8 multi-byte sequence (no overlongs, no surrogates, <= U+10FFFF).
_UTF8_SEQUENCE_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]"
    rb"|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}"
    rb"|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)

# Characters that UTF-8 lead and continuation bytes become when misread as Windows-1252:
# "é" (C3 A9) shows up as "Ã©", "’" (E2 80 99) as "â€™".
_CP1252_OF_CONTINUATION = bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")
_MOJIBAKE_RE = re.compile(f"[\u00c2-\u00f4][{re.escape(_CP1252_OF_CONTINUATION)}]+")

# A Windows-1252 reading is only plausible for text that is mostly ASCII letters with
# some accents. Russian in Windows-1251 or Greek in Windows-1253 also decodes without
# error, but as words made only of accented letters ("Ïîëèòèêà"): refuse that.
_MAX_ACCENTED_LETTER_SHARE = 0.4
_MIN_ACCENTED_LETTERS_TO_JUDGE = 8

_HIGH_BYTES = bytes(range(0x80, 0x100))
_ASCII_LETTER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NON_ASCII_LETTER_RE = re.compile(r"[^\W\d_\x00-\x7f]")

_SURROGATE_PAIR_RE = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def decode_policy_bytes(data: bytes) -> DecodedText:
    """Decode a policy file's bytes to clean text with `\\n` line endings.

    UTF-8 (with or without a byte-order mark) is the expected encoding. Anything else
    falls back to Windows-1252 with a warning, unless that would produce mojibake, in
    which case `CorpusFormatError` is raised: a wrongly decoded policy is worse than a
    refused one. NUL bytes are removed (PostgreSQL refuses them) with a warning.
    """
    if not data.strip():
        raise CorpusFormatError("empty file")
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise CorpusFormatError(f"binary file, not text (looks like a {kind})")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Checked before the control-byte share: UTF-16 is half NUL bytes and would
        # otherwise be called binary, which sends the admin looking in the wrong place.
        raise CorpusFormatError(
            "UTF-16 text, not UTF-8: save the file as UTF-8 and import it again"
        )
    control_count = len(data.translate(None, _NON_CONTROL_BYTES))
    if control_count > _MAX_CONTROL_SHARE * len(data):
        raise CorpusFormatError(
            f"binary file, not text ({control_count} of {len(data)} bytes are control bytes)"
        )

    warnings: list[str] = []
    has_bom = data.startswith(_UTF8_BOM)
    payload = data[len(_UTF8_BOM) :] if has_bom else data
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        if has_bom:
            # The file declares itself UTF-8, so a bad byte means damage, not another
            # encoding; reading it as Windows-1252 would garble every other accent.
            raise CorpusFormatError(
                "not UTF-8 or Windows-1252 text: the file starts with a UTF-8 byte-order mark "
                f"but byte 0x{payload[exc.start]:02X} at offset {exc.start + len(_UTF8_BOM)} "
                "is not valid UTF-8"
            ) from None
        text = _decode_cp1252(payload, exc)
        warnings.append("not valid UTF-8; decoded as Windows-1252")
    else:
        sample = None if text.isascii() else _mojibake_sample(text)
        if sample:
            # Valid UTF-8 that was already garbled upstream: keep the text as it is (it
            # is what the corpus holds) but say so, so nobody takes it for clean text.
            warnings.append(
                f"text looks double-encoded somewhere (e.g. {sample[0]!r} where {sample[1]!r} "
                "was meant); kept as it is"
            )

    text, cleaning_warnings = clean_text(text)
    warnings.extend(cleaning_warnings)
    if not text.strip():
        raise CorpusFormatError("empty file")
    return DecodedText(text=text, warnings=warnings)


def clean_text(s: str) -> tuple[str, list[str]]:
    """Make text safe to store: no NULs, no lone surrogates, `\\n` line endings.

    For text from any source (decoded files, form fields, git blobs). Surrogate pairs
    left over from UTF-16 handling are joined into the character they stand for; lone
    surrogates cannot be encoded as UTF-8 and are removed. Returns the text and a
    plain-language warning for each kind of repair that changed the content.
    """
    warnings: list[str] = []
    nul_count = s.count("\x00")
    if nul_count:
        s = s.replace("\x00", "")
        warnings.append(f"removed {_plural(nul_count, 'NUL byte')}")
    if not s.isascii() and _SURROGATE_RE.search(s):  # isascii: a C-speed test for the common case
        s, pair_count = _SURROGATE_PAIR_RE.subn(_join_surrogate_pair, s)
        if pair_count:
            warnings.append(f"joined {_plural(pair_count, 'UTF-16 surrogate pair')}")
        s, lone_count = _SURROGATE_RE.subn("", s)
        if lone_count:
            warnings.append(f"removed {_plural(lone_count, 'lone surrogate')} (U+D800-U+DFFF)")
    if "\r" in s:
        # Line endings carry no meaning in Markdown; one convention keeps diffs honest.
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s, warnings


def _decode_cp1252(data: bytes, utf8_error: UnicodeDecodeError) -> str:
    """Windows-1252 reading of bytes that are not UTF-8, or `CorpusFormatError`."""
    utf8_sequences = _UTF8_SEQUENCE_RE.findall(data)
    high_bytes = len(data) - len(data.translate(None, _HIGH_BYTES))
    stray_bytes = high_bytes - sum(len(seq) for seq in utf8_sequences)
    bad = f"byte 0x{data[utf8_error.start]:02X} at offset {utf8_error.start}"
    if utf8_sequences and len(utf8_sequences) >= stray_bytes:
        # Mostly UTF-8 with a few damaged bytes (a truncated character, a pasted
        # fragment): a Windows-1252 reading would turn every accent into "Ã©".
        raise CorpusFormatError(
            "not UTF-8 or Windows-1252 text: the file is mostly UTF-8 "
            f"({_plural(len(utf8_sequences), 'non-ASCII character')}) but {bad} is not "
            "valid UTF-8; decoding it as Windows-1252 would garble the rest"
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        undefined = f"byte 0x{data[exc.start]:02X} at offset {exc.start}"
        reason = (
            f"{bad} is neither valid UTF-8 nor defined in Windows-1252"
            if exc.start == utf8_error.start
            else f"{bad} is not valid UTF-8 and {undefined} is undefined in Windows-1252"
        )
        raise CorpusFormatError(f"not UTF-8 or Windows-1252 text: {reason}") from None

    accented = sum(1 for _ in _NON_ASCII_LETTER_RE.finditer(text))
    ascii_letters = len(data) - len(data.translate(None, _ASCII_LETTER_BYTES))
    if accented >= _MIN_ACCENTED_LETTERS_TO_JUDGE and accented > _MAX_ACCENTED_LETTER_SHARE * (
        accented + ascii_letters
    ):
        raise CorpusFormatError(
            "not UTF-8 or Windows-1252 text: too many accented letters for Windows-1252; "
            "it is probably another legacy encoding (such as Windows-1251 or Shift_JIS), "
            "convert it to UTF-8 first"
        )
    return text


def _mojibake_sample(text: str) -> tuple[str, str] | None:
    """The first run of text that reads as UTF-8 misdecoded as Windows-1252, and its fix."""
    for match in _MOJIBAKE_RE.finditer(text):
        garbled = match.group()
        try:
            meant = garbled.encode("cp1252").decode("utf-8")
        except UnicodeError:
            continue
        return garbled, meant
    return None


def _join_surrogate_pair(match: re.Match[str]) -> str:
    high, low = match.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- header ------------------------------------------------------------------------------

_HEADER_INTRO = "> *The following text is extracted and transformed from the"
# Tolerant about the Markdown decoration (quote marker, emphasis, spacing) so that a
# hand-edited header is still recognised as one and gets a precise error, not "missing".
_HEADER_START_RE = re.compile(
    r"^\s*>?\s*\*?\s*The following text is extracted and transformed from\b", re.IGNORECASE
)
_HEADER_SUBJECT_RE = re.compile(
    r"extracted and transformed from the (?P<domain>.*?) privacy policy "
    r"that was archived on (?P<date>\S*?)\.?(?:\s|$)",
    re.IGNORECASE,
)
# The URL ends at the first ")" that closes the Markdown link; the source URL inside it
# is percent-encoded, so a ")" of its own would be written as %29.
_HEADER_LINK_RE = re.compile(r"\]\((?P<url>\S+?)\)(?=[\s*.]|$)")
_WAYBACK_URL_RE = re.compile(
    r"^https?://web\.archive\.org/web/(?P<timestamp>[^/]*?)(?P<modifier>[a-z]{2}_)?/(?P<source>.+)$",
    re.IGNORECASE,
)
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIMESTAMP_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$")
_ISO_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_DOMAIN_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

# The header date is the capture day in the corpus; a day either way allows for the
# date having been written in a local time zone.
_MAX_HEADER_DATE_DRIFT = timedelta(days=1)
# The web did not exist before 1991 and the Wayback Machine starts in 1996: an earlier
# "capture" is a typo or a garbled timestamp.
_EARLIEST_CAPTURE_YEAR = 1991

_MISSING_HEADER_HINT = (
    "missing or malformed header line; pass --domain and --captured-at to import a file without one"
)


def parse_header(line: str) -> Header:
    """Parse a corpus header line.

    Raises `CorpusFormatError` saying exactly what is wrong: a missing header, no
    Wayback URL, an impossible date or timestamp, an invalid domain, or a header date
    more than a day away from the Wayback timestamp.
    """
    line = line.strip().removeprefix("\ufeff")
    if not _HEADER_START_RE.match(line):
        snippet = line if len(line) <= 60 else line[:57] + "..."
        raise CorpusFormatError(
            f"missing header line: the file should start with {_HEADER_INTRO!r} "
            f"but starts with {snippet!r}"
        )

    subject = _HEADER_SUBJECT_RE.search(line)
    if subject is None:
        raise CorpusFormatError(
            "malformed header: expected '... from the <domain> privacy policy that was "
            "archived on <YYYY-MM-DD>.'"
        )
    domain = _validate_domain(subject.group("domain"))
    archived_on = _parse_header_date(subject.group("date"))

    link = _HEADER_LINK_RE.search(line, subject.end())
    if link is None:
        raise CorpusFormatError("malformed header: no Wayback URL")
    archive_url = link.group("url")
    wayback = _WAYBACK_URL_RE.match(archive_url)
    if wayback is None:
        raise CorpusFormatError(
            f"malformed header: {archive_url!r} is not a Wayback Machine URL "
            "(https://web.archive.org/web/<timestamp>/<url>)"
        )
    timestamp = wayback.group("timestamp")
    if not re.fullmatch(r"\d{14}", timestamp):
        raise CorpusFormatError(
            f"malformed header: Wayback timestamp {timestamp!r} should be 14 digits "
            "(YYYYMMDDhhmmss)"
        )
    captured_at = _parse_wayback_timestamp(timestamp)
    if abs(archived_on - captured_at.date()) > _MAX_HEADER_DATE_DRIFT:
        raise CorpusFormatError(
            f"header date {archived_on.isoformat()} does not match Wayback timestamp "
            f"{timestamp} ({captured_at.date().isoformat()})"
        )
    return Header(
        domain=domain,
        archived_on=archived_on,
        captured_at=captured_at,
        archive_url=archive_url,
        source_url=unquote(wayback.group("source")),
    )


def split_policy(
    text: str, *, domain: str | None = None, captured_at: datetime | None = None
) -> tuple[Header, str]:
    """Split a decoded policy file into its header and its Markdown body.

    The body is everything after the header line except the blank lines directly
    after it, otherwise untouched. A file without a header can still be imported when
    both `domain` and `captured_at` are given; the whole text is then the body. When
    the file has a header, the given `domain`/`captured_at` win over it. A header line
    that is present but malformed is always an error, so a broken header is neither
    imported as policy text nor silently discarded.
    """
    if domain is not None:
        domain = _validate_domain(domain)
    if captured_at is not None:
        captured_at = _as_utc(captured_at)

    # Blank lines before the header are harmless (an editor added them); skip them.
    start = _skip_blank_lines(text, 0)
    newline = text.find("\n", start)
    first_line = text[start:] if newline == -1 else text[start:newline]

    if _HEADER_START_RE.match(first_line.removeprefix("\ufeff")):
        header = parse_header(first_line)
        body_start = len(text) if newline == -1 else newline + 1
        body = text[_skip_blank_lines(text, body_start) :]
        if domain is not None or captured_at is not None:
            header = Header(
                domain=domain or header.domain,
                archived_on=captured_at.date() if captured_at else header.archived_on,
                captured_at=captured_at or header.captured_at,
                # The link still names the snapshot the text was taken from.
                archive_url=header.archive_url,
                source_url=header.source_url,
            )
    elif domain is not None and captured_at is not None:
        header = _header_from_overrides(domain, captured_at)
        body = text[start:]
    elif domain is not None or captured_at is not None:
        missing = "--captured-at" if domain is not None else "--domain"
        raise CorpusFormatError(
            f"missing header line; {missing} is needed too to import a file without one"
        )
    else:
        raise CorpusFormatError(_MISSING_HEADER_HINT)

    if not body.strip():
        raise CorpusFormatError("no policy text after the header line")
    return header, body


def parse_capture_time(value: str) -> datetime:
    """Parse a capture time given by a person or a file name, as an aware UTC datetime.

    Accepts `YYYY-MM-DD` (midnight UTC), `YYYY-MM-DDTHH:MM[:SS]` with an optional `Z` or
    `+HH:MM` offset (no offset means UTC), and 14-digit Wayback timestamps
    (`YYYYMMDDhhmmss`). Raises `CorpusFormatError` for other shapes and impossible dates.
    """
    value = value.strip()
    if _TIMESTAMP_RE.match(value):
        return _parse_wayback_timestamp(value)
    if match := _ISO_DATE_RE.match(value):
        parts = [int(p) for p in match.groups()]
        return _checked_datetime(value, "capture time", *parts)
    if match := _ISO_DATETIME_RE.match(value):
        year, month, day, hour, minute, second, offset = match.groups()
        moment = _checked_datetime(
            value,
            "capture time",
            *(int(p) for p in (year, month, day, hour, minute, second or 0)),
        )
        if offset and offset.upper() != "Z":
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            if shift >= timedelta(hours=24):
                raise CorpusFormatError(f"impossible time zone offset in capture time {value!r}")
            moment -= sign * shift
        return moment
    raise CorpusFormatError(
        f"unrecognised capture time {value!r}: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] "
        "or a 14-digit Wayback timestamp"
    )


def _parse_header_date(value: str) -> date:
    match = _ISO_DATE_RE.match(value)
    if match is None:
        raise CorpusFormatError(f"malformed header: archive date {value!r} is not YYYY-MM-DD")
    try:
        return date(*(int(p) for p in match.groups()))
    except ValueError:
        raise CorpusFormatError(f"impossible header date {value}") from None


def _parse_wayback_timestamp(timestamp: str) -> datetime:
    match = _TIMESTAMP_RE.match(timestamp)
    if match is None:
        raise CorpusFormatError(f"malformed Wayback timestamp {timestamp!r}")
    return _checked_datetime(timestamp, "capture timestamp", *(int(p) for p in match.groups()))


def _checked_datetime(original: str, what: str, *parts: int) -> datetime:
    try:
        moment = datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
    except ValueError:
        raise CorpusFormatError(f"impossible {what} {original}") from None
    if moment.year < _EARLIEST_CAPTURE_YEAR:
        raise CorpusFormatError(
            f"impossible {what} {original}: before the web existed ({_EARLIEST_CAPTURE_YEAR})"
        )
    return moment


def _validate_domain(value: str) -> str:
    """The domain lowercased, or `CorpusFormatError` if it is not a plausible host name."""
    domain = value.strip().lower()
    labels = domain.split(".")
    if (
        not domain
        or len(domain) > 253
        or len(labels) < 2
        or not all(_DOMAIN_LABEL_RE.match(label) for label in labels)
    ):
        raise CorpusFormatError(
            f"invalid domain {value!r}: expected a host name such as example.com "
            "(letters, digits, hyphens and dots; IDNs in xn-- form)"
        )
    return domain


def _header_from_overrides(domain: str, captured_at: datetime) -> Header:
    timestamp = captured_at.strftime("%Y%m%d%H%M%S")
    return Header(
        domain=domain,
        archived_on=captured_at.date(),
        captured_at=captured_at,
        # Not the policy's own URL (unknown without a header): the site's front page at
        # that moment, which the Wayback Machine resolves to the nearest capture.
        archive_url=f"https://web.archive.org/web/{timestamp}id_/{domain}",
        source_url=f"http://{domain}/",
    )


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime here comes from our own parsing or a test; the corpus is UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _skip_blank_lines(text: str, pos: int) -> int:
    """Index of the first line at or after `pos` that has something besides spaces/tabs."""
    while True:
        newline = text.find("\n", pos)
        if newline == -1 or text[pos:newline].strip(" \t"):
            return pos
        pos = newline + 1


def header_line(domain: str, timestamp: str, source_url: str | None = None) -> str:
    """A corpus header line exactly as the Princeton-Leuven files have it."""
    source = quote(source_url or f"http://www.{domain}/privacy", safe="")
    day = f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}"
    return (
        f"> *The following text is extracted and transformed from the {domain} privacy policy "
        f"that was archived on {day}. Please check the [original snapshot on the Wayback Machine]"
        f"(https://web.archive.org/web/{timestamp}id_/{source}) for the most accurate "
        "reproduction.*"
    )
