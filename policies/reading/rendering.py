"""Markdown of archived policies to safe HTML (whose text is the readable text: see text.py).

The Markdown comes from html2text run over Wayback Machine captures, so it is untrusted and has
its own quirks: links rewritten to web.archive.org paths that lead nowhere, tables whose rows have
more cells than their header, backslash escapes everywhere. Both functions read the same
markdown-it token stream (CommonMark plus GFM tables, raw HTML shown as text), so what the diff
compares is what the page shows.

Pure module: no Django, no ORM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import mdTrim
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_block.table import escapedSplit, getLine, table
from markdown_it.token import Token

__all__ = ["RENDER_VERSION", "markdown_tokens", "render_markdown"]

# Bump when render_markdown's output changes, so stored section HTML is rendered again.
RENDER_VERSION = 1

_ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code",
    "em", "strong", "a", "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "del", "ins",
    "sup", "sub",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
_URL_SCHEMES = {"http", "https", "mailto"}

# Links that still lead somewhere: absolute http(s) and mailto. Anything else (relative paths,
# fragments, javascript:, data:) is shown as its link text.
_LIVE_SCHEME_RE = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
# html2text rewrote the captured page's relative links against web.archive.org. Only those that
# carry a 14-digit capture timestamp (/web/20050622043445/..., /web/20050622043445id_/...) open a
# capture; the rest are 404s.
_ARCHIVE_LINK_RE = re.compile(r"(?:https?:)?//web\.archive\.org(?::\d+)?(?=[/?#]|$)", re.IGNORECASE)
_ARCHIVE_CAPTURE_PATH_RE = re.compile(r"/web/\d{14}")


def _table_keeping_all_cells(
    state: StateBlock, start_line: int, end_line: int, silent: bool
) -> bool:
    """GFM tables, except that rows with more cells than the header keep the extra cells.

    The GFM rule drops cells beyond the header's count; html2text's tables of layout debris
    often have them, and dropping them would lose text. The extra cells are added to their row,
    and every row and the header are padded to the widest row so the table stays rectangular.
    """
    first_token = len(state.tokens)
    if not table(state, start_line, end_line, silent):
        return False
    if not silent:
        state.tokens[first_token:] = _widen_table(state, state.tokens[first_token:])
    return True


def _widen_table(state: StateBlock, tokens: list[Token]) -> list[Token]:
    # Cells of each body line, split exactly as the table rule splits them.
    cells_by_line: dict[int, list[str]] = {}
    for token in tokens:
        if token.type == "tr_open" and token.map and token.map[0] > tokens[0].map[0] + 1:
            line = token.map[0]
            columns = escapedSplit(mdTrim(getLine(state, line)))
            if columns and columns[0] == "":
                columns.pop(0)
            if columns and columns[-1] == "":
                columns.pop()
            cells_by_line[line] = columns
    header_width = sum(1 for token in tokens if token.type == "th_open")
    width = max([header_width, *map(len, cells_by_line.values())])
    if width == header_width:
        return tokens

    widened: list[Token] = []
    row_line: int | None = None
    row_cells = 0
    for token in tokens:
        if token.type == "tr_open":
            row_line = token.map[0] if token.map else None
            row_cells = 0
        elif token.type in ("th_open", "td_open"):
            row_cells += 1
        elif token.type == "tr_close":
            is_header = row_line == tokens[0].map[0]
            extra = [] if is_header else cells_by_line.get(row_line, [])[row_cells:]
            tag = "th" if is_header else "td"
            for index in range(row_cells, width):
                content = extra[index - row_cells] if index - row_cells < len(extra) else ""
                widened.extend(_cell_tokens(tag, content, token.level + 1, row_line))
        widened.append(token)
    return widened


def _cell_tokens(tag: str, content: str, level: int, line: int | None) -> list[Token]:
    line_map = [line, line + 1] if line is not None else None
    cell = [
        Token(f"{tag}_open", tag, 1, level=level),
        Token("inline", "", 0, content=mdTrim(content), map=line_map, children=[], level=level + 1),
        Token(f"{tag}_close", tag, -1, level=level),
    ]
    for token in cell:
        token.block = True  # as the table rule's own tokens, so they render one per line
    return cell


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable("table")
    parser.block.ruler.at("table", _table_keeping_all_cells, {"alt": ["paragraph", "reference"]})
    # Accept every destination at parse time so that a javascript: or relative link becomes its
    # link text (in _tidy_inline) instead of staying as raw "[text](url)" syntax on the page;
    # _tidy_inline and then nh3 decide what may stay a link.
    parser.validateLink = lambda url: True  # type: ignore[method-assign]
    return parser


_PARSER = _make_parser()
_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ALLOWED_ATTRIBUTES,
    url_schemes=_URL_SCHEMES,
    link_rel="nofollow noopener noreferrer",
    strip_comments=True,
    url_relative="deny",
)


def render_markdown(text: str) -> str:
    """Render untrusted Markdown to HTML that is safe to insert into a page.

    Raw HTML in the Markdown is shown as text; images are shown as their alt text; links keep
    only http(s) and mailto destinations, and a web.archive.org link without a capture timestamp
    (which leads nowhere) is shown as its text. Links get rel="nofollow noopener noreferrer".
    The result then goes through nh3 with an explicit allowlist of tags, attributes and URL
    schemes, so a parser surprise still cannot produce script, event handlers or styles.
    """
    html = _PARSER.renderer.render(markdown_tokens(text), _PARSER.options, {})
    return _CLEANER.clean(html)


def markdown_tokens(text: str) -> list[Token]:
    """The token stream `render_markdown` renders: links that lead nowhere unwrapped, images
    turned into their alt text, column alignment as an attribute. The readable text
    (text.section_text) is read from these same tokens."""
    tokens = _PARSER.parse(text)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _tidy_inline(token.children)
        elif token.type in ("th_open", "td_open"):
            _style_to_align(token)
    return tokens


def _is_live_link(href: str) -> bool:
    if not _LIVE_SCHEME_RE.match(href):
        return False
    archive = _ARCHIVE_LINK_RE.match(href)
    return archive is None or _ARCHIVE_CAPTURE_PATH_RE.match(href, archive.end()) is not None


def _tidy_inline(children: list[Token]) -> list[Token]:
    """Unwrap links that lead nowhere (keeping their text) and turn images into their alt text."""
    tidied: list[Token] = []
    kept_links: list[bool] = []
    for child in children:
        if child.type == "link_open":
            keep = _is_live_link(child.attrGet("href") or "")
            kept_links.append(keep)
            if keep:
                tidied.append(child)
        elif child.type == "link_close":
            if kept_links.pop() if kept_links else True:
                tidied.append(child)
        elif child.type == "image":
            alt = _inline_text(child.children or [])
            if alt:
                tidied.append(Token("text", "", 0, content=alt, level=child.level))
        else:
            tidied.append(child)
    return tidied


def _style_to_align(token: Token) -> None:
    # markdown-it writes column alignment as a style attribute, which nh3 (rightly) strips.
    style = token.attrGet("style")
    token.attrs.pop("style", None)
    if style and style.startswith("text-align:"):
        token.attrSet("align", style.removeprefix("text-align:"))


def _inline_text(children: Iterable[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "text_special", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return "".join(parts)
