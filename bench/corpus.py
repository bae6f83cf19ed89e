"""The synthetic corpus the bench scripts import and search: policies built from the sample
corpus's own sentences, headings and list items, sized and revised like the Princeton-Leuven
corpus (see bench/import.py's docstring for the shape), seeded so runs compare like with like.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import random
import re
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import benchdb
import psycopg
from psycopg import sql

from policies.importing.corpus import header_line

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "corpus-sample"

# Bump when the generator changes, so corpora kept with --corpus are regenerated.
GENERATOR_VERSION = 1
STAMP = ".bench-corpus.json"  # hidden: the importer skips dot files

MEDIAN_WORDS = 1300
MIN_WORDS, MAX_WORDS = 300, 55_000
# Spread of the log-normal sizes: with a median of 1,300 words, 1 policy in 20 is over 5,600
# words and 1 in 1,000 over 20,000, roughly the corpus's long tail (live.com is 34,000).
SIZE_SIGMA = 0.9
# Consecutive captures: 70% identical by default, 5% rewritten, the rest lightly revised. The
# PLL's deduplicated count (910,546 of 1,071,488 captures) suggests about 15% identical there:
# `identical=0.15` (bench --identical 0.15) measures that shape too.
IDENTICAL_SHARE, REWRITTEN_SHARE = 0.70, 0.05
FIRST_CAPTURE = datetime(1997, 1, 1, tzinfo=UTC)
END_OF_CAPTURES = datetime(2020, 1, 1, tzinfo=UTC)

_DOMAIN_WORDS = ("acme", "news", "shop", "cloud", "travel", "bank", "games", "mail", "photo")
_TLDS = ("com", "com", "com", "net", "org", "co.uk", "de", "io")
_TITLES = ("Privacy Policy", "Privacy Statement", "Privacy Notice", "Our Privacy Policy")


# --- vocabulary ------------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)[\s#]*$")
_BOLD_LINE_RE = re.compile(r"^\s*\*\*([^*|]{3,80}?)\*\*\s*$")
_LIST_ITEM_RE = re.compile(r"^ {0,6}[*+-]\s+(\S.*?)\s*$")
_RUN_IN_RE = re.compile(r"^\*\*([^*|]{2,40}?:)\*\*\s+(.+)$")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"(])")


@dataclass(frozen=True)
class Vocabulary:
    """Pieces of real policies to build synthetic ones from."""

    headings: list[str]
    pseudo_headings: list[str]  # text of wholly bold lines
    labels: list[str]  # run-in labels such as "Registration:"
    sentences: list[str]
    items: list[str]


def _is_english_prose(text: str, low: int, high: int) -> bool:
    words = len(text.split())
    ascii_share = sum(ch.isascii() for ch in text) / max(len(text), 1)
    return (
        low <= words <= high
        and ascii_share >= 0.97
        and "|" not in text
        and re.search("[A-Za-z]{3}", text) is not None
    )


def load_vocabulary(folder: Path = SAMPLE) -> Vocabulary:
    """Headings, bold pseudo-headings, run-in labels, sentences and list items of the samples."""
    headings, bold, labels, sentences, items = [], [], [], [], []

    def flush(paragraph: list[str]) -> None:
        text = " ".join(paragraph)
        if run_in := _RUN_IN_RE.match(text):
            labels.append(run_in.group(1))
            text = run_in.group(2)
        sentences.extend(
            s
            for s in _SENTENCE_END_RE.split(text)
            if _is_english_prose(s, 4, 60) and s[-1] in ".!?"
        )
        paragraph.clear()

    for path in sorted(folder.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("\n", 1)[1]
        paragraph: list[str] = []
        for line in [*body.splitlines(), ""]:
            if not line.strip():
                flush(paragraph)
            elif item := _LIST_ITEM_RE.match(line):
                flush(paragraph)
                if _is_english_prose(item.group(1), 2, 40):
                    items.append(item.group(1))
            elif line.startswith(("    ", "\t", "```", ">")) or "|" in line:
                flush(paragraph)  # code, tables and quotes: not prose
            elif heading := _HEADING_RE.match(line):
                flush(paragraph)
                if _is_english_prose(heading.group(1), 1, 12):
                    headings.append(heading.group(1))
            elif pseudo := _BOLD_LINE_RE.match(line):
                flush(paragraph)
                if _is_english_prose(pseudo.group(1), 1, 12):
                    bold.append(pseudo.group(1).strip())
            else:
                paragraph.append(line.strip())

    def unique(values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))

    return Vocabulary(
        unique(headings), unique(bold), unique(labels), unique(sentences), unique(items)
    )


# --- documents -------------------------------------------------------------------------------

# A document is a tuple of blocks (kind, strings); kinds: title, h2, h3, bold, para, list.
# Blocks are immutable, so a revision copies only the blocks it touches.
Block = tuple[str, tuple[str, ...]]


def _render_block(block: Block) -> str:
    kind, parts = block
    if kind == "title":
        return f"# {parts[0]}"
    if kind == "h2":
        return f"## {parts[0]}"
    if kind == "h3":
        return f"### {parts[0]}"
    if kind == "bold":
        return f"**{parts[0]}**"
    if kind == "para":
        return " ".join(parts)
    return "\n".join(f"  * {item}" for item in parts)


def render(document: Sequence[Block]) -> str:
    """The Markdown of a document, laid out as html2text lays out the corpus."""
    return "\n\n".join(_render_block(block) for block in document) + "\n"


def _paragraph(rng: random.Random, vocab: Vocabulary) -> Block:
    sentences = [rng.choice(vocab.sentences) for _ in range(rng.randint(1, 6))]
    if rng.random() < 0.15:
        sentences[0] = f"**{rng.choice(vocab.labels)}** {sentences[0]}"
    return ("para", tuple(sentences))


def new_document(rng: random.Random, vocab: Vocabulary, words: int) -> tuple[Block, ...]:
    """A policy of about `words` words: a title, an introduction, then headed sections."""
    blocks: list[Block] = [("title", (rng.choice(_TITLES),)), _paragraph(rng, vocab)]
    count = sum(len(_render_block(block).split()) for block in blocks)
    while count < words:
        kind = rng.choices(("h2", "h3", "bold"), weights=(55, 20, 25))[0]
        pool = vocab.pseudo_headings if kind == "bold" else vocab.headings
        section: list[Block] = [(kind, (rng.choice(pool),))]
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.25:
                items = tuple(rng.choice(vocab.items) for _ in range(rng.randint(3, 7)))
                section.append(("list", items))
            else:
                section.append(_paragraph(rng, vocab))
        for block in section:
            blocks.append(block)
            count += len(_render_block(block).split())
            if count >= words:
                break
    return tuple(blocks)


def revise(rng: random.Random, vocab: Vocabulary, document: tuple[Block, ...]) -> tuple[Block, ...]:
    """A small revision: one to four sentences or list items changed, inserted or removed."""
    blocks = list(document)
    editable = [i for i, (kind, _) in enumerate(blocks) if kind in ("para", "list")]
    for _ in range(rng.randint(1, 4)):
        index = rng.choice(editable)
        kind, parts = blocks[index]
        changed = list(parts)
        replacement = rng.choice(vocab.sentences if kind == "para" else vocab.items)
        operation = rng.random()
        if operation < 0.55:
            changed[rng.randrange(len(changed))] = replacement
        elif operation < 0.9 or len(changed) == 1:
            changed.insert(rng.randint(0, len(changed)), replacement)
        else:
            del changed[rng.randrange(len(changed))]
        blocks[index] = (kind, tuple(changed))
    return tuple(blocks)


def next_document(
    rng: random.Random,
    vocab: Vocabulary,
    document: tuple[Block, ...],
    *,
    identical: float = IDENTICAL_SHARE,
    fixed_words: int | None = None,
    median: int = MEDIAN_WORDS,
) -> tuple[tuple[Block, ...], bool]:
    """The next capture's document after `document`, and whether it changed: identical with
    probability `identical`, rewritten (to a size around `median`) with `REWRITTEN_SHARE`,
    otherwise revised."""
    roll = rng.random()
    if roll >= 1 - REWRITTEN_SHARE:
        return new_document(rng, vocab, policy_words(rng, fixed_words, median)), True
    if roll >= identical:
        return revise(rng, vocab, document), True
    return document, False


def policy_words(rng: random.Random, fixed: int | None = None, median: int = MEDIAN_WORDS) -> int:
    """A policy size: `fixed`, or log-normal around `median`, clipped to the corpus's range."""
    if fixed:
        return fixed
    words = round(rng.lognormvariate(math.log(median), SIZE_SIGMA))
    return min(max(words, MIN_WORDS), MAX_WORDS)


