"""Benchmark the CSV export of tags against PostgreSQL's own COPY, with peak memory.

    .venv/bin/python bench/export.py [--rows N] [--runs R] [--database-url URL] [--keep]

Creates a dedicated PostgreSQL database (default palimpsest_bench_export; its name must contain
"bench"), migrates it, and fills it in SQL with N tag rows (default 1,000,000): 100 tags per
capture, 10 captures per company, 5 sections per text, 20 annotators, categories of the
OPP-115 taxonomy; a fifth of the tags carried from the previous capture, one quote in 100
starting with "-" (so formula escaping has work), a quarter with attributes, a tenth with a
note. Then, R times each (median reported), every one in its own process under
`/usr/bin/time -v` (wall time and peak RSS of that process):

- `manage.py export_annotations --format csv --output FILE --no-progress`, the documented
  command, which streams `annotations.exports.export.export_chunks` (the same code as the download
  URL) from a `.iterator()` cursor through `csv.writer`;
- the same command with a filter that matches nothing: the fixed cost of starting Django, which
  is subtracted to give the streaming rate;
- `COPY (SELECT ...) TO STDOUT WITH (FORMAT CSV, HEADER)` through psycopg into a file, with
  the same columns, the same order and the formula escaping done in the SELECT.

The export and COPY files are compared line count for line count. The database is dropped at
the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import benchdb  # noqa: E402 (bench/ is the script's folder)
import goals  # noqa: E402

from policies.reading.text import TEXT_VERSION  # noqa: E402 (pure: no Django settings needed)

PYTHON = sys.executable
MANAGE = ROOT / "manage.py"
TIME = Path("/usr/bin/time")
DB_NAME = "palimpsest_bench_export"

TAGS_PER_CAPTURE = 100
CAPTURES_PER_COMPANY = 10
SECTIONS_PER_TEXT = 5
ANNOTATORS = 20

# The captures the tags go on, when the database has none of its own (bench/scale.py tags the
# captures of its imported corpus instead, with `fill_tags`).
_FILL_CAPTURES = """
INSERT INTO policies_company (id, name, slug, created_at, capture_count)
SELECT g, 'Company ' || g, 'company' || g || '.example', now(), 0
FROM generate_series(1, {companies}) g;

INSERT INTO policies_domain (id, name, company_id)
SELECT g, 'company' || g || '.example', g FROM generate_series(1, {companies}) g;

INSERT INTO policies_policytext (id, sha256, normalized_hash, body, word_count, render_version,
                                 text_version, page_title, created_at)
SELECT g, lpad(to_hex(g), 64, '0'), md5(g::text), 'Policy ' || g, 2, 0, {text_version}, '',
       now()
FROM generate_series(1, {captures}) g;

INSERT INTO policies_section (id, text_id, position, heading, level, body, anchor, html, plain)
SELECT (t - 1) * {sections} + p + 1, t, p, 'Heading ' || p, 2, '## Heading ' || p,
       'heading-' || p, '', ''
FROM generate_series(1, {captures}) t, generate_series(0, {sections} - 1) p;

INSERT INTO policies_snapshot (id, company_id, domain_id, captured_at, archive_url, source_url,
                               page_title, text_id, unchanged, created_at)
