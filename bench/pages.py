"""Server time of the reading pages on PostgreSQL (in-process, Django's test client, no network).

    .venv/bin/python bench/pages.py [--database-url postgres://...] [--runs 21]

Creates (and drops) its own database, `palimpsest_bench_pages`, imports the bundled sample and
two synthetic 50,000-word captures with about 5% of their words edited, then reports p50/p90
per page: the first request (rendering or diffing, then stored) and warm requests.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchdb  # noqa: E402 (bench/ is the script's folder)

DB_NAME = "palimpsest_bench_pages"


def _synthetic_pair(folder: Path) -> None:
    """Two captures of bench50k.example: 50,000 words in 60 sections, then ~5% of words edited."""
    from policies.tests.factories import write_policy

    rng = random.Random(7)
    words = (ROOT / "sample_data/corpus-sample/live.com_2019-12-31.md").read_text().split()
    words = [w for w in words if w.isalpha()]
    sections = []
    for n in range(60):
        paragraphs = []
        for _ in range(7):
            sentence_words = [rng.choice(words) for _ in range(119)]
            paragraphs.append(" ".join(sentence_words).capitalize() + ".")
        sections.append((f"Section {n} {rng.choice(words)}", paragraphs))
    old = "".join(f"## {h}\n\n" + "\n\n".join(ps) + "\n\n" for h, ps in sections)
    edited = old.split(" ")
    for i in rng.sample(range(len(edited)), len(edited) // 20):
        edited[i] = rng.choice(words)
    write_policy(folder, "bench50k.example", "20180101000000", old)
    write_policy(folder, "bench50k.example", "20190101000000", " ".join(edited))


def measure_page(
    client, url: str, runs: int, *, cpu: list[float] | None = None
) -> tuple[float, list[float]]:
    """Milliseconds of the first request of `url` (which must answer 200), then of `runs`
    more, sorted; with `cpu`, each one's CPU milliseconds (`benchdb.cpu_seconds`) are appended
    to it."""
    start = time.perf_counter()
    response = client.get(url)
    first = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        cpu_start = benchdb.cpu_seconds() if cpu is not None else 0.0
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((benchdb.cpu_seconds() - cpu_start) * 1000)
    return first, sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchdb.database_arguments(parser, DB_NAME)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    benchdb.recreate_database(args.database_url, migrate=True)
    # The pages' rendering is measured here; serving them stored is bench/load.sh's part.
    benchdb.use_database(args.database_url, test_client=True, STORED_PAGES="0")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    from django.db import connection
    from django.test import Client

    from policies.importing.importer import import_paths

    folder = Path(tempfile.mkdtemp())
    _synthetic_pair(folder)
    import_paths([ROOT / "sample_data", folder])
    client = Client()
    pages = [
        ("home (27 companies)", "/", 20),
        ("company: psiphon3.com (3 captures)", "/companies/psiphon3.com/", 20),
        ("capture: live.com, 34,000 words", "/companies/live.com/2019-12-31/", 60),
        (
            "capture: livejournal.com 2014 (2,250 words)",
            "/companies/livejournal.com/2014-06-30/",
            20,
        ),
        (
            "compare: livejournal.com 2014 -> 2017 (typical, small change)",
            "/companies/livejournal.com/compare/2014-06-30...2017-04-03/",
            20,
        ),
        (
            "compare: livejournal seeds, complete rewrite",
            "/companies/livejournal.com/compare/2004-12-31...2005-06-22/",
            200,
        ),
        (
            "compare: two 50,000-word captures, 5% edits",
            "/companies/bench50k.example/compare/2018-01-01...2019-01-01/",
            150,
        ),
        ("capture: one of the 50,000-word captures", "/companies/bench50k.example/2019-01-01/", 60),
    ]
    print(f"{'page':<62} {'first':>9} {'p50':>8} {'p90':>8}  goal (p50)")
    for label, url, goal in pages:
        first, times = measure_page(client, url, args.runs)
        p50, p90 = statistics.median(times), times[int(len(times) * 0.9) - 1]
        verdict = "meets" if p50 <= goal else "MISSES"
        print(f"{label:<62} {first:7.0f}ms {p50:6.1f}ms {p90:6.1f}ms  {goal} ms ({verdict})")
    if not args.keep:
        connection.close()
        benchdb.drop_database(args.database_url)


if __name__ == "__main__":
    main()
