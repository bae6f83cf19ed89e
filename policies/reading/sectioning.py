"""Split a policy's Markdown body into sections at its headings.

The bodies come from html2text run over Wayback Machine captures, so "headings" are both real ATX
headings and paragraphs that are wholly bold (the usual pseudo-heading of hand-made HTML). The
splitter is a single pass over the lines with just enough of CommonMark's block structure (fences,
indented code, lists, blockquotes, tables) to avoid splitting inside them. It never rewrites text:
every section is an exact slice of the body, and the slices join back to the body.

Pure module: no Django, no ORM, so the importer, the views and the tests can all call it directly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["SectionPart", "page_title", "split_sections", "split_sections_and_title"]

_PREAMBLE = "Preamble"

# Long bold pseudo-headings would make unwieldy URL fragments; the heading keeps the full text.
_MAX_SLUG_LENGTH = 80

# One line with its ending. CommonMark ends lines at \n, \r\n or a lone \r; str.splitlines() would
# also split at \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029, which Markdown treats as ordinary text.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_ATX_RE = re.compile(r"(#{1,6})(?=[ \t]|$)")
_LIST_MARKER_RE = re.compile(r"(?:[*+-]|([0-9]{1,9})[.)])(?=[ \t]|$)")
_FENCE_RE = re.compile(r"`{3,}|~{3,}")
_DELIMITER_ROW_RE = re.compile(r"\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?")

# Heading clean-up. The link-destination pattern has disjoint alternatives, so it cannot backtrack
# badly even on a long bold paragraph.
_DESTINATION = r"\((?:[^()\\]|\\.|\([^()]*\))*\)"
_PILCROW_LINK_RE = re.compile(r"\[\s*¶\s*\]" + _DESTINATION)
_WIKI_EDIT_LINK_RE = re.compile(r"\[\[edit\]" + _DESTINATION + r"\]", re.IGNORECASE)
_LINK_RE = re.compile(r"!?\[([^\[\]]*)\]" + _DESTINATION)
_AUTOLINK_RE = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]*)>", re.IGNORECASE)
# CommonMark lets a backslash escape any ASCII punctuation character; html2text escapes `1\.`.
_ESCAPE_OR_EMPHASIS_RE = re.compile(r"\\([!-/:-@\[-`{-~])|[*_]+|`+")


@dataclass(frozen=True, slots=True)
class SectionPart:
    """One section of a body: its heading, its depth and its exact Markdown text."""

    heading: str
    level: int
    text: str
    anchor: str


@dataclass(frozen=True, slots=True)
class _Boundary:
    offset: int
    heading: str
    level: int


@dataclass(frozen=True, slots=True)
class _Line:
    offset: int
    content: str  # without the line ending


def split_sections(body: str) -> list[SectionPart]:
    """Split a Markdown body into sections; the parts' texts joined give back `body` exactly.

    A section starts at:

    - every ATX heading `##` to `######` (up to three leading spaces). A heading with no text of
      its own, like `###   ` or `## [](image-link)`, takes its title from the next non-blank
      line, which then belongs to the heading; with no plain-text line there to borrow, the
      empty heading is not a boundary;
    - every `#` heading after the first one, at level 2. The first `#` heading is the page title
      (see `page_title`): it does not start a section and stays inside the section it is in;
    - every paragraph that is wholly bold (`**Text**`, `__Text__`, `**_Text_**`, `_**Text**_`),
      or whose first line is wholly bold and ends in a hard line break (two spaces or a
      backslash); the bold line is then the heading. Its level is one deeper than the last ATX
      heading that started a section (at most 6), or 2 before any. The `**` must hug the text as
      CommonMark requires (`** _text_**` is literal asterisks, not bold); a bold line containing
      `|` is taken for table debris, not a heading.

    Nothing inside a fenced or indented code block, a list (including its continuation lines),
    a blockquote (including its lazy continuation lines) or a pipe table starts a section.
    Setext headings (`Text` over `---`) are not boundaries: html2text writes ATX headings, and
    the corpus uses `---` lines as rules. Lines of only whitespace (NBSP included) count as blank.

    Text before the first boundary is the "Preamble" part (level 1), kept even when it is only
    whitespace so nothing is lost; it is left out only when the body starts with a boundary.
    Anchors are slugs of the headings, made unique with "-2", "-3"... An empty body gives [].
    """
    return split_sections_and_title(body)[0]


def split_sections_and_title(body: str) -> tuple[list[SectionPart], str]:
    """`split_sections(body)` and `page_title(body)` from one pass over the body."""
    if not body:
        return [], ""
    boundaries, title = _scan(_split_lines(body))
    if not boundaries or boundaries[0].offset > 0:
        boundaries.insert(0, _Boundary(0, _PREAMBLE, 1))
    ends = [*(boundary.offset for boundary in boundaries[1:]), len(body)]
    anchors = _unique_anchors([boundary.heading for boundary in boundaries])
    parts = [
        SectionPart(
            heading=boundary.heading,
            level=boundary.level,
            text=body[boundary.offset : end],
            anchor=anchor,
        )
        for boundary, end, anchor in zip(boundaries, ends, anchors, strict=True)
    ]
    return parts, title or ""


def page_title(body: str) -> str:
    """Return the plain text of the body's first `#` heading (the page title), or "" if none.

    Only a real level-1 ATX heading counts: not one inside code, a list or a blockquote. An empty
    `#` takes its title from the next plain-text line, as other empty headings do.
    """
    _, title = _scan(_split_lines(body))
    return title or ""


def _split_lines(body: str) -> list[_Line]:
    lines = []
    for match in _LINE_RE.finditer(body):
        raw = match.group()
        content = raw.rstrip("\r\n")
        lines.append(_Line(match.start(), content))
    return lines


def _indent_width(content: str) -> int:
    """Column of the first non-space character, with tabs stopping at multiples of four."""
    width = 0
    for char in content:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _is_blank(content: str) -> bool:
    return not content or content.isspace()


def _is_thematic_break(stripped: str) -> bool:
    if len(stripped) < 3 or stripped[0] not in "-*_":
        return False
    marks = stripped.replace(" ", "").replace("\t", "")
    return len(marks) >= 3 and marks == stripped[0] * len(marks)


def _list_item_content_column(content: str, indent: int, after_paragraph: bool) -> int | None:
    """Column where a list item's content starts, or None if the line opens no list item.

    A list item may interrupt a paragraph only if it is non-empty and, when ordered, starts at
    1; otherwise the line is just more paragraph text (CommonMark's rule, which keeps a sentence
    wrapped before "2. foo" out of a list).
    """
    stripped = content.lstrip(" \t")
    match = _LIST_MARKER_RE.match(stripped)
    if match is None:
        return None
    rest = stripped[match.end() :]
    if after_paragraph and (
        _is_blank(rest) or (match.group(1) is not None and int(match.group(1)) != 1)
    ):
        return None
    marker_end = indent + match.end()
    if _is_blank(rest):
        return marker_end + 1
    spaces = _indent_width(rest)
    # Five or more spaces after the marker mean indented code inside the item, one space is the gap.
    return marker_end + (spaces if spaces <= 4 else 1)


def _fence_opening(stripped: str) -> str | None:
    match = _FENCE_RE.match(stripped)
    if match is None:
        return None
    fence = match.group()
    if fence[0] == "`" and "`" in stripped[match.end() :]:
        return None  # a backtick fence's info string cannot contain backticks: inline code
    return fence


def _closes_fence(stripped: str, fence: str) -> bool:
    run = len(stripped) - len(stripped.lstrip(fence[0]))
    return run >= len(fence) and _is_blank(stripped[run:])


def _atx_heading(stripped: str) -> tuple[int, str] | None:
    """Level and raw text of an ATX heading line (leading indentation already removed)."""
    match = _ATX_RE.match(stripped)
    if match is None:
        return None
    text = stripped[match.end() :].strip(" \t")
    # An optional closing run of '#' goes if a space separates it (or it is all there is).
    without_closing = text.rstrip("#")
    if without_closing != text and (not without_closing or without_closing[-1] in " \t"):
        text = without_closing.rstrip(" \t")
    return len(match.group(1)), text


def _is_table_start(content: str, next_content: str | None) -> bool:
    """A GFM table: a row with `|` followed by a delimiter row such as `---|---`."""
    if next_content is None or "|" not in content:
        return False
    return _DELIMITER_ROW_RE.fullmatch(next_content.strip()) is not None


def _interrupts_paragraph(content: str) -> bool:
    """Whether this line ends the paragraph before it (so that paragraph is complete)."""
    if _is_blank(content):
        return True
    indent = _indent_width(content)
    if indent >= 4:
        return False  # lazy continuation: indented code cannot interrupt a paragraph
    stripped = content.lstrip(" \t")
    return (
        _atx_heading(stripped) is not None
        or _fence_opening(stripped) is not None
        or stripped.startswith(">")
        or _is_thematic_break(stripped)
        or stripped.rstrip(" \t").strip("=") == ""  # setext underline of the line before
        or _list_item_content_column(content, indent, after_paragraph=True) is not None
    )


def _ends_with_hard_break(content: str) -> bool:
    return content.endswith("  ") or content.rstrip(" \t").endswith("\\")


def _bold_line_text(content: str) -> str | None:
    """The inner text of a line that is wholly bold (possibly also italic), else None."""
    text = content.strip()
    if text.endswith("\\"):
        text = text[:-1].rstrip()  # a backslash hard break, not part of the heading
    if "|" in text:
        return None
    bold = False
    while True:
        for delimiter in ("**", "__"):
            if len(text) > 4 and text.startswith(delimiter) and text.endswith(delimiter):
                inner = text[2:-2]
                # Bold needs its delimiters to hug the text, and one pair must wrap it all:
                # `**Cookies.** Third parties **x**` starts and ends with ** but is run-in bold.
                if inner[0].isspace() or inner[-1].isspace() or delimiter in inner:
                    return None
                text, bold = inner, True
                break
        else:
            if len(text) > 2 and text[0] == text[-1] and text[0] in "*_":
                # Italic around or inside the bold; html2text leaves stray spaces inside it
                # (`_**What information do we collect?** _`), so be lenient here.
                text = text[1:-1].strip()
                continue
            return text if bold else None


def _plain_text(markdown: str) -> str:
    """Heading text without Markdown syntax, whitespace collapsed."""
    text = _PILCROW_LINK_RE.sub("", markdown)
    text = _WIKI_EDIT_LINK_RE.sub("", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _AUTOLINK_RE.sub(r"\1", text)
    text = _ESCAPE_OR_EMPHASIS_RE.sub(_unescape_or_drop_emphasis, text)
    return " ".join(text.split())


def _unescape_or_drop_emphasis(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    run = match.group()
    if run[0] == "`" or len(run) > 1:
        return ""
    # A single '*' or '_' between two word characters is a literal (snake_case), not emphasis.
    source, start, end = match.string, match.start(), match.end()
    between_words = start > 0 and end < len(source)
    if between_words and source[start - 1].isalnum() and source[end].isalnum():
        return run
    return ""


def _slug(heading: str) -> str:
    """Django-free slug: lowercase, Unicode letters, digits and marks kept, others to '-'."""
    slug_chars: list[str] = []
    for char in unicodedata.normalize("NFKC", heading).lower():
        if unicodedata.category(char)[0] in "LNM":
            slug_chars.append(char)
        elif slug_chars and slug_chars[-1] != "-":
            slug_chars.append("-")
        if len(slug_chars) > _MAX_SLUG_LENGTH:
            break  # a long bold paragraph: only the start can end up in the slug
    slug = "".join(slug_chars)[:_MAX_SLUG_LENGTH].strip("-")
    return slug or "section"


def _unique_anchors(headings: list[str]) -> list[str]:
    """Slugs of the headings, the repeats numbered "-2", "-3"... skipping any already taken."""
    anchors: list[str] = []
    used: set[str] = set()
    # Where to resume numbering each slug, so a thousand "Cookies" headings stay linear.
    next_number: dict[str, int] = {}
    for heading in headings:
        slug = anchor = _slug(heading)
        number = next_number.get(slug, 2)
        while anchor in used:
            anchor = f"{slug}-{number}"
            number += 1
        next_number[slug] = number
        used.add(anchor)
        anchors.append(anchor)
    return anchors


def _borrowed_title(lines: list[_Line], start: int) -> tuple[int, str] | None:
    """For an empty heading: the index and plain text of the next non-blank line, if it is text.

    Returns None when that line is missing or is itself structure (a heading, list, fence,
    quote, rule, table or indented code), since it could not be the heading's title.
    """
    for index in range(start, len(lines)):
        content = lines[index].content
        if _is_blank(content):
            continue
        if _interrupts_paragraph(content) or _indent_width(content) >= 4 or "|" in content:
            return None
        title = _plain_text(content)
        return (index, title) if title else None
    return None


def _scan(lines: list[_Line]) -> tuple[list[_Boundary], str | None]:
    """One pass over the lines: the section boundaries and the page title (None if none)."""
    scanner = _Scanner(lines)
    for index, line in enumerate(lines):
        scanner.read(index, line)
    return scanner.boundaries, scanner.title


class _Scanner:
    """The state CommonMark needs to know whether a line can be a heading at all: open fence,
    indented code, table, the content column of the open list, and what the previous line was
    ("blank", "para" for paragraph text that a lazy line could continue, "quote", "other" for
    lines that close themselves such as headings, rules and code)."""

    def __init__(self, lines: list[_Line]) -> None:
        self.lines = lines
        self.boundaries: list[_Boundary] = []
        self.title: str | None = None
        self.last_heading_level: int | None = None
        self.fence: str | None = None
        self.fence_indent = 0
        self.in_indented_code = False
        self.in_table = False
        self.list_column: int | None = None
        self.previous = "blank"
        self.title_line_of_empty_heading = -1

    def read(self, index: int, line: _Line) -> None:
        content = line.content
        if self.fence is not None:
            stripped = content.lstrip(" \t")
            if _indent_width(content) < self.fence_indent + 4 and _closes_fence(
                stripped, self.fence
            ):
                self.fence = None
            self.previous = "other"
            return
        if _is_blank(content):
            self.in_table = False
            self.previous = "blank"
            return
        if index == self.title_line_of_empty_heading:
            self.previous = "para"  # already used as the heading above it
            return
        indent = _indent_width(content)
        if self.in_indented_code:
            if indent >= 4:
                return
            self.in_indented_code = False
        if self.in_table or self._continues_list(content, indent):
            return
        self._read_block_start(index, line, indent)

    def _continues_list(self, content: str, indent: int) -> bool:
        """True when the line belongs to the open list (and so cannot start a section)."""
        if self.list_column is None:
            return False
        if indent >= self.list_column:
            self.previous = "para"
            return True
        if not _is_thematic_break(content.lstrip(" \t")):
            column = _list_item_content_column(content, indent, after_paragraph=False)
            if column is not None:
                self.list_column = column  # a sibling or outer item: the list goes on
                self.previous = "para"
                return True
            if self.previous == "para" and not _interrupts_paragraph(content):
                return True  # lazy continuation of the item's paragraph
        self.list_column = None
        return False

    def _read_block_start(self, index: int, line: _Line, indent: int) -> None:
        content = line.content
        stripped = content.lstrip(" \t")
        after_paragraph = self.previous in ("para", "quote")
        if indent >= 4:
            if not after_paragraph:
                self.in_indented_code = True
                self.previous = "other"
            return  # otherwise a lazy continuation line
        if (opening := _fence_opening(stripped)) is not None:
            self.fence, self.fence_indent = opening, indent
            self.previous = "other"
            return
        if stripped.startswith(">"):
            self.previous = "quote"
            return
        if (heading := _atx_heading(stripped)) is not None:
            self._read_heading(index, line, *heading)
            return
        if _is_thematic_break(stripped):
            self.previous = "other"
            return
        column = _list_item_content_column(content, indent, after_paragraph)
        if column is not None:
            self.list_column = column
            self.previous = "para"
            return
        next_content = self.lines[index + 1].content if index + 1 < len(self.lines) else None
        if _is_table_start(content, next_content):
            self.in_table = True
            return
        if not after_paragraph:
            self._read_bold_line(line, next_content)
        self.previous = "para"

    def _read_heading(self, index: int, line: _Line, level: int, raw_text: str) -> None:
        heading_text = _plain_text(raw_text)
        self.previous = "other"
        if not heading_text:
            borrowed = _borrowed_title(self.lines, index + 1)
            if borrowed is None:
                return  # an empty heading with nothing to name it: plain text
            self.title_line_of_empty_heading, heading_text = borrowed
        if level == 1 and self.title is None:
            self.title = heading_text
            return
        level = max(level, 2)
        self.boundaries.append(_Boundary(line.offset, heading_text, level))
        self.last_heading_level = level

    def _read_bold_line(self, line: _Line, next_content: str | None) -> None:
        """A paragraph that is one bold line is a pseudo-heading, one level below the last."""
        content = line.content
        if (bold := _bold_line_text(content)) is None:
            return
        whole_paragraph = next_content is None or _interrupts_paragraph(next_content)
        if whole_paragraph or _ends_with_hard_break(content):
            heading_text = _plain_text(bold)
            if heading_text:
                last = self.last_heading_level
                level = 2 if last is None else min(last + 1, 6)
                self.boundaries.append(_Boundary(line.offset, heading_text, level))
