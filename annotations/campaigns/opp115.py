"""The OPP-115 corpus as its authors release it -> policies, segments and data practices.

Layout (a folder, or a .zip of it, possibly under one top folder): `sanitized_policies/
<n>_<domain>.html` (segments separated by "|||", each holding HTML), `annotations/
<n>_<domain>.csv` (Excel dialect, no header: annotation id, batch id, annotator id, policy id,
segment index, category name, attributes as JSON, date, policy URL) and `documentation/
policies_opp115.csv` (Policy UID, Policy URL, Policy collection date, Policy last updated date).

Joins: a policy's text and its annotations by file name (the annotations' policy id column is
an internal id, not the file's number); its collection date by the file's number, which is the
Policy UID of policies_opp115.csv (105_amazon.com -> UID 105). Its URL is the annotations' URL
column (the full URL, with scheme), else http:// + the documentation's URL.

A segment's *text* is what annotators read: <br> and block tags become line breaks, other tags
are dropped, whitespace runs become one space (a line break if they hold one), lines are
trimmed and empty lines dropped, control characters dropped. Its *markdown* is that text with
each line a paragraph and Markdown syntax backslash-escaped, so that
`policies.reading.text.section_text(markdown) == text`.

Span offsets count the segment's HTML, and some are wrong, so each attribute span is checked:
- placeholder: no selectedText, or one that is "Not selected", "null" or only markup and
  whitespace ("", "<br>"), or offsets -1: not a span (counted);
- exact: html[start:end] == selectedText; the HTML offsets are mapped to text offsets;
- shifted: selectedText found elsewhere in the HTML (the occurrence nearest to `start`);
- normalised: found in the text only after stripping tags and collapsing whitespace (the
  release's selectedText often omits the markup between a heading and its paragraph);
- whole: not found; the span covers the whole segment.
A practice without any real span gets one span (attribute "") over the whole segment.

Bad input in a row (wrong number of columns, a segment index out of range, unreadable JSON, an
unknown category name) does not stop the reading: the row is skipped and reported in the
policy's `problems` with its file and line, and the rest is read. With `strict=True` the first
such problem raises Opp115Error instead. A missing collection date is reported the same way
(`skipped=False`: nothing was left out) and never raises. A layout that cannot be read at all (no
sanitized_policies/, a bad zip, an annotations file without its policy) always raises.

Pure module: reads files, returns data; no Django, no ORM.
"""

from __future__ import annotations

import bisect
import csv
import html as html_lib
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

__all__ = [
    "CATEGORY_SLUGS",
    "Opp115Error",
    "OppPolicy",
    "OppPractice",
    "OppProblem",
    "OppSegment",
    "OppSpan",
    "attribute_slug",
    "read_corpus",
    "segment_markdown",
    "segment_text",
]

_TAXONOMY = Path(__file__).resolve().parent.parent / "taxonomies" / "opp115.json"

_TAXONOMY_DATA = json.loads(_TAXONOMY.read_text(encoding="utf-8"))
# Category name in the release -> slug in the default taxonomy (the names are the same).
CATEGORY_SLUGS: dict[str, str] = {c["name"]: c["slug"] for c in _TAXONOMY_DATA["categories"]}
# Attribute names differ in case ("Do Not Track policy" in the release, "Do Not Track Policy"
# in the taxonomy), so attributes are matched case-insensitively: see attribute_slug.
_ATTRIBUTE_SLUGS = {a["name"].casefold(): a["slug"] for a in _TAXONOMY_DATA["attributes"]}

_PLACEHOLDER_TEXTS = frozenset(["Not selected", "null"])
_COLUMNS = 9
# A span anchored to the whole segment because its text was not found is counted "not_found".
_COUNTED = {"whole": "not_found"}


def attribute_slug(name: str) -> str | None:
    """The default taxonomy's slug for an attribute name of the release, or None."""
    return _ATTRIBUTE_SLUGS.get(name.strip().casefold())


class Opp115Error(ValueError):
    """Input that cannot be read; the message names the file (and line)."""


@dataclass(frozen=True)
class OppProblem:
    file: str
    line: int | None  # None: about the whole file
    message: str
    skipped: bool = True  # a row that was not read (else a fact that is missing, e.g. a date)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class OppSpan:
    attribute: str  # "" for a practice anchored to its whole segment
    start: int  # offsets into OppSegment.text
    end: int
    how: str  # "exact" | "shifted" | "normalised" | "whole"


@dataclass
class OppSegment:
    index: int
    html: str
    markdown: str  # section body: section_text(markdown) == text
    text: str  # what annotators read