# --- corpus ----------------------------------------------------------------------------------


@dataclass
class Corpus:
    """A generated corpus folder and what is in it."""

    path: Path
    companies: int
    captures: int
    files: int = 0
    distinct_bodies: int = 0
    megabytes: float = 0.0
    median_words: int = 0
    mean_words: int = 0
    identical: float = IDENTICAL_SHARE

    @property
    def label(self) -> str:
        share = "" if self.identical == IDENTICAL_SHARE else f"/{self.identical:.0%}id"
        return f"{self.companies}x{self.captures}{share}"


def _capture_times(rng: random.Random, count: int) -> list[datetime]:
    start, end = int(FIRST_CAPTURE.timestamp()), int(END_OF_CAPTURES.timestamp())
    return [datetime.fromtimestamp(s, UTC) for s in sorted(rng.sample(range(start, end), count))]


def write_capture(folder: Path, domain: str, when: datetime, body: str) -> int:
    """Write one capture as the corpus's files are (header line, then the Markdown) into
    folder/domain/; return its size in bytes."""
    timestamp = f"{when:%Y%m%d%H%M%S}"
    data = f"{header_line(domain, timestamp)}\n\n{body}".encode()
    (folder / domain / f"{domain}_{timestamp}.md").write_bytes(data)
    return len(data)


