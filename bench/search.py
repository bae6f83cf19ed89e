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
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import benchdb  # noqa: E402 (bench/ is the script's folder; no Django needed)
import corpus  # noqa: E402 (the corpus generator)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    corpus.corpus_arguments(parser)
    parser.add_argument("--queries", type=int, default=30, help="per class")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--identical",
        type=float,
        default=0.70,
        help="share of consecutive captures identical (0.70; the PLL has about 0.15)",
    )
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="VACUUM ANALYZE after loading (default: only the ANALYZE an import does)",
    )
    benchdb.database_arguments(parser, "palimpsest_bench_search", reuse=True)
    return parser.parse_args()


ARGS = _arguments() if __name__ == "__main__" else None
if ARGS is not None:  # Django must read the benchmark database's URL before it starts
    benchdb.use_database(ARGS.database_url)

import goals  # noqa: E402
import psycopg  # noqa: E402
from django.db import connection  # noqa: E402

from policies.filters import CaptureFilters  # noqa: E402
from policies.searching.search import SearchFilters, search_sections  # noqa: E402


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
            cpu_started = benchdb.cpu_seconds() if cpu is not None else 0.0
            started = time.perf_counter()
            results = search_sections(query, filters)
            timings.append((time.perf_counter() - started) * 1000)
            if cpu is not None:
                cpu.append((benchdb.cpu_seconds() - cpu_started) * 1000)
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
    print(benchdb.machine())
    if not args.reuse:
        seconds = corpus.build_database(
            args.database_url,
            args,
            identical=args.identical,
            vacuum=args.vacuum,
            sections_without_vector=True,
            capture_stats=False,  # the searches read the sections, not the trends' tables
        )
        with psycopg.connect(args.database_url) as conn:
            rows = conn.execute("SELECT count(*) FROM policies_section").fetchone()[0]
        for name, value in seconds.items():
            if name.startswith("sections"):
                print(f"COPY {name}: {value:.1f} s, {rows / value:,.0f} rows/s")
            else:
                print(f"{name}: {value:.2f} s")
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
            f"| {name} | `{queries[0]}` | {shown} | {benchdb.percentile(timings, 0.5):.1f} | "
            f"{benchdb.percentile(timings, 0.99):.1f} |"
        )
    print(
        f"| all of the above | | | {benchdb.percentile(everything, 0.5):.1f} | "
        f"{benchdb.percentile(everything, 0.99):.1f} |"
    )
    for name, (timings, _) in measured.items():  # issue #14's goals hold for every class
        label = f"search {name}, {total:,} sections"
        goals.check(f"{label}, p50", benchdb.percentile(timings, 0.5), 5, "ms")
        goals.check(f"{label}, p99", benchdb.percentile(timings, 0.99), 300, "ms")
    if common:
        ranked = time_rank_all(common, args.runs)
        print(
            f"| very common, ranking every match (not used) | | 50 | "
            f"{benchdb.percentile(ranked, 0.5):.1f} | {benchdb.percentile(ranked, 0.99):.1f} |"
        )
    if not args.keep:
        connection.close()
        benchdb.drop_database(args.database_url)


if __name__ == "__main__":
    main(ARGS)