@dataclass
class OppPractice:
    line: int  # 1-based line in the annotations CSV
    annotation_id: str
    annotator_id: str
    segment_index: int
    category: str  # the release's category name; CATEGORY_SLUGS gives the slug
    attributes: dict[str, str]  # attribute name -> value
    spans: list[OppSpan]


@dataclass
class OppPolicy:
    name: str  # "105_amazon.com"
    domain: str  # "amazon.com"
    collected: date | None  # None when policies_opp115.csv has no date (see problems)
    url: str
    segments: list[OppSegment]
    practices: list[OppPractice]
    problems: list[OppProblem] = field(default_factory=list)
    # Attribute spans by how they were anchored: "exact", "shifted", "normalised",
    # "not_found" (anchored to the whole segment); "placeholder": attribute entries that were
    # no span; "no_span": practices anchored to their whole segment for want of a real span.
    counts: Counter[str] = field(default_factory=Counter)


# Tags whose start or end breaks a line, as in the reader (policies.reading.clauses).
_BLOCK_TAGS = frozenset({
    "p", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "table",
    "thead", "tbody", "pre", "blockquote", "dt", "dd", "dl", "div", "hr", "br", "caption",
    "figcaption", "section", "article", "header", "footer", "address",
})  # fmt: skip
_MARKUP = re.compile(
    r"<(?P<tag>/?[A-Za-z][A-Za-z0-9]*)(?:\s[^>]*)?/?>|<!--.*?-->"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)",
    re.DOTALL,
)


@dataclass(frozen=True)
class _Text:
    text: str
    positions: list[int]  # for each character of text, the HTML offset it comes from

    def to_text(self, start: int, end: int) -> tuple[int, int]:
        """HTML offsets [start, end) -> the text offsets of the characters they cover."""
        return bisect.bisect_left(self.positions, start), bisect.bisect_left(self.positions, end)


def _raw_characters(html: str) -> Iterator[tuple[str | None, int]]:
    """Each text character with its HTML offset; None for a block tag (a line break)."""
    position = 0
    for match in _MARKUP.finditer(html):
        yield from ((c, position + n) for n, c in enumerate(html[position : match.start()]))
        tag = (match.group("tag") or "").lstrip("/").lower()
        if tag in _BLOCK_TAGS:
            yield None, match.start()
        elif match.group("entity"):
            yield from ((c, match.start()) for c in html_lib.unescape(match.group("entity")))
        position = match.end()
    yield from ((c, position + n) for n, c in enumerate(html[position:]))


def _tidy(html: str) -> _Text:
    """The segment's text and where each character comes from (see the module docstring)."""
    out: list[str] = []
    positions: list[int] = []
    pending, pending_at = "", 0  # the whitespace run not yet written: "", " " or "\n"
    for char, at in _raw_characters(html):
        if char is None or char.isspace():
            if not pending:
                pending_at = at
            pending = "\n" if char is None else pending or " "
        elif char >= " " and char != "\x7f":  # control characters are dropped
            if pending and out:
                out.append(pending)
                positions.append(pending_at)
            pending = ""
            out.append(char)
            positions.append(at)
    return _Text("".join(out), positions)


def segment_text(html: str) -> str:
    """What annotators read in a segment's HTML: see the module docstring."""
    return _tidy(html).text


# Backslash-escaped wherever they are: inline syntax, entities, raw HTML, tables, headings.
_ESCAPE = re.compile(r"([\\`*_\[\]<>#|~&!])")
# Escaped at the start of a line: list items, thematic breaks, setext underlines, ordered lists.
_LINE_START = re.compile(r"^(?:([-+=])|([0-9]+)([.)]))")


def segment_markdown(text: str) -> str:
    """Markdown whose readable text (section_text) is `text`, a tidy segment text: each line a
    paragraph, Markdown syntax backslash-escaped."""
    lines = (
        _LINE_START.sub(_escape_line_start, _ESCAPE.sub(r"\\\1", line)) for line in text.split("\n")
    )
    return "\n\n".join(lines)


def _escape_line_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"


# --- the release's files -------------------------------------------------------------------

_POLICY_NAME = re.compile(r"^(?P<number>[0-9]+)_(?P<domain>[^/]+)$")


