"""A section's readable text: the one derivation of it, and the facts taken from it.

The text a reader sees (`section_text`: the Markdown rendered and sanitised, then the text of
each block, trimmed, blocks joined by "\\n") is what tags point into, what the compare page
diffs, what lineage matches clauses in, what search snippets show and what words are counted
in. It is derived at import and stored in `Section.plain`; everything else reads that.

`TEXT_VERSION` names the derivation. Bump it when `section_text` (or the rendering or block
splitting under it) changes: `policies.reading.reader.refresh_texts` then derives every stored
text again, asks the apps that point into the text to re-anchor (`extensions.texts_changed`),
and clears stored comparisons.

Pure module: no Django, no ORM.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from markdown_it.token import Token

from policies.reading.clauses import BLOCK_TAGS
from policies.reading.rendering import markdown_tokens
from policies.reading.sectioning import SectionPart, split_sections_and_title

__all__ = [
    "TEXT_VERSION",
    "WORD_RE",
    "DerivedPolicy",
    "count_words",
    "derive_policy",
    "section_body",
    "section_text",
    "wording_hash",
]

TEXT_VERSION = 1

# A word: what word counts count and the diff's "words added/removed" count, everywhere.
WORD_RE = re.compile(r"\w+")


@functools.lru_cache(maxsize=4096)
def section_text(markdown: str) -> str:
    """The readable text of one section's Markdown, as the reader shows it.

    Read straight from the tokens `render_markdown` renders, split into blocks where the
    reader's HTML has a block element (`clauses.BLOCK_TAGS`), which gives the text of that HTML
    (`clauses.reader_text`, `mark_clauses(...).text`) without writing, sanitising and parsing
    the HTML: property tests hold the two equal. Cached: a revised policy keeps most of its
    sections word for word, and Markdown parsing is most of an import's Python time, so each
    distinct section is parsed once per process.
    """
    return "\n".join(_block_texts(markdown_tokens(markdown)))


def _block_texts(tokens: list[Token]) -> list[str]:
    """The text of each non-blank block, trimmed, as the HTML renderer would lay it out."""
    blocks: list[str] = []
    parts: list[str] = []

    def close_block() -> None:
        text = "".join(parts).strip()
        if text:
            blocks.append(text)
        parts.clear()

    for token in tokens:
        kind = token.type
        if kind == "inline":
            for child in token.children or ():
                kind = child.type
                if kind in _INLINE_TEXT:
                    parts.append(child.content)
                elif kind == "softbreak":
                    parts.append("\n")
                elif kind == "hardbreak":
                    close_block()  # <br>, a block tag of its own
        elif kind in ("fence", "code_block"):
            close_block()  # <pre><code>content</code></pre>
            parts.append(token.content)
            close_block()
        elif kind == "html_block":
            parts.append(token.content)
        elif not token.hidden and token.tag in BLOCK_TAGS:
            close_block()
    close_block()
    return blocks


# Inline tokens rendered as their (escaped) content; links, emphasis and the like add markup only.
_INLINE_TEXT = frozenset(["text", "text_special", "code_inline", "html_inline"])


def count_words(text: str) -> int:
    """Words in a readable text (runs of letters and digits; punctuation is not a word)."""
    return len(WORD_RE.findall(text))


def wording_hash(texts: Iterable[str]) -> str:
    """Hash of a policy's wording: its sections' readable texts, NFC, whitespace collapsed.

    Two captures are *unchanged* exactly when their hashes are equal: any change a reader can
    see (a word, a full stop turned into "!") changes it; re-wrapped lines, spacing and link
    destinations do not.
    """
    digest = hashlib.sha256()
    for text in texts:
        digest.update(" ".join(unicodedata.normalize("NFC", text).split()).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def section_body(text: str, heading: str, level: int) -> tuple[int, str]:
    """The section's text without its heading block, and where it starts in `text`.

    The compare page aligns headings on their own and diffs the rest; a level-1 section is the
    preamble, whose first block is not a heading of its own.
    """
    heading = " ".join(heading.split())
    if level > 1 and heading:
        first, newline, rest = text.partition("\n")
        if " ".join(first.split()) == heading:
            return len(first) + len(newline), rest
    return 0, text


class DerivedPolicy(NamedTuple):
    """What the importer derives from a policy's body, as plain data."""

    title: str
    sections: list[tuple[SectionPart, str]]  # each section with its readable text
    word_count: int
    wording_hash: str


def derive_policy(body: str) -> DerivedPolicy:
    """A policy's page title, its sections each with its readable text, its word count and its
    wording hash: all the importer derives from a body (it may run in another process)."""
    parts, title = split_sections_and_title(body)
    plains = [section_text(part.text) for part in parts]
    return DerivedPolicy(
        title,
        list(zip(parts, plains, strict=True)),
        sum(map(count_words, plains)),
        wording_hash(plains),
    )