SELECT s, (s - 1) / {per_company} + 1, (s - 1) / {per_company} + 1, at,
       'https://web.archive.org/web/' || to_char(at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS')
           || 'id_/http://company' || ((s - 1) / {per_company} + 1) || '.example/privacy',
       'http://company' || ((s - 1) / {per_company} + 1) || '.example/privacy', '', s, false,
       now()
FROM (SELECT s, timestamptz '2000-01-01 00:00:00+00' + ((s - 1) % {per_company}) * interval
             '400 days' + s * interval '1 second' AS at
      FROM generate_series(1, {captures}) s) x;

UPDATE policies_company c
SET capture_count = x.n, first_capture = x.first_at, last_capture = x.last_at
FROM (SELECT company_id, count(*) AS n, min(captured_at) AS first_at,
             max(captured_at) AS last_at
      FROM policies_snapshot GROUP BY company_id) x
WHERE c.id = x.company_id;
"""

# {rows} tags, {per_capture} on each of the first captures (by id) that have sections, on their
# text's sections in turn; the last fifth of a capture's tags are carried from the previous
# capture when it is the same company's. Ids follow the table's largest.
_FILL_TAGS = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT '!', false, 'annotator' || g, '', '', '', false, true, now()
FROM generate_series(1, {annotators}) g
ON CONFLICT (username) DO NOTHING;

WITH categories AS (SELECT array_agg(id ORDER BY id) AS ids FROM annotations_category),
annotators AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM auth_user WHERE username ~ '^annotator[0-9]+$'
),
base AS (SELECT coalesce(max(id), 0) AS id FROM annotations_annotation),
tagged AS (
    SELECT sn.id AS snap, sn.company_id, sn.text_id,
           row_number() OVER (ORDER BY sn.id) - 1 AS k
    FROM policies_snapshot sn
    WHERE EXISTS (SELECT FROM policies_section s WHERE s.text_id = sn.text_id)
    ORDER BY sn.id LIMIT {captures}
),
captures AS (
    SELECT t.snap, t.k,
           coalesce(lag(t.company_id) OVER (ORDER BY t.k) = t.company_id, false) AS follows,
           (SELECT array_agg(s.id ORDER BY s.position) FROM policies_section s
            WHERE s.text_id = t.text_id) AS sections
    FROM tagged t
),
rows AS (
    SELECT i, i / {per_capture} AS k, i % {per_capture} AS j,
           CASE WHEN i % 100 = 7 THEN '-' ELSE '' END || 'We collect ' || md5(i::text)
               || ' and share it with our partners for ' || (i % 97) || ' days, as described.'
               AS quote
    FROM generate_series(0, {rows} - 1) i
)
INSERT INTO annotations_annotation (id, snapshot_id, section_id, start, "end", quote, prefix,
    suffix, category_id, attributes, note, annotator_id, kind, status, origin_id, origin_quote,
    version, uuid, created_at, updated_at, layer)
SELECT base.id + i + 1, snap, sections[j % array_length(sections, 1) + 1], j * 3,
       j * 3 + length(quote), quote, 'the text before the clause', 'and the text after it',
       categories.ids[j % array_length(categories.ids, 1) + 1],
       CASE WHEN i % 4 = 0 THEN '{{"personal-information-type": "Contact"}}'::jsonb
            ELSE '{{}}'::jsonb END,
       CASE WHEN i % 10 = 0 THEN 'Checked against the earlier capture.' ELSE '' END,
       annotators.ids[i % array_length(annotators.ids, 1) + 1],
       CASE WHEN carried THEN 'carried' ELSE 'original' END, 'active',
       CASE WHEN carried THEN base.id + (k - 1) * {per_capture} + (j - 80) + 1 END, '', 1,
       gen_random_uuid(), timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second',
       timestamptz '2020-01-01 00:00:00+00' + i * interval '1 second', 'annotator'
FROM (SELECT r.i, r.k, r.j, r.quote, c.snap, c.sections, c.follows AND r.j >= 80 AS carried
      FROM rows r JOIN captures c USING (k)) x, categories, annotators, base;
"""

_ESCAPE = (
    "CASE WHEN left({0}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || {0} ELSE {0} END"
)
_COPY_SELECT = f"""
SELECT a.id, {_ESCAPE.format("c.slug")}, {_ESCAPE.format("d.name")},
       to_char(sn.captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
       to_char(sn.captured_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS'),
       {_ESCAPE.format("sn.archive_url")}, {_ESCAPE.format("s.anchor")},
       {_ESCAPE.format("a.quote")}, a.start, a."end", {_ESCAPE.format("cat.slug")},
       a.attributes::text, {_ESCAPE.format("a.note")},
       {_ESCAPE.format("coalesce(u.username, '')")}, a.status,
       CASE WHEN a.origin_id IS NULL THEN 'original' ELSE 'carried from ' || a.origin_id END,
       to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(a.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
FROM annotations_annotation a
JOIN policies_snapshot sn ON sn.id = a.snapshot_id
JOIN policies_company c ON c.id = sn.company_id
JOIN policies_domain d ON d.id = sn.domain_id
JOIN policies_section s ON s.id = a.section_id
JOIN annotations_category cat ON cat.id = a.category_id
LEFT JOIN auth_user u ON u.id = a.annotator_id
ORDER BY c.slug, sn.captured_at, s.position, a.start, a."end", cat.slug, a.uuid
"""


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database, then migrate it."""
    benchdb.recreate_database(url, migrate=True)


def drop_database(url: str) -> None:
    benchdb.drop_database(url)


def _run(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for part in statement.split(";\n"):
            if part.strip():
                conn.execute(part)


def fill_tags(url: str, rows: int) -> float:
    """Insert `rows` tags on the database's first captures (by id), 100 a capture, then
    VACUUM ANALYZE; returns the seconds it took. There must be enough captures with sections."""
    started = time.perf_counter()
    _run(
        url,
        _FILL_TAGS.format(
            annotators=ANNOTATORS,
            captures=-(-rows // TAGS_PER_CAPTURE),
            per_capture=TAGS_PER_CAPTURE,
            rows=rows,
        ),
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def fill(url: str, rows: int) -> float:
    """Insert `rows` tags and the captures they are on; returns the seconds it took."""
    captures = -(-rows // TAGS_PER_CAPTURE)
    started = time.perf_counter()
    _run(
        url,
        _FILL_CAPTURES.format(
            companies=-(-captures // CAPTURES_PER_COMPANY),
            captures=captures,
            sections=SECTIONS_PER_TEXT,
            per_company=CAPTURES_PER_COMPANY,
            text_version=TEXT_VERSION,
        ),
    )
    return time.perf_counter() - started + fill_tags(url, rows)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process, from /usr/bin/time -v when present."""
    if TIME.exists():
        result = subprocess.run(
            [str(TIME), "-v", *command], env=env, capture_output=True, text=True, check=True
        )
        wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
        hours, minutes, seconds = wall.groups()
        elapsed = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
        return elapsed, peak / 1024
    import resource

    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def copy_to_file(url: str, output: str) -> None:
    """The COPY comparison, run in its own process by `main` (--copy-to)."""
    with psycopg.connect(url) as conn, conn.cursor() as cursor, open(output, "wb") as out:
        statement = f"COPY ({_COPY_SELECT}) TO STDOUT WITH (FORMAT CSV, HEADER)"
        with cursor.copy(statement) as copy:
            for data in copy:
                out.write(data)


def first_rows(url: str) -> None:
    """Seconds from the start of an export to its first rows, printed (--first-rows): what a
    download waits before its first bytes, after the header."""
    benchdb.use_database(url)
    from annotations.exports.export import ExportFilters, export_chunks

    started, first = time.perf_counter(), []
    for _ in export_chunks(
        ExportFilters(), "csv", on_rows=lambda n: first or first.append(time.perf_counter())
    ):
        pass
    print(f"{first[0] - started:.3f} {time.perf_counter() - started:.3f}")


def measure(url: str, runs: int) -> dict:
    """`runs` times each, in their own processes: the export command with no rows (start-up),
    the export of every tag, the COPY of the same rows, and the wait for the first rows.
    Returns {"runs": {name: [(wall s, peak RSS MB)]}, "waits": [s], "lines", "sizes" (MB):
    [export, COPY]}."""
    env = {**os.environ, "DATABASE_URL": url}
    export = [PYTHON, str(MANAGE), "export_annotations", "--format", "csv", "--no-progress"]
    results: dict[str, list[tuple[float, float]]] = {"export": [], "startup": [], "copy": []}
    waits = []
    with tempfile.TemporaryDirectory() as folder:
        ours, theirs = Path(folder) / "export.csv", Path(folder) / "copy.csv"
        for _ in range(runs):
            results["startup"].append(
                timed([*export, "--from", "1900", "--to", "1900", "--output", str(ours)], env)
            )
            results["export"].append(timed([*export, "--output", str(ours)], env))
            copy = [PYTHON, __file__, "--database-url", url, "--copy-to", str(theirs)]
            results["copy"].append(timed(copy, env))
            probe = [PYTHON, __file__, "--database-url", url, "--first-rows"]
            waits.append(
                float(
                    subprocess.run(
                        probe, env=env, capture_output=True, text=True, check=True
                    ).stdout.split()[0]
                )
            )
        lines = [len(p.read_bytes().splitlines()) for p in (ours, theirs)]
        sizes = [p.stat().st_size / 1e6 for p in (ours, theirs)]
    return {"runs": results, "waits": waits, "lines": lines, "sizes": sizes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    benchdb.database_arguments(parser, DB_NAME, reuse=True)
    parser.add_argument("--copy-to", help=argparse.SUPPRESS)
    parser.add_argument("--first-rows", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.copy_to:
        copy_to_file(args.database_url, args.copy_to)
        return
    if args.first_rows:
        first_rows(args.database_url)
        return

    print(
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}"
    )
    if not args.reuse:
        recreate_database(args.database_url)
        seconds = fill(args.database_url, args.rows)
        print(f"Filled {args.rows:,} tags in {seconds:.1f} s")
    measured = measure(args.database_url, args.runs)
    if not args.keep:
        drop_database(args.database_url)
    results, waits, lines, sizes = (measured[k] for k in ("runs", "waits", "lines", "sizes"))

    def median(name: str, index: int) -> float:
        return statistics.median(run[index] for run in results[name])

    startup = median("startup", 0)
    export_wall, copy_wall = median("export", 0), median("copy", 0)
    streaming = export_wall - startup
    print(
        f"\nRows: {args.rows:,}; files: export {lines[0]:,} lines, {sizes[0]:.0f} MB; "
        f"COPY {lines[1]:,} lines, {sizes[1]:.0f} MB; medians of {args.runs} runs"
    )
    print("| what | wall s | rows/s | peak RSS MB |")
    print("|---|---:|---:|---:|")
    print(
        f"| export_annotations --format csv (end to end) | {export_wall:.2f} | "
        f"{args.rows / export_wall:,.0f} | {median('export', 1):.0f} |"
    )
    print(
        f"| the same, minus Django start-up ({startup:.2f} s) | {streaming:.2f} | "
        f"{args.rows / streaming:,.0f} | |"
    )
    print(
        f"| COPY (SELECT ...) TO STDOUT via psycopg | {copy_wall:.2f} | "
        f"{args.rows / copy_wall:,.0f} | {median('copy', 1):.0f} |"
    )
    print(f"| start-up only (no rows) | {startup:.2f} | | {median('startup', 1):.0f} |")
    print(f"\nFirst rows of the export after {statistics.median(waits):.2f} s (median)")
    print(
        f"\nExport rate / COPY rate: {copy_wall / export_wall:.2f} end to end, "
        f"{copy_wall / streaming:.2f} streaming only"
    )
    goals.check(
        "CSV export streaming rate / COPY rate", copy_wall / streaming, 0.5, "", at_least=True
    )
    goals.check("CSV export peak RSS", median("export", 1), 100, "MB")


if __name__ == "__main__":
    main()