def generate_corpus(
    folder: Path,
    vocab: Vocabulary,
    *,
    companies: int,
    captures: int,
    seed: int,
    fixed_words: int | None = None,
    identical: float = IDENTICAL_SHARE,
) -> Corpus:
    """Write `companies` x `captures` policy files under `folder`, one subfolder per domain.

    Each company has its own generator seeded from (seed, company number), so a company's
    history is the same whatever the corpus size: a larger corpus extends a smaller one.
    """
    corpus = Corpus(folder, companies, captures, identical=identical)
    words_per_file: list[int] = []
    total_bytes = 0
    for number in range(companies):
        rng = random.Random(f"{seed}:{number}")
        domain = f"{rng.choice(_DOMAIN_WORDS)}{number}.{rng.choice(_TLDS)}"
        (folder / domain).mkdir(parents=True, exist_ok=True)
        document = new_document(rng, vocab, policy_words(rng, fixed_words))
        body = render(document)
        corpus.distinct_bodies += 1
        for index, when in enumerate(_capture_times(rng, captures)):
            if index:
                document, changed = next_document(
                    rng, vocab, document, identical=identical, fixed_words=fixed_words
                )
                if changed:
                    body = render(document)
                    corpus.distinct_bodies += 1
            total_bytes += write_capture(folder, domain, when, body)
            words_per_file.append(len(body.split()))
    corpus.files = len(words_per_file)
    corpus.megabytes = total_bytes / 1e6
    corpus.median_words = round(statistics.median(words_per_file))
    corpus.mean_words = round(statistics.fmean(words_per_file))
    return corpus


