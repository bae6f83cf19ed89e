"""Tags → highlights in a section's stored HTML (pure: HTML and plain data in, HTML out).

The stored HTML wraps every piece of text in a clause fragment that knows its own offset
(`data-frag`), so a tag's span is found by arithmetic: fragments it overlaps are split at its
edges and the covered pieces wrapped in <mark> elements, nested where tags overlap.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

_FRAGMENT = re.compile(
    r'<span class="clause" data-clause="(\d+)" data-start="(\d+)" data-end="(\d+)" '
    r'data-frag="(\d+)">([^<]*)</span>'
)


@dataclass(frozen=True)
class Highlight:
    pk: int
    start: int
    end: int
    slug: str
    label: str  # what a screen reader hears before the text, e.g. "Data Retention, carried from…"
    kind: str  # original / carried / proposed, or "suggested" (a ghost: not a tag)


def highlight(section_html: str, highlights: list[Highlight]) -> str:
    """`section_html` with each highlight's span wrapped in <mark data-annotation=…>."""
    if not highlights:
        return section_html
    ordered = sorted(highlights, key=lambda h: (h.start, -h.end, h.pk))

    def wrap(match: re.Match) -> str:
        clause, c_start, c_end, frag = match.group(1, 2, 3, 4)
        text = html_lib.unescape(match.group(5))
        f_start, f_end = int(frag), int(frag) + len(text)
        covering = [h for h in ordered if h.start < f_end and h.end > f_start]
        if not covering:
            return match.group(0)
        cuts = sorted(
            {f_start, f_end}
            | {h.start for h in covering if f_start < h.start < f_end}
            | {h.end for h in covering if f_start < h.end < f_end}
        )
        out = []
        for a, b in zip(cuts, cuts[1:], strict=False):
            piece = html_lib.escape(text[a - f_start : b - f_start], quote=False)
            inner = (
                f'<span class="clause" data-clause="{clause}" data-start="{c_start}" '
                f'data-end="{c_end}" data-frag="{a}">{piece}</span>'
            )
            for h in reversed([h for h in covering if h.start <= a and h.end >= b]):
                label = (
                    f'<span class="visually-hidden">[{html_lib.escape(h.label)}] </span>'
                    if h.start == a
                    else ""
                )
                inner = (
                    f'<mark class="suggested tag-{h.slug}" data-suggested="{h.slug}">'
                    f"{label}{inner}</mark>"
                    if h.kind == "suggested"
                    else f'<mark class="tag tag-{h.slug} tag-{h.kind}" data-annotation="{h.pk}" '
                    f'data-category="{h.slug}">{label}{inner}</mark>'
                )
            out.append(inner)
        return "".join(out)

    return _FRAGMENT.sub(wrap, section_html)