class _Files:
    """The release's files by their path below the release folder, from a folder or a zip."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archive: zipfile.ZipFile | None = None
        if path.is_dir():
            names = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
            self._read: Callable[[str], bytes] = lambda name: (path / name).read_bytes()
        elif zipfile.is_zipfile(path):
            self.archive = zipfile.ZipFile(path)
            names = [n for n in self.archive.namelist() if not n.endswith("/")]
            self._read = self.archive.read
        else:
            raise Opp115Error(f"{path}: neither a folder nor a zip archive")
        names = [n for n in names if "__MACOSX" not in n]
        # The release folder: where sanitized_policies/ is (the top, or one folder down).
        tops = {n.rsplit("sanitized_policies/", 1)[0] for n in names if "sanitized_policies/" in n}
        if len(tops) != 1:
            self.close()
            raise Opp115Error(f"{path}: no sanitized_policies/ folder (or more than one)")
        self.top = tops.pop()
        self.names = {n[len(self.top) :]: n for n in names if n.startswith(self.top)}

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def where(self, name: str) -> str:
        return str(PurePosixPath(self.path.as_posix(), self.names.get(name, name)))

    def text(self, name: str) -> str:
        try:
            return self._read(self.names[name]).decode("utf-8")
        except (OSError, KeyError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
            raise Opp115Error(f"{self.where(name)}: cannot be read ({exc})") from exc

    def policies(self, folder: str, suffix: str) -> dict[str, str]:
        """<n>_<domain> -> path, for the files directly in `folder` with `suffix`."""
        found = {}
        for name in self.names:
            parent, _, file = name.rpartition("/")
            stem = file.removesuffix(suffix)
            if parent == folder and file.endswith(suffix) and _POLICY_NAME.match(stem):
                found[stem] = name
        return found


def read_corpus(path: Path, *, strict: bool = False) -> Iterator[OppPolicy]:
    """Each policy of an OPP-115 release (folder or .zip), in the order of the file numbers.

    Rows that cannot be read are reported in each policy's `problems` (or, with `strict`,
    raise Opp115Error); see the module docstring for the joins and the span checks.
    """
    files = _Files(Path(path))
    try:
        yield from _read_policies(files, strict)
    finally:
        files.close()


def _read_policies(files: _Files, strict: bool) -> Iterator[OppPolicy]:
    texts = files.policies("sanitized_policies", ".html")
    annotations = files.policies("annotations", ".csv")
    orphans = sorted(set(annotations) - set(texts))
    if orphans:
        raise Opp115Error(f"{files.where(annotations[orphans[0]])}: no sanitized_policies/ text")
    documented = _documentation(files)
    for name in sorted(texts, key=lambda n: (int(_POLICY_NAME.match(n)["number"]), n)):
        policy = _read_policy(files, name, texts[name], annotations.get(name), documented)
        skipped = [problem for problem in policy.problems if problem.skipped]
        if strict and skipped:
            raise Opp115Error(str(skipped[0]))
        yield policy


@dataclass(frozen=True)
class _Documented:
    line: int
    url: str
    collected: date | None


_DOCUMENTATION = "documentation/policies_opp115.csv"


def _documentation(files: _Files) -> dict[str, _Documented]:
    """Policy UID -> its row of documentation/policies_opp115.csv (empty if there is none)."""
    if _DOCUMENTATION not in files.names:
        return {}
    documented = {}
    rows = csv.reader(io.StringIO(files.text(_DOCUMENTATION), newline=""))
    for line, row in enumerate(rows, start=1):
        if line == 1 or not row or not row[0].strip().isdigit():
            continue  # the header, blank lines
        try:
            collected = date.fromisoformat(row[2].strip()) if len(row) > 2 else None
        except ValueError:
            collected = None
        documented[row[0].strip()] = _Documented(
            line, row[1].strip() if len(row) > 1 else "", collected
        )
    return documented


def _read_policy(
    files: _Files,
    name: str,
    text_path: str,
    csv_path: str | None,
    documented: dict[str, _Documented],
) -> OppPolicy:
    number, domain = _POLICY_NAME.match(name).group("number", "domain")
    htmls = files.text(text_path).split("|||")
    texts = [_tidy(html) for html in htmls]
    segments = [
        OppSegment(n, html, segment_markdown(text.text), text.text)
        for n, (html, text) in enumerate(zip(htmls, texts, strict=True))
    ]
    policy = OppPolicy(name, domain, None, "", segments, [])
    doc = documented.get(number)
    where = files.where(_DOCUMENTATION)
    if doc is None:
        policy.problems.append(
            OppProblem(where, None, f"no row for policy UID {number}: no collection date", False)
        )
    elif doc.collected is None:
        policy.problems.append(
            OppProblem(where, doc.line, f"policy UID {number} has no collection date", False)
        )
    else:
        policy.collected = doc.collected
    urls: Counter[str] = Counter()
    if csv_path is not None:
        _read_practices(policy, texts, files.where(csv_path), files.text(csv_path), urls)
    if urls:
        policy.url = urls.most_common(1)[0][0]
    elif doc is not None and doc.url:
        policy.url = doc.url if "://" in doc.url else f"http://{doc.url}"
    return policy


class _RowError(ValueError):
    pass


def _read_practices(
    policy: OppPolicy, texts: list[_Text], where: str, content: str, urls: Counter[str]
) -> None:
    """Read the practices of an annotations CSV into `policy`; bad rows become problems."""
    rows = csv.reader(io.StringIO(content, newline=""))
    line = 1
    for row in rows:
        if any(cell.strip() for cell in row):
            try:
                practice = _practice(row, line, policy, texts)
            except _RowError as exc:
                policy.problems.append(OppProblem(where, line, str(exc)))
            else:
                policy.practices.append(practice)
                if row[8].strip():
                    urls[row[8].strip()] += 1
        line = rows.line_num + 1


def _practice(row: list[str], line: int, policy: OppPolicy, texts: list[_Text]) -> OppPractice:
    if len(row) != _COLUMNS:
        raise _RowError(f"{len(row)} columns, expected {_COLUMNS}")
    annotation_id, _batch, annotator_id, _policy_id, index, category, raw = row[:7]
    if category not in CATEGORY_SLUGS:
        raise _RowError(f"unknown category {category!r}")
    try:
        segment_index = int(index)
    except ValueError:
        raise _RowError(f"segment index {index!r} is not a number") from None
    if not 0 <= segment_index < len(texts):
        raise _RowError(
            f"segment {segment_index} out of range (the policy has {len(texts)} segments)"
        )
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _RowError(f"attributes are not valid JSON ({exc})") from None
    if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
        raise _RowError("attributes must be a JSON object of objects")
    html, text = policy.segments[segment_index].html, texts[segment_index]
    attributes = {attribute: str(e.get("value", "")) for attribute, e in entries.items()}
    spans = []
    for attribute, entry in entries.items():
        span = _anchor(attribute, entry, html, text)
        policy.counts["placeholder" if span is None else _COUNTED.get(span.how, span.how)] += 1
        if span is not None:
            spans.append(span)
    if not spans:
        policy.counts["no_span"] += 1
        spans.append(OppSpan("", 0, len(text.text), "whole"))
    return OppPractice(
        line,
        annotation_id.strip(),
        annotator_id.strip(),
        segment_index,
        category,
        attributes,
        spans,
    )


def _anchor(attribute: str, entry: dict, html: str, text: _Text) -> OppSpan | None:
    """The span of one attribute entry in the segment's text; None for a placeholder."""
    selected = entry.get("selectedText")
    start, end = entry.get("startIndexInSegment"), entry.get("endIndexInSegment")
    if (
        not isinstance(selected, str)
        or selected.strip() in _PLACEHOLDER_TEXTS
        or -1 in (start, end)
    ):
        return None
    needle = _tidy(selected).text.replace("\n", " ")
    if not needle:
        return None  # only markup and whitespace: "", "<br>"
    offsets = isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(html)
    if offsets and html[start:end] == selected:
        return _mapped(attribute, text, start, end, "exact")
    hint = start if offsets else 0
    found = _nearest(html, selected, hint)
    if found >= 0:
        return _mapped(attribute, text, found, found + len(selected), "shifted")
    found = _nearest(text.text.replace("\n", " "), needle, text.to_text(hint, hint)[0])
    if found >= 0:
        return OppSpan(attribute, found, found + len(needle), "normalised")
    return OppSpan(attribute, 0, len(text.text), "whole")


def _mapped(attribute: str, text: _Text, start: int, end: int, how: str) -> OppSpan:
    """The span of HTML [start, end) in the text, without whitespace at its ends."""
    start, end = text.to_text(start, end)
    while start < end and text.text[start].isspace():
        start += 1
    while end > start and text.text[end - 1].isspace():
        end -= 1
    return OppSpan(attribute, start, end, how)


def _nearest(haystack: str, needle: str, hint: int) -> int:
    """The offset of the occurrence of `needle` nearest to `hint`, or -1."""
    best = -1
    found = haystack.find(needle)
    while found >= 0:
        if best < 0 or abs(found - hint) < abs(best - hint):
            best = found
        found = haystack.find(needle, found + 1)
    return best
