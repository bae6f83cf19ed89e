"""rendering: untrusted Markdown to safe HTML, and to the plain text that diffs compare."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.reading import rendering
from policies.reading.rendering import render_markdown
from policies.reading.text import section_text

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_FILES = sorted(
    [*SAMPLE_DIR.glob("seeds/*.txt"), *SAMPLE_DIR.glob("corpus-sample/*.md")],
    key=lambda path: path.name,
)

ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code",
    "em", "strong", "a", "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "del", "ins",
    "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<svg onload=alert(1)>",
    "<svg><a xlink:href='javascript:alert(1)'><text>x</text></a></svg>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1)  )",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:image/png;base64,iVBORw0KGgo=)",
    "[x](javascript&#58;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](java%73cript:alert(1))",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    '<http://example.com/" onmouseover="alert(1)>',
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x" onerror="alert(1)](https://example.com/a.png)',
    '[x](https://example.com "t\\" onmouseover=\\"alert(1)")',
    "[x](https://example.com 'a\" onclick=\"alert(1)')",
    '[x](https://example.com/" onmouseover="alert(1))',
    "[x]: javascript:alert(1)\n\n[y][x]",
    '<a href="https://example.com" hx-get="/admin/delete" hx-trigger="load">x</a>',
    '[x](https://example.com)<a hx-post="/x" hx-swap="outerHTML">y</a>',
    '<form action="https://evil.example"><input name=q><button>go</button></form>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))" class="admin">x</div>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<!-- x --><script>alert(1)</script>",
    "[<img src=x onerror=alert(1)>](https://example.com)",
    "| a |\n|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <iframe src=javascript:alert(1)>",
    "> <svg onload=alert(1)>",
    "* <img src=x onerror=alert(1)>\n* [x](javascript:alert(1))",
]


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _TagCollector:
    collector = _TagCollector()
    collector.feed(markup)
    collector.close()
    return collector


def _assert_safe(markup: str) -> None:
    lowered = markup.lower()
    for fragment in ("<script", "<form", "<style", "<iframe", "<img", "<svg", "<object"):
        assert fragment not in lowered
    for tag, attrs in _parse(markup).tags:
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name)
            assert not re.match(r"on\w+|hx-|style|class", name)
            if name == "href":
                assert re.match(r"(https?:|mailto:)", value or ""), value


def _text_content(markup: str) -> str:
    return "".join(_parse(markup).text)


def _sample_body(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n", 1)[1].lstrip("\n")


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_is_neutralised(payload):
    _assert_safe(render_markdown(payload))
    _assert_safe(render_markdown(f"Some text {payload} more text\n\n{payload}"))


def test_xss_payload_corpus_is_large_enough():
    assert len(XSS_PAYLOADS) >= 25


def test_raw_html_is_shown_as_text():
    rendered = render_markdown("Click <b onclick=alert(1)>here</b>")
    assert "&lt;b onclick=alert(1)&gt;here&lt;/b&gt;" in rendered
    assert "<b" not in rendered


def test_javascript_link_keeps_its_text_without_the_link():
    rendered = render_markdown("See [our terms](javascript:alert(1)) now")
    assert rendered == "<p>See our terms now</p>\n"


def test_link_title_quotes_cannot_open_an_attribute():
    rendered = render_markdown('[x](https://example.com "a\\" onmouseover=\\"alert(1)")')
    (tag, attrs), *_ = _parse(rendered).tags[1:]
    assert tag == "a"
    assert dict(attrs)["title"] == 'a" onmouseover="alert(1)'
    assert "onmouseover" not in dict(attrs)


def test_sanitiser_alone_strips_what_the_parser_never_emits():
    # Defence in depth: should markdown-it ever pass HTML through, nh3's allowlist still holds.
    dirty = (
        '<a href="javascript:alert(1)" onclick="x()" hx-get="/admin" class="c">a</a>'
        "<form><input></form><script>alert(1)</script><style>p{}</style><img src=x>"
        '<a href="data:text/html,x">d</a><a href="/relative">r</a>'
    )
    _assert_safe(rendering._CLEANER.clean(dirty))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "[",
                "]",
                "(",
                ")",
                "!",
                "*",
                "_",
                "`",
                "\\",
                '"',
                "'",
                "=",
                ":",
                "&#58;",
                "&#x3a;",
                " ",
                "\n",
                "\n\n",
                "|",
                "---",
                "#",
                "- ",
                "1. ",
                "    ",
                "javascript",
                "JavaScript",
                "data",
                "script",
                "img",
                "src",
                "href",
                "on",
                "onerror",
                "hx-get",
                "style",
                "iframe",
                "form",
                "http://",
                "https://x.org/",
                "web.archive.org",
                "mailto:",
                "alert(1)",
                "x",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_render_markdown_is_safe_for_any_mix_of_syntax(text):
    _assert_safe(render_markdown(text))


def test_dead_archive_links_become_plain_text():
    rendered = render_markdown(
        "Write to [our contact page](https://web.archive.org/privacy/contact.html), "
        "[the web root](http://web.archive.org/web/http://www.example.com/a.html) "
        "or [home](https://web.archive.org/)."
    )
    assert "<a" not in rendered
    assert "our contact page" in rendered
    assert "the web root" in rendered
    assert "home" in rendered


def test_archive_links_with_a_timestamp_stay_links():
    rendered = render_markdown(
        "[COPPA policy](https://web.archive.org/web/20041231063119id_/"
        "http%3A//www.livejournal.com/legal/coppa.bml) and "
        "[snapshot](http://web.archive.org/web/20050622043445/http://www.livejournal.com/)"
    )
    hrefs = [dict(attrs)["href"] for tag, attrs in _parse(rendered).tags if tag == "a"]
    assert hrefs == [
        "https://web.archive.org/web/20041231063119id_/http%3A//www.livejournal.com/legal/coppa.bml",
        "http://web.archive.org/web/20050622043445/http://www.livejournal.com/",
    ]


def test_relative_links_become_plain_text():
    rendered = render_markdown("See [our terms](/terms.html) and [top](#top).")
    assert rendered == "<p>See our terms and top.</p>\n"


def test_links_get_nofollow_noopener_noreferrer():
    rendered = render_markdown("[Example](https://example.com/) or <mailto:privacy@example.com>")
    rels = [dict(attrs)["rel"] for tag, attrs in _parse(rendered).tags if tag == "a"]
    assert rels == ["nofollow noopener noreferrer"] * 2


def test_images_are_shown_as_their_alt_text():
    rendered = render_markdown("Logo: ![Acme *Corp*](https://example.com/logo.png) ![](x.png)")
    assert rendered == "<p>Logo: Acme Corp </p>\n"


def test_backslash_escapes_display_cleanly():
    rendered = render_markdown("##  1\\. Introduction\n\nSee \\(a\\) and \\*b\\*.")
    assert rendered == "<h2>1. Introduction</h2>\n<p>See (a) and *b*.</p>\n"


def test_table_keeps_alignment_as_an_attribute():
    rendered = render_markdown("Information| Usage\n---|--:\nEmail| Lost passwords\n")
    assert "<table>" in rendered
    assert '<th align="right">Usage</th>' in rendered
    assert '<td align="right">Lost passwords</td>' in rendered
    assert "style" not in rendered


def test_table_rows_with_more_cells_than_the_header_keep_them():
    rendered = render_markdown("a | b\n---|---\n1 | 2 | 3 | 4\nx\n")
    assert _text_content(rendered).split() == ["a", "b", "1", "2", "3", "4", "x"]
    rows = re.findall(r"<tr>.*?</tr>", rendered, re.DOTALL)
    assert [row.count("<td") + row.count("<th") for row in rows] == [4, 4, 4]


def test_indented_code_pseudo_table_stays_preformatted():
    rendered = render_markdown("Data we keep:\n\n    | Data | Kept |\n    | IP   | no   |\n")
    assert "<pre><code>| Data | Kept |\n| IP   | no   |\n</code></pre>" in rendered


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: path.name)
def test_sample_file_renders_safely_and_keeps_its_words(path):
    body = _sample_body(path)
    rendered = render_markdown(body)
    _assert_safe(rendered)
    # The readable text (what tags, diffs and word counts use) has every word the page shows.
    shown = html.unescape(_text_content(rendered))
    missing = set(re.findall(r"\w+", shown)) - set(re.findall(r"\w+", section_text(body)))
    assert not missing


def test_sample_tables_keep_every_cell():
    body = _sample_body(SAMPLE_DIR / "corpus-sample" / "3mp3.ru_2012-09-20.md")
    text = section_text(body)
    for line in body.splitlines():
        if line.count("|") >= 2 and "---" not in line:
            cells = [c for c in re.split(r"(?<!\\)\|", line) if c.strip() and "](" not in c]
            for cell in cells:
                assert all(word in text for word in re.findall(r"[^\W_]{3,}", cell)), cell
