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

from policies.reading.clauses import reader_text
from policies.reading.rendering import render_markdown
from policies.reading.sectioning import SectionPart, split_sections_and_title

__all__ = [
    "TEXT_VERSION",
    "WORD_RE",
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

    Cached: a revised policy keeps most of its sections word for word, and Markdown parsing is
    most of an import's Python time, so each distinct section is parsed once per process.
    """
    return reader_text(render_markdown(markdown))


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


def derive_policy(body: str) -> tuple[str, list[tuple[SectionPart, str]]]:
    """A policy's page title and its sections, each with its readable text: all the importer
    derives from a body, as plain data (it may run in another process)."""
    parts, title = split_sections_and_title(body)
    return title, [(part, section_text(part.text)) for part in parts]