def prepare_corpus(
    root: Path,
    vocab: Vocabulary,
    *,
    companies: int,
    captures: int,
    seed: int,
    fixed_words: int | None,
    identical: float = IDENTICAL_SHARE,
) -> Corpus:
    """The corpus for these parameters under `root`: reused if already generated, else made."""
    name = f"{companies}x{captures}-seed{seed}" + (f"-{fixed_words}w" if fixed_words else "")
    if identical != IDENTICAL_SHARE:
        name += f"-{round(identical * 100)}pc-identical"
    folder = root / name
    wanted = {
        "generator": GENERATOR_VERSION,
        "companies": companies,
        "captures": captures,
        "seed": seed,
        "fixed_words": fixed_words,
        "sentences": len(vocab.sentences),
        **({"identical": identical} if identical != IDENTICAL_SHARE else {}),
    }
    stamp = folder / STAMP
    if stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == wanted:
            return Corpus(folder, **saved["corpus"])
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    corpus = generate_corpus(
        folder,
        vocab,
        companies=companies,
        captures=captures,
        seed=seed,
        fixed_words=fixed_words,
        identical=identical,
    )
    print(
        f"generated {corpus.files:,} files ({corpus.megabytes:.0f} MB) in {folder} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    saved_corpus = {f.name: getattr(corpus, f.name) for f in fields(corpus) if f.name != "path"}
    stamp.write_text(json.dumps({"params": wanted, "corpus": saved_corpus}))
    return corpus


# --- the whole corpus, in steps (bench/scale.py) -----------------------------------------------

# The Princeton-Leuven corpus's published shape: 1,071,488 captures of about 108,000 domains,
# 1997-2019, at most two captures per domain and year, about ten per domain, policies growing
# over the years (median about 1,000 words), a tail to 55,000 words, and some policies published
# word for word by several domains (hosting providers' and generators' templates).
PLL_DOMAINS, PLL_CAPTURES = 108_000, 1_071_488
PLL_FIRST_YEAR, PLL_LAST_YEAR = 1997, 2019
# Median words of a policy written in a year: 450 in 1997 growing to about 1,330 in 2019, which
# gives a median near 1,000 over all captures (more captures are recent).
PLL_WORDS_1997, PLL_WORDS_PER_YEAR = 450, 40
# A domain's first year: later years are likelier (the web and the archive grew), u ** 0.7 gives
# a mean span of about ten years; then 0, 1 or 2 captures a year: about ten per domain.
_START_SKEW = 0.7
_CAPTURES_PER_YEAR_WEIGHTS = (0.3, 0.4, 0.3)
# One domain in 20 starts from one of 300 template policies (and then revises its own copy).
TEMPLATE_SHARE, TEMPLATES = 0.05, 300


def pll_median_words(year: int) -> int:
    """The median size of a policy written in `year`, growing over time."""
    return PLL_WORDS_1997 + PLL_WORDS_PER_YEAR * (year - PLL_FIRST_YEAR)


@dataclass
class Step:
    """One step of the whole corpus written to a folder: domains [first_domain, next_domain)."""

    path: Path
    first_domain: int
    next_domain: int
    files: int = 0
    changed: int = 0  # captures whose body differs from the domain's previous capture
    templated_domains: int = 0
    megabytes: float = 0.0
    words: list[int] = field(default_factory=list)  # per file, for the step's distribution

    def summary(self) -> dict[str, float]:
        """Counts and the size distribution of the step's files."""
        words = sorted(self.words)
        return {
            "domains": self.next_domain - self.first_domain,
            "files": self.files,
            "changed_share": round(self.changed / max(self.files, 1), 3),
            "templated_domains": self.templated_domains,
            "megabytes": round(self.megabytes, 1),
            "words_median": words[len(words) // 2] if words else 0,
            "words_p99": words[int(len(words) * 0.99)] if words else 0,
            "words_max": words[-1] if words else 0,
        }


def _domain_capture_times(rng: random.Random) -> list[datetime]:
    """Capture times of one domain: from a first year to 2019, 0 to 2 a year, at least one."""
    span = PLL_LAST_YEAR - PLL_FIRST_YEAR
    first_year = PLL_FIRST_YEAR + round(span * rng.random() ** _START_SKEW)
    times = []
    for year in range(first_year, PLL_LAST_YEAR + 1):
        count = rng.choices((0, 1, 2), weights=_CAPTURES_PER_YEAR_WEIGHTS)[0]
        if year == first_year:
            count = max(count, 1)
        start = datetime(year, 1, 1, tzinfo=UTC).timestamp()
        seconds = sorted(rng.sample(range(0, 365 * 86400, 60), count))
        times.extend(datetime.fromtimestamp(start + s, UTC) for s in seconds)
    return times


def _template(vocab: Vocabulary, seed: int, number: int, cache: dict) -> tuple[Block, ...]:
    if number not in cache:
        rng = random.Random(f"{seed}:template:{number}")
        cache[number] = new_document(rng, vocab, policy_words(rng, median=MEDIAN_WORDS))
    return cache[number]


def write_pll_step(
    folder: Path,
    vocab: Vocabulary,
    *,
    first_domain: int,
    captures: int,
    seed: int,
    identical: float = 0.15,
    templates: dict | None = None,
) -> Step:
    """Write whole domain histories, from domain number `first_domain` on, under `folder` (one
    subfolder per domain) until at least `captures` files are written; return what was written.

    Each domain's history is seeded from (seed, domain number) and templates from (seed,
    template number), so steps written one after another give the same corpus as one big
    step: the whole corpus is imported step by step and measured at each size. Memory holds
    one domain's document at a time (and the templates met so far, `templates`).
    """
    templates = {} if templates is None else templates
    step = Step(folder, first_domain, first_domain)
    while step.files < captures:
        number = step.next_domain
        step.next_domain += 1
        rng = random.Random(f"{seed}:pll:{number}")
        domain = f"{rng.choice(_DOMAIN_WORDS)}{number}.{rng.choice(_TLDS)}"
        times = _domain_capture_times(rng)
        if rng.random() < TEMPLATE_SHARE:
            document = _template(vocab, seed, rng.randrange(TEMPLATES), templates)
            step.templated_domains += 1
        else:
            median = pll_median_words(times[0].year)
            document = new_document(rng, vocab, policy_words(rng, median=median))
        (folder / domain).mkdir(parents=True, exist_ok=True)
        body = render(document)
        step.changed += 1
        for index, when in enumerate(times):
            if index:
                document, changed = next_document(
                    rng, vocab, document, identical=identical, median=pll_median_words(when.year)
                )
                if changed:
                    body = render(document)
                    step.changed += 1
            step.files += 1
            step.megabytes += write_capture(folder, domain, when, body) / 1e6
            step.words.append(len(body.split()))
    return step


# --- the same corpus loaded straight into a database (search, trends and API benches) -------

_PLAIN_TABLE = "bench_section_without_vector"


def corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the corpus's size and seed: `--companies` x `--captures` (2,000 x 50 = 100,000)."""
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--captures", type=int, default=50, help="per company")
    parser.add_argument("--seed", type=int, default=1)


def build_database(
    url: str,
    args: argparse.Namespace,
    *,
    identical: float = IDENTICAL_SHARE,
    vacuum: bool = False,
    sections_without_vector: bool = False,
    capture_stats: bool = True,
) -> dict[str, float]:
    """Recreate the bench database `url` (migrated) and load the corpus `args` describe
    (`corpus_arguments`), analysed as an import leaves it (`settle`); with `capture_stats`,
    also the companies' capture figures and half-year policies an import keeps
    (`refresh_capture_stats`). Django must be set up on `url`. Returns the seconds of the
    sections' COPY and of the ANALYZE."""
    from policies.models import Company

    benchdb.recreate_database(url, migrate=True)
    started = time.perf_counter()
    tables = generate(args.companies, args.captures, args.seed, identical)
    print(
        f"Generated {tables['snapshot'].rows:,} captures, {tables['text'].rows:,} distinct "
        f"texts, {tables['section'].rows:,} sections in {time.perf_counter() - started:.0f} s"
    )
    seconds = load(url, tables, sections_without_vector=sections_without_vector)
    if capture_stats:
        Company.objects.refresh_capture_stats(list(Company.objects.values_list("pk", flat=True)))
    return seconds | settle(url, tables["snapshot"].rows, vacuum)


def _tsv(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class CopyTable:
    """Rows for one table, kept as COPY text in memory."""

    def __init__(self, name: str, columns: tuple[str, ...]) -> None:
        self.name, self.columns, self.buffer, self.rows = name, columns, io.StringIO(), 0

    def add(self, *values: object) -> None:
        self.buffer.write("\t".join(_tsv(v) for v in values) + "\n")
        self.rows += 1

    def copy(self, conn: psycopg.Connection, table: str | None = None) -> float:
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in self.columns)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table or self.name), columns
        )
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(statement) as copy:
            data = self.buffer.getvalue()
            for at in range(0, len(data), 1 << 20):
                copy.write(data[at : at + (1 << 20)])
        return time.perf_counter() - started


