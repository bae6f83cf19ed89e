"""Parse a page the way a browser would and list anything a hostile policy could have injected."""

from __future__ import annotations

from html.parser import HTMLParser

FORBIDDEN_TAGS = {"script", "iframe", "style", "svg", "img", "object", "embed", "frame", "base"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name} attribute on <{tag}>")
            if name.startswith(("hx-", "data-hx-")):
                self.problems.append(f"{name} attribute on <{tag}>")
            scheme = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name in URL_ATTRIBUTES and scheme.startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append(f"{name}={value!r} on <{tag}>")


def injected_markup(html: str) -> list[str]:
    """Elements and attributes in `html` that can run script or fire requests."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems
