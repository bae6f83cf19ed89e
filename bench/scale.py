"""The whole corpus: import a synthetic corpus of the Princeton-Leuven shape in steps and
measure every figure at each size, against its figure at the first size.

    .venv/bin/python bench/scale.py [--sizes 20000 60000 125000 250000] [--identical 0.15]
        [--runs 21] [--export-rows 1000000] [--json FILE] [--resume] [--keep] [--smoke]

One database (default palimpsest_bench_scale plus $BENCH_DB_SUFFIX; dropped and recreated
unless --resume) grows step by step to each size (cumulative captures). The corpus is
bench/corpus.py's `write_pll_step`: whole domain histories, about ten captures a domain, at
most two a year, median about 1,000 words growing over the years, a tail to 55,000 words, one
domain in 20 starting from a shared template, `--identical` of consecutive captures identical
(0.15, the PLL's share; 0.70 as bench/import.py's default). Each step's files are written to
a temporary folder, imported, and deleted, so the disk holds the database and one step.

At each size it measures and prints:

- the step's import (`manage.py import_policies`, bench/import.py's `measure_import`): wall
  seconds and captures/s, the importer's and its PostgreSQL backend's CPU seconds, and
  captures per CPU second (the rate to trust when others load the machine);
- the database's size per capture and per component (texts, sections, the search index,
  captures, tags, the wording index, the rest; pg_total_relation_size per table);
- home, a company, a capture and a compare page (p50/p99 over --runs requests, rendered every
  time: bench/pages.py's production settings and `measure_page`), always the same company,
  one of the first step's with the most captures;
- search p50/p99 (bench/search.py's query classes, drawn once at the first size and reused);
- the peak RSS of gunicorn workers (as docs/deploy.md runs them) after serving those pages;
- at the first size, --export-rows tags are added to its first captures (bench/export.py's
  `fill_tags`), and at the first and last size the CSV export of all of them is timed
  against COPY (bench/export.py's `measure`).

Each figure at a later size is compared with the first size's: within 1.5x (rates at least
1/1.5) meets, else MISSES (goal lines, see bench/goals.py). Results go to --json after every
size (default docs/scale/scale-<identical>pc.json; --resume continues from it with the
database as it is). --smoke: two tiny sizes and a few runs, seconds, for CI.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import benchdb  # noqa: E402 (bench/ is the script's folder)
import corpus  # noqa: E402
import export  # noqa: E402
import goals  # noqa: E402
import pages  # noqa: E402
from scale_chart import GROWTH, figures  # noqa: E402 (the figures compared, and charted)

DEFAULT_DATABASE_URL = benchdb.default_url("palimpsest_bench_scale")
SMOKE_SIZES = [150, 300]


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 60_000, 125_000, 250_000])
    parser.add_argument("--identical", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=21, help="requests per page and size")
    parser.add_argument("--queries", type=int, default=10, help="search queries per class")
    parser.add_argument("--search-runs", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--export-runs", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--json", type=Path, help="results file (default docs/scale/...)")
    parser.add_argument("--resume", action="store_true", help="continue from --json's sizes")
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="with --resume: measure the last size's pages, search and memory again first",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs, args.queries, args.search_runs = SMOKE_SIZES, 2, 2, 1
        args.export_rows, args.export_runs = 2_000, 1
        args.json = args.json or Path(tempfile.mkdtemp(prefix="palimpsest-scale-")) / "s.json"
    args.json = args.json or ROOT / "docs" / "scale" / f"scale-{round(args.identical * 100)}pc.json"
    if sorted(args.sizes) != args.sizes:
        parser.error("--sizes must grow")
    return args


ARGS = _arguments() if __name__ == "__main__" else None
if ARGS is not None:  # Django (in this process, for pages and search) reads the URL at setup
    os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="palimpsest-scale-static-")
    # Production settings rendering every request (bench/pages.py's), in this process.
    benchdb.use_database(ARGS.database_url, test_client=True, DEBUG="0", STORED_PAGES="0")

import django  # noqa: E402

django.setup()

import search  # noqa: E402 (bench/search.py: its query classes and timing)
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from policies.searching.search import SearchFilters  # noqa: E402

import_bench = importlib.import_module("import")  # bench/import.py: `import` is a keyword


# --- sizes -----------------------------------------------------------------------------------

# Component: the tables (LIKE patterns) whose total size (with indexes and TOAST) it is. The
# search index is the GIN index on policies_section.search_vector, taken out of "sections".
_COMPONENTS = {
    "texts": ["policies_policytext"],
    "sections": ["policies_section"],
    "captures": ["policies_snapshot", "policies_company", "policies_domain"],
    "tags": ["annotations_annotation", "annotations_annotationevent", "annotations_lineageevent"],
    "wording index": [
        "annotations_indexedtext",
        "annotations_clausewording",
        "annotations_taggedwording",
        "annotations_taggedband",
    ],
    "trends": ["policies_seasonpolicy", "policies_seasonsummary", "policies_trendtext"],
    "import records": ["policies_importrun", "policies_importfileresult"],
    "stored pages": ["policies_storedpage", "policies_textcomparison"],
}


def database_sizes(url: str) -> dict[str, float]:
    """Megabytes on disk: the whole database, each component and each table over 1 MB."""
    with benchdb.admin_connection(url) as admin:
        total = benchdb.megabytes_on(admin, benchdb.database_name(url))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public'"
        )
        tables = {name: size / 1e6 for name, size in cursor.fetchall()}
        cursor.execute(
            "SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE i.indrelid = 'policies_section'::regclass AND a.amname = 'gin'"
        )
        search_index = float(cursor.fetchone()[0]) / 1e6
    sizes = {"database": total, "search index": search_index}
    counted = set()
    for component, patterns in _COMPONENTS.items():
        names = {t for t in tables for p in patterns if _like(t, p)}
        counted |= names
        sizes[component] = sum(tables[t] for t in names)
    sizes["sections"] -= search_index
    sizes["other tables"] = sum(size for name, size in tables.items() if name not in counted)
    sizes |= {f"table {name}": size for name, size in tables.items() if size >= 1}
    return sizes


def _like(name: str, pattern: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("%") else name == pattern


# --- pages -----------------------------------------------------------------------------------


def page_urls() -> dict[str, str]:
    """Home, and the company page, latest capture and first-to-latest comparison of the
    company with the most captures among the first 1,000 imported (the same at every
    size)."""
    from policies.models import Company

    first_imported = Company.objects.order_by("id")[:1000]
    company = max(first_imported, key=lambda c: (c.capture_count, -c.id))
    captures = list(company.snapshots.order_by("captured_at"))
    first, latest = captures[0], captures[-1]
    return {
        "home": "/",
        f"company ({company.slug}, {len(captures)} captures)": company.get_absolute_url(),
        f"capture ({company.slug}, latest, {latest.text.word_count:,} words)": (
            latest.get_absolute_url()
        ),
        "compare (first to latest)": (
            f"/companies/{company.slug}/compare/{first.timestamp}...{latest.timestamp}/"
        ),
    }


def measure_pages(urls: dict[str, str], runs: int) -> dict[str, dict[str, float]]:
    """p50 and p99 (and the first request) of each page, wall and CPU (this process and its
    PostgreSQL backend) milliseconds."""
    client = Client()
    measured = {}
    for label, url in urls.items():
        cpu: list[float] = []
        first, times = pages.measure_page(client, url, runs, cpu=cpu)
        measured[label] = {"first": first} | _percentiles(times, cpu)
    return measured


def _percentiles(wall: list[float], cpu: list[float]) -> dict[str, float]:
    return {
        "p50": benchdb.percentile(wall, 0.5),
        "p99": benchdb.percentile(wall, 0.99),
        "cpu_p50": benchdb.percentile(cpu, 0.5),
        "cpu_p99": benchdb.percentile(cpu, 0.99),
    }


def measure_search(queries: dict[str, list[str]], runs: int) -> dict[str, dict[str, float]]:
    """p50 and p99 of each query class and of all together, wall and CPU milliseconds."""
    measured, everything, everything_cpu = {}, [], []
    for name, chosen in queries.items():
        cpu: list[float] = []
        timings, _ = search.time_queries(chosen, SearchFilters(), runs, cpu=cpu)
        everything += timings
        everything_cpu += cpu
        measured[name] = _percentiles(timings, cpu)
    measured["all"] = _percentiles(everything, everything_cpu)
    return measured


# --- gunicorn --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_rss(url: str, paths: list[str], requests: int = 5) -> float:
    """Peak RSS in MB of gunicorn's workers (started as docs/deploy.md runs it, production
    settings, pages stored as by default) after each path was requested `requests` times."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": secrets.token_hex(32),
        "LOG_LEVEL": "ERROR",
    }
    env.pop("STORED_PAGES", None)  # gunicorn as deployed: pages stored, changes listened for
    env.pop("STORED_PAGES_LISTEN", None)
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-k", "gthread"]
    command += ["--workers", "2", "--threads", "8", "--bind", f"127.0.0.1:{port}"]
    command += ["--timeout", "60", "--max-requests", "2000", "--max-requests-jitter", "200"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                _get(f"{base}/static/missing")
                break
            except OSError:
                time.sleep(0.1)
        for path in paths * requests:
            _get(base + path)
        workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        return max(_rss_mb(int(pid)) for pid in workers)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _get(url: str) -> None:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            response.read()
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- export ----------------------------------------------------------------------------------


def measure_export(url: str, rows: int, runs: int) -> dict[str, float]:
    """bench/export.py's measurement of the CSV export of every tag, against COPY."""
    measured = export.measure(url, runs)

    def median(name: str, index: int) -> float:
        return sorted(run[index] for run in measured["runs"][name])[
            len(measured["runs"][name]) // 2
        ]

    streaming = median("export", 0) - median("startup", 0)
    return {
        "rows": rows,
        "export_s": median("export", 0),
        "streaming_rows_per_s": rows / streaming if streaming > 0 else 0.0,
        "copy_rows_per_s": rows / median("copy", 0),
        "ratio_to_copy": median("copy", 0) / streaming if streaming > 0 else 0.0,
        "peak_rss_mb": median("export", 1),
    }


# --- steps -----------------------------------------------------------------------------------


def import_step(
    url: str, vocab: corpus.Vocabulary, state: dict, size: int, seed: int, identical: float
) -> dict:
    """Write the domains that bring the database to `size` captures, import them, delete the
    files; return the corpus step's facts and the import's measurement."""
    folder = Path(tempfile.mkdtemp(prefix="palimpsest-scale-"))
    try:
        started = time.process_time()
        step = corpus.write_pll_step(
            folder,
            vocab,
            first_domain=state["next_domain"],
            captures=size - state["captures"],
            seed=seed,
            identical=identical,
        )
        generated = time.process_time() - started
        connection.close()
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0"}
        measured = import_bench.measure_import(folder, env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    state["next_domain"] = step.next_domain
    # Counted, not summed: a step run again after an interrupted one finds some of its
    # captures already present (the domains are the same, seeded by number).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM policies_snapshot")
        state["captures"] = cursor.fetchone()[0]
    cpu = measured.cpu_seconds + (measured.postgres_cpu_seconds or 0.0)
    return {
        "corpus": step.summary() | {"generation_cpu_s": round(generated, 1)},
        "files": measured.files,
        "new": measured.new,
        "unchanged": measured.unchanged,
        "present": measured.present,
        "failed": measured.failed,
        "wall_s": measured.seconds,
        "captures_per_s": measured.per_second,
        "py_cpu_s": measured.cpu_seconds,
        "pg_cpu_s": measured.postgres_cpu_seconds,
        "captures_per_cpu_s": measured.files / cpu if cpu else 0.0,
        "peak_rss_mb": measured.peak_rss_mb,
    }


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _commit() -> str:
    return subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def measure_reading(args: argparse.Namespace, results: dict) -> dict:
    """The database's sizes, the pages, search and a gunicorn worker's memory, as they are."""
    record = {"reading_load_before": _load(), "reading_commit": _commit()}
    record["sizes_mb"] = database_sizes(args.database_url)
    record["pages"] = measure_pages(results["pages"], args.runs)
    record["search"] = measure_search(results["queries"], args.search_runs)
    paths = [
        *results["pages"].values(),
        *(
            f"/search/?q={q.replace(' ', '+')}"
            for qs in results["queries"].values()
            for q in qs[:1]
        ),
    ]
    record["gunicorn_worker_rss_mb"] = gunicorn_rss(args.database_url, paths)
    return record


def measure_size(args: argparse.Namespace, results: dict, vocab) -> dict:
    """Grow the database to the next size and measure everything there."""
    state = results["state"]
    size = args.sizes[len(results["sizes"])]
    first = not results["sizes"]
    load_before = _load()
    record = {"size": size, "commit": _commit(), "load_before": load_before}
    record["import"] = import_step(args.database_url, vocab, state, size, args.seed, args.identical)
    record["captures"] = state["captures"]
    print(
        f"\n== {state['captures']:,} captures ({state['next_domain']:,} domains), commit "
        f"{record['commit']}, load {load_before} before the import, {_load()} after",
        flush=True,
    )
    if first:
        results["pages"] = page_urls()
        total, lexemes = search.lexemes_by_share(args.database_url)
        results["queries"] = search.query_classes(lexemes, args.queries, args.seed)
        record["tags_filled_s"] = export.fill_tags(args.database_url, args.export_rows)
    record |= measure_reading(args, results)
    if first or size == args.sizes[-1]:
        record["export"] = measure_export(args.database_url, args.export_rows, args.export_runs)
    record["load_after"] = _load()
    return record


def report(record: dict, base: dict | None, check: bool) -> None:
    """Print one size's figures, with meets/MISSES against the first size's when `check`."""
    imported = record["import"]
    print(
        f"corpus step: {imported['corpus']}\n"
        f"import: {imported['files']:,} files ({imported['new']:,} new, "
        f"{imported['unchanged']:,} unchanged, {imported.get('present', 0):,} already present, "
        f"{imported['failed']} failed) in "
        f"{imported['wall_s']:.0f} s wall, py CPU {imported['py_cpu_s']:.0f} s, PG CPU "
        f"{imported['pg_cpu_s'] or 0:.0f} s, peak RSS {imported['peak_rss_mb']:.0f} MB"
    )
    sizes = record["sizes_mb"]
    print(
        "sizes MB: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in sizes.items() if not k.startswith("table "))
    )
    base_figures = figures(base) if base else {}
    for name, (value, unit, higher) in figures(record).items():
        if name not in base_figures or not check:
            print(f"{name}: {value:,.1f} {unit}")
            continue
        reference = base_figures[name][0]
        goal = reference / GROWTH if higher else reference * GROWTH
        goals.check(
            f"scale {name} at {record['captures']:,} captures, within {GROWTH}x of "
            f"{base['captures']:,} ({reference:,.1f} {unit})",
            value,
            goal,
            unit,
            at_least=higher,
        )


def main(args: argparse.Namespace) -> None:
    results = {
        "identical": args.identical,
        "seed": args.seed,
        "sizes": [],
        "state": {"next_domain": 0, "captures": 0},
    }
    if args.resume and args.json.exists():
        results = json.loads(args.json.read_text())
    else:
        benchdb.recreate_database(args.database_url, migrate=True)
    print(f"database {benchdb.database_name(args.database_url)}, results in {args.json}")
    static_root = Path(os.environ["STATIC_ROOT"])
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    vocab = corpus.load_vocabulary()
    try:
        if args.remeasure and results["sizes"]:
            results["sizes"][-1] |= measure_reading(args, results)
            args.json.write_text(json.dumps(results, indent=1) + "\n")
            report(results["sizes"][-1], None, check=False)
        while len(results["sizes"]) < len(args.sizes):
            (
                _,
                _,
                free,
            ) = shutil.disk_usage(ROOT)
            if free < 10e9:
                print(f"stopping: {free / 1e9:.0f} GB free on the disk")
                break
            record = measure_size(args, results, vocab)
            results["sizes"].append(record)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1) + "\n")
            report(
                record, results["sizes"][0] if len(results["sizes"]) > 1 else None, not args.smoke
            )
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
        connection.close()
        if not args.keep:
            benchdb.drop_database(args.database_url)


if __name__ == "__main__":
    main(ARGS)