def generate(
    companies: int, captures: int, seed: int, identical: float = IDENTICAL_SHARE
) -> dict[str, CopyTable]:
    """Companies, domains, distinct texts, their sections and the captures, as COPY rows."""
    from policies.importing.importer import build_text

    vocab = load_vocabulary()
    tables = {
        "company": CopyTable(
            "policies_company", ("id", "name", "slug", "created_at", "capture_count")
        ),
        "domain": CopyTable("policies_domain", ("id", "name", "company_id")),
        "text": CopyTable(
            "policies_policytext",
            (
                "id",
                "sha256",
                "normalized_hash",
                "body",
                "word_count",
                "render_version",
                "text_version",
                "page_title",
                "created_at",
            ),
        ),
        "section": CopyTable(
            "policies_section",
            ("id", "text_id", "position", "heading", "level", "body", "anchor", "html", "plain"),
        ),
        "snapshot": CopyTable(
            "policies_snapshot",
            (
                "id",
                "company_id",
                "domain_id",
                "captured_at",
                "archive_url",
                "source_url",
                "page_title",
                "text_id",
                "unchanged",
                "created_at",
            ),
        ),
    }
    now = "2026-01-01 00:00:00+00"
    texts: dict[str, int] = {}
    hashes: dict[str, str] = {}
    section_id = snapshot_id = 0
    for number in range(1, companies + 1):
        rng = random.Random(f"{seed}:{number}")
        slug = f"{rng.choice(_DOMAIN_WORDS)}{number}.{rng.choice(_TLDS)}"
        tables["company"].add(number, slug, slug, now, captures)
        tables["domain"].add(number, slug, number)
        document = new_document(rng, vocab, policy_words(rng))
        body, previous_hash = render(document), None
        for index, when in enumerate(_capture_times(rng, captures)):
            if index:
                document, changed = next_document(rng, vocab, document, identical=identical)
                if changed:
                    body = render(document)
            sha = hashlib.sha256(body.encode()).hexdigest()
            if sha not in texts:
                texts[sha] = text_id = len(texts) + 1
                # The importer's own derivation: readable text, word count, wording hash.
                text, sections = build_text(body, sha)
                hashes[sha] = text.normalized_hash
                tables["text"].add(
                    text_id,
                    sha,
                    text.normalized_hash,
                    body,
                    text.word_count,
                    0,
                    text.text_version,
                    text.page_title,
                    now,
                )
                for section in sections:
                    section_id += 1
                    tables["section"].add(
                        section_id,
                        text_id,
                        section.position,
                        section.heading,
                        section.level,
                        section.body,
                        section.anchor,
                        "",
                        section.plain,
                    )
            snapshot_id += 1
            stamp = f"{when:%Y%m%d%H%M%S}"
            text_hash = hashes[sha]
            tables["snapshot"].add(
                snapshot_id,
                number,
                number,
                when.isoformat(),
                f"https://web.archive.org/web/{stamp}id_/http://{slug}/privacy",
                f"http://{slug}/privacy",
                "",
                texts[sha],
                text_hash == previous_hash,
                now,
            )
            previous_hash = text_hash
    return tables


