"""Benchmark search (`policies.searching.search.search_sections`) over 100,000 synthetic captures.

    .venv/bin/python bench/search.py [--companies N] [--captures M] [--queries Q] [--runs R]
        [--seed S] [--database-url URL] [--keep] [--reuse]

Creates a dedicated PostgreSQL database (default palimpsest_bench_search; its name must contain
"bench"), migrates it (so `policies_section` has the generated, GIN-indexed `search_vector`),
and loads N companies x M captures (default 2,000 x 50 = 100,000) generated like
bench/import.py's corpus: policies built from the sample corpus's sentences and headings,
median 1,300 words, 70% of consecutive captures identical, 25% revised, 5% rewritten; each
distinct text is cut into sections by `policies.reading.sectioning` as the importer does. Rows go in
with COPY. The sections are also copied into a table with the same columns and indexes but no
search vector, to measure what the stored vector costs on writing. Then the tables are left as
an import leaves them: analysed by the importer's own `analyze_after_import`, never vacuumed
(autovacuum may be off), so the figures are those of searches right after a bulk import
(`--vacuum`: VACUUM ANALYZE instead, the state of a database autovacuum has caught up with).
`--identical 0.15` makes 15% of consecutive captures identical (the PLL's share) instead of 70%.

Queries: two-word queries drawn (seeded) from the lexemes of the loaded sections, by the share
of sections they occur in: rare (0.01% to 0.1% of sections), medium (1% to 5%), very common
(over 30%), plus the very common ones with the "latest capture only" and "one company"
filters. Each query runs once to warm up, then R times; p50 and p99 are over all timed runs of
a class, wall time of the whole `search_sections` call (SQL and Python). For comparison, the
very common queries are also run as "rank every match" SQL (ORDER BY ts_rank_cd over all
matching sections, LIMIT 50), which is what `CANDIDATES` avoids.

The database is dropped at the end unless --keep; --reuse skips creating and loading it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import benchdb as databases  # noqa: E402 (bench/ is the script's folder; no Django needed)

DEFAULT_DATABASE_URL = databases.default_url("palimpsest_bench_search")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--captures", type=int, default=50, help="per company")
    parser.add_argument("--queries", type=int, default=30, help="per class")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--identical",
        type=float,
        default=0.70,
        help="share of consecutive captures identical (0.70; the PLL has about 0.15)",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="VACUUM ANALYZE after loading (default: only the ANALYZE an import does)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None
if ARGS is not None:  # Django must read the benchmark database's URL before it starts
    os.environ["DATABASE_URL"] = ARGS.database_url
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

django.setup()

import corpus  # noqa: E402 (the corpus generator)
import goals  # noqa: E402
import pages  # noqa: E402 (CPU time of a request)
from django.db import connection  # noqa: E402

from policies.filters import CaptureFilters  # noqa: E402
from policies.importing.importer import analyze_after_import, build_text  # noqa: E402
from policies.searching.search import SearchFilters, search_sections  # noqa: E402

_PLAIN_TABLE = "bench_section_without_vector"


def _tsv(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class _Table:
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
    companies: int, captures: int, seed: int, identical: float = corpus.IDENTICAL_SHARE
) -> dict[str, _Table]:
    """Companies, domains, distinct texts, their sections and the captures, as COPY rows."""
    vocab = corpus.load_vocabulary()
    tables = {
        "company": _Table(
            "policies_company", ("id", "name", "slug", "created_at", "capture_count")
        ),
        "domain": _Table("policies_domain", ("id", "name", "company_id")),
        "text": _Table(
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
        "section": _Table(
            "policies_section",
            ("id", "text_id", "position", "heading", "level", "body", "anchor", "html", "plain"),
        ),
        "snapshot": _Table(
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
        slug = f"{rng.choice(corpus._DOMAIN_WORDS)}{number}.{rng.choice(corpus._TLDS)}"
        tables["company"].add(number, slug, slug, now, captures)
        tables["domain"].add(number, slug, number)
        document = corpus.new_document(rng, vocab, corpus.policy_words(rng))
        body, previous_hash = corpus.render(document), None
        for index, when in enumerate(corpus._capture_times(rng, captures)):
            if index:
                document, changed = corpus.next_document(rng, vocab, document, identical=identical)
                if changed:
                    body = corpus.render(document)
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


def load(url: str, tables: dict[str, _Table], vacuum: bool = False) -> dict[str, float]:
    """COPY every table in; the sections also into a table without the search vector. Then
    ANALYZE as the importer does after a bulk import (`vacuum`: VACUUM ANALYZE everything)."""
    seconds = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for key in ("company", "domain", "text"):
            tables[key].copy(conn)
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
        seconds["sections without vector"] = tables["section"].copy(conn, _PLAIN_TABLE)
        seconds["sections with vector"] = tables["section"].copy(conn)
        tables["snapshot"].copy(conn)
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(_PLAIN_TABLE)))
        if vacuum:
            conn.execute("VACUUM ANALYZE")
    if not vacuum:
        # What the importer leaves behind: its own ANALYZE, no vacuum (autovacuum may be off).
        started = time.perf_counter()
        analysed = analyze_after_import(tables["snapshot"].rows)
        seconds["the importer's ANALYZE"] = time.perf_counter() - started
        print(f"analysed after the load, as the importer does: {', '.join(analysed) or 'nothing'}")
    return seconds


def lexemes_by_share(url: str) -> tuple[int, list[tuple[str, float]]]:
    """(section count, [(lexeme, share of sections containing it)]), alphabetic lexemes only."""
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM policies_section").fetchone()[0]
        rows = conn.execute(
            "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM policies_section') "
            "WHERE word ~ '^[a-z]{3,}$'"
        ).fetchall()
    return total, [(word, ndoc / total) for word, ndoc in rows]


def query_classes(lexemes: list[tuple[str, float]], count: int, seed: int) -> dict[str, list[str]]:
    """Two-word queries per class of word frequency: rare (the rarest tenth of the lexemes,
    since the synthetic vocabulary has no long tail), medium (in 1% to 5% of sections) and
    very common (in over 30%). Prints each class's range of shares."""
    rng = random.Random(seed)
    shares = sorted(share for _, share in lexemes)
    rare_ceiling = shares[len(shares) // 10]
    bands = {"rare": (0.0, rare_ceiling), "medium": (0.01, 0.05), "very common": (0.30, 1.01)}
    classes = {}
    for name, (low, high) in bands.items():
        chosen = sorted((w, share) for w, share in lexemes if low <= share <= high)
        if len(chosen) < 2:
            continue
        print(
            f"{name}: {len(chosen)} lexemes, in {chosen and min(s for _, s in chosen):.2%} to "
            f"{max(s for _, s in chosen):.2%} of sections"
        )
        words = [w for w, _ in chosen]
        classes[name] = [" ".join(rng.sample(words, 2)) for _ in range(count)]
    return classes


def time_queries(
    queries: list[str], filters: SearchFilters, runs: int, *, cpu: list[float] | None = None
) -> tuple[list, int]:
    """Milliseconds of every timed run, and the median number of results shown; with `cpu`,
    each run's CPU milliseconds (this process and its backend) are appended to it."""
    timings, shown = [], []
    for query in queries:
        search_sections(query, filters)  # warm-up
        for _ in range(runs):
            cpu_started = pages.cpu_seconds() if cpu is not None else 0.0
            started = time.perf_counter()
            results = search_sections(query, filters)
            timings.append((time.perf_counter() - started) * 1000)
            if cpu is not None:
                cpu.append((pages.cpu_seconds() - cpu_started) * 1000)
        shown.append(results.hit_count)
    return timings, round(statistics.median(shown))


_RANK_ALL = """
SELECT s.id, ts_rank_cd(s.search_vector, q) AS rank
FROM policies_section s, websearch_to_tsquery('english', %s) q
WHERE s.search_vector @@ q ORDER BY rank DESC LIMIT 50
"""


def time_rank_all(queries: list[str], runs: int) -> list[float]:
    timings = []
    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute(_RANK_ALL, [query])
            for _ in range(runs):
                started = time.perf_counter()
                cursor.execute(_RANK_ALL, [query])
                cursor.fetchall()
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def main(args: argparse.Namespace) -> None:
    print(
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    if not args.reuse:
        databases.recreate_database(args.database_url, migrate=True)
        started = time.perf_counter()
        tables = generate(args.companies, args.captures, args.seed, args.identical)
        print(
            f"Generated {tables['snapshot'].rows:,} captures, {tables['text'].rows:,} distinct "
            f"texts, {tables['section'].rows:,} sections in {time.perf_counter() - started:.0f} s"
        )
        seconds = load(args.database_url, tables, args.vacuum)
        rows = tables["section"].rows
        for name, value in seconds.items():
            if name.startswith("sections"):
                print(f"COPY {name}: {value:.1f} s, {rows / value:,.0f} rows/s")
            else:
                print(f"{name}: {value:.2f} s")
        del tables
    total, lexemes = lexemes_by_share(args.database_url)
    classes = query_classes(lexemes, args.queries, args.seed)
    with psycopg.connect(args.database_url) as conn:
        company = conn.execute("SELECT slug FROM policies_company ORDER BY id LIMIT 1").fetchone()
    common = classes.get("very common", [])
    runs = {name: (queries, SearchFilters()) for name, queries in classes.items()}
    if common:
        runs["very common, latest only"] = (common, SearchFilters(CaptureFilters(latest=True)))
        runs["very common, one company"] = (
            common,
            SearchFilters(CaptureFilters(companies=(company[0],))),
        )
    print(f"\n{total:,} sections; {args.queries} queries per class, {args.runs} timed runs each")
    print("| class | example | results shown (median) | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|")
    everything, measured = [], {}
    for name, (queries, filters) in runs.items():
        timings, shown = time_queries(queries, filters, args.runs)
        measured[name] = (timings, shown)
        everything.extend(timings)
        print(
            f"| {name} | `{queries[0]}` | {shown} | {goals.percentile(timings, 0.5):.1f} | "
            f"{goals.percentile(timings, 0.99):.1f} |"
        )
    print(
        f"| all of the above | | | {goals.percentile(everything, 0.5):.1f} | "
        f"{goals.percentile(everything, 0.99):.1f} |"
    )
    for name, (timings, _) in measured.items():  # issue #14's goals hold for every class
        label = f"search {name}, {total:,} sections"
        goals.check(f"{label}, p50", goals.percentile(timings, 0.5), 5, "ms")
        goals.check(f"{label}, p99", goals.percentile(timings, 0.99), 300, "ms")
    if common:
        ranked = time_rank_all(common, args.runs)
        print(
            f"| very common, ranking every match (not used) | | 50 | "
            f"{goals.percentile(ranked, 0.5):.1f} | {goals.percentile(ranked, 0.99):.1f} |"
        )
    if not args.keep:
        connection.close()
        databases.drop_database(args.database_url)


if __name__ == "__main__":
    main(ARGS)
