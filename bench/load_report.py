"""Turn bench/load.sh's wrk results into the Markdown table of docs/benchmarks.md.

    .venv/bin/python bench/load_report.py RESULTS.tsv --out docs/benchmarks.md [...]

RESULTS.tsv has one line per page: label, path, bytes, then the JSON line bench/wrk_report.lua
printed for the page and for its same-size static twin. The results replace what lies between
the markers in --out (the text around them is kept), or make a new file. Exit status 1 when any
response was not 2xx or any socket error happened.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

START = "<!-- bench/load.sh results: start -->"
END = "<!-- bench/load.sh results: end -->"


def read_results(path: Path) -> list[dict]:
    """The TSV rows as dicts with the page's and the static twin's wrk figures."""
    rows = []
    with path.open(newline="") as handle:
        for label, url, size, page, static in csv.reader(handle, delimiter="\t"):
            rows.append(
                {
                    "label": label,
                    "path": url,
                    "bytes": int(size),
                    "page": json.loads(page),
                    "static": json.loads(static),
                }
            )
    return rows


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _postgres_version() -> str:
    import psycopg

    url = re.sub(r"\?.*$", "", os.environ.get("DATABASE_URL", ""))
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SHOW server_version").fetchone()[0].split()[0]
    except psycopg.Error:
        return "?"


def _wrk_version() -> str:
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found = re.search(r"wrk (\S+)", result.stdout + result.stderr)
    return found.group(1) if found else "?"


def machine() -> str:
    """One line: cores, CPU, OS and the versions that matter."""
    return (
        f"{os.cpu_count()} cores ({_cpu_model()}), Linux {platform.release()}, "
        f"Python {platform.python_version()}, Django {version('django')}, "
        f"gunicorn {version('gunicorn')}, whitenoise {version('whitenoise')}, "
        f"PostgreSQL {_postgres_version()}, wrk {_wrk_version()}"
    )


def _ratio(page: float, static: float) -> str:
    return f"{page / static:.2f}" if static else "n/a"


def render(rows: list[dict], args: argparse.Namespace) -> str:
    """The results block: how it was run, on what, and one line per page."""
    lines = [
        START,
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `DURATION={args.duration} "
        f"CONNECTIONS={args.connections} bench/load.sh`, wrk with {args.wrk_threads} threads, "
        f"gunicorn `-k gthread --workers {args.workers} --threads {args.threads}` on "
        "127.0.0.1, production settings (DEBUG off, SSL redirect on, `X-Forwarded-Proto: "
        "https` sent), PostgreSQL on the same machine, database freshly imported from "
        "`sample_data/`, every page warmed before it is measured.",
        "",
        f"Machine: {machine()}. wrk, gunicorn and PostgreSQL share the cores; load average "
        f"{args.load_before} before the run, {args.load_after} after.",
        "",
        'Latencies in milliseconds. "Static" is whitenoise serving a file with the page\'s '
        "exact bytes in the same run; the ratios are page / static for latency and "
        "static / page for throughput, so each says how many times the static file is faster.",
        "",
        "| page | bytes | non-2xx | req/s | p50 | p99 | static req/s | static p50 "
        "| static p99 | req/s ratio | p50 ratio | p99 ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        page, static = row["page"], row["static"]
        non2xx = page["non2xx"] + page["socket_errors"]
        lines.append(
            f"| {row['label']} (`{row['path']}`) | {row['bytes']:,} | {non2xx} of "
            f"{page['requests']:,} | {page['rps']:,.1f} | {page['p50_ms']:.1f} | "
            f"{page['p99_ms']:.1f} | {static['rps']:,.0f} | {static['p50_ms']:.2f} | "
            f"{static['p99_ms']:.2f} | {_ratio(static['rps'], page['rps'])} | "
            f"{_ratio(page['p50_ms'], static['p50_ms'])} | "
            f"{_ratio(page['p99_ms'], static['p99_ms'])} |"
        )
    bad_static = sum(r["static"]["non2xx"] + r["static"]["socket_errors"] for r in rows)
    lines += ["", f"Static twins: {bad_static} non-2xx responses or socket errors.", END]
    return "\n".join(lines) + "\n"


PREAMBLE = """## Load (`bench/load.sh`)

Command: `bench/load.sh` (30 s per URL, 16 connections; see the script's header for settings).
It recreates a PostgreSQL database, imports `sample_data/`, runs `collectstatic` into a
temporary STATIC_ROOT, starts gunicorn with production settings on a free loopback port, warms
each page, then runs wrk on each page and on a static file holding the same bytes.

"""


def write(out: Path, block: str) -> None:
    """Replace the results block in `out`, or create the file around it."""
    if out.exists() and START in (text := out.read_text()) and END in text:
        head, rest = text.split(START, 1)
        out.write_text(head + block.rstrip("\n") + rest.split(END, 1)[1])
    else:
        out.write_text(PREAMBLE + block)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    for name in ("duration", "connections", "wrk-threads", "workers", "threads"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--load-before", default="?")
    parser.add_argument("--load-after", default="?")
    args = parser.parse_args()
    rows = read_results(args.results)
    block = render(rows, args)
    write(args.out, block)
    print(block)
    failures = sum(
        r[kind]["non2xx"] + r[kind]["socket_errors"] for r in rows for kind in ("page", "static")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