def load(
    url: str, tables: dict[str, CopyTable], *, sections_without_vector: bool = False
) -> dict[str, float]:
    """COPY every table in (`sections_without_vector`: the sections also into a table without
    the search vector, to time what the vector costs); returns the seconds of the sections'."""
    seconds = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for key in ("company", "domain", "text"):
            tables[key].copy(conn)
        if sections_without_vector:
            seconds["sections without vector"] = _copy_without_vector(conn, tables["section"])
        seconds["sections with vector"] = tables["section"].copy(conn)
        tables["snapshot"].copy(conn)
    return seconds


def settle(url: str, captures: int, vacuum: bool = False) -> dict[str, float]:
    """Leave the tables as an import does: its own ANALYZE, no vacuum (autovacuum may be off);
    `vacuum`: VACUUM ANALYZE everything instead. Returns the seconds it took."""
    from policies.importing.importer import analyze_after_import

    started = time.perf_counter()
    if vacuum:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        return {"VACUUM ANALYZE": time.perf_counter() - started}
    analysed = analyze_after_import(captures)
    print(f"analysed after the load, as the importer does: {', '.join(analysed) or 'nothing'}")
    return {"the importer's ANALYZE": time.perf_counter() - started}


def _copy_without_vector(conn: psycopg.Connection, sections: CopyTable) -> float:
    """Seconds to COPY the sections into a table like `policies_section` without its vector."""
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} AS SELECT id, text_id, position, heading, level, body, anchor, "
            "html, plain FROM policies_section WITH NO DATA"
        ).format(sql.Identifier(_PLAIN_TABLE))
    )
    conn.execute(
        sql.SQL(
            "ALTER TABLE {0} ADD PRIMARY KEY (id), ADD UNIQUE (text_id, position), "
            "ADD UNIQUE (text_id, anchor); CREATE INDEX ON {0} (text_id)"
        ).format(sql.Identifier(_PLAIN_TABLE))
    )
    seconds = sections.copy(conn, _PLAIN_TABLE)
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(_PLAIN_TABLE)))
    return seconds
