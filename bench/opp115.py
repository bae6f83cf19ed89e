"""Benchmark `manage.py import_opp115` and the campaign's agreement at the corpus's full size.

    .venv/bin/python bench/opp115.py RELEASE [--policies 115] [--runs 3] [--database-url URL]

RELEASE is an OPP-115 release in its authors' layout (the whole corpus, or the three-policy
excerpt in ../shared/opp115-excerpt). The corpus is never copied into the repository: the
script builds, in a temporary folder, a release of `--policies` policies by repeating the given
ones under new numbers and domains (the excerpt's 3 policies have 83 segments and 636 data
practices, so 115 policies give about 3,200 segments and 24,000 practices: the size of
OPP-115, 3,792 segments and 23,000 practices). Then, R times, on a fresh migrated database:
the import (its own process, wall seconds) and `manage.py agreement opp-115` (wall seconds,
Django start-up included, and the statistics alone). Prints medians and the machine's load.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import benchdb  # noqa: E402 (bench/ is the script's folder)
import goals  # noqa: E402

DB_NAME = "palimpsest_bench_opp115"
_NAME = re.compile(r"^(\d+)_(.+)\.(html|csv)$")


def build_release(source: Path, target: Path, policies: int) -> int:
    """Repeat the source release's policies under new numbers and domains; returns segments."""
    for folder in ("sanitized_policies", "annotations", "documentation"):
        (target / folder).mkdir(parents=True)
    originals = sorted(p for p in (source / "sanitized_policies").glob("*.html"))
    dates = {}
    with (source / "documentation" / "policies_opp115.csv").open(newline="") as handle:
        for row in csv.reader(handle):
            if row and row[0].isdigit():
                dates[row[0]] = row
    rows, segments = (
        [["Policy UID", "Policy URL", "Policy collection date", "Policy last updated date", ""]],
        0,
    )
    for n in range(policies):
        original = originals[n % len(originals)]
        number, domain, _ = _NAME.match(original.name).groups()
        new_number, new_domain = str(10_000 + n), f"copy{n}-{domain}"
        html = original.read_text()
        segments += html.count("|||") + 1
        (target / "sanitized_policies" / f"{new_number}_{new_domain}.html").write_text(html)
        annotations = source / "annotations" / f"{number}_{domain}.csv"
        (target / "annotations" / f"{new_number}_{new_domain}.csv").write_text(
            annotations.read_text()
        )
        rows.append([new_number, *dates[number][1:]])
    with (target / "documentation" / "policies_opp115.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return segments


# The agreement page's work in a warm process: units from the database, then the statistics.
_IN_PROCESS = """
import time, statistics as s
import krippendorff, sklearn.metrics, statsmodels.stats.inter_rater
from annotations.campaigns.adjudication import agreement
from annotations.models import Campaign
c = Campaign.objects.get(slug="opp-115")
runs = []
for _ in range(5):
    t = time.perf_counter(); agreement(c); runs.append(time.perf_counter() - t)
print(s.median(runs))
"""


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release", type=Path)
    parser.add_argument("--policies", type=int, default=115)
    parser.add_argument("--runs", type=int, default=3)
    benchdb.database_arguments(parser, DB_NAME)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="palimpsest-opp115-"))
    manage = [sys.executable, str(ROOT / "manage.py")]
    try:
        segments = build_release(args.release, scratch / "release", args.policies)
        imports, agreements, warm, summary = [], [], [], ""
        for _ in range(args.runs):
            url = benchdb.recreate_database(args.database_url, migrate=True)
            env = {**os.environ, "DATABASE_URL": url}
            seconds, summary = _timed([*manage, "import_opp115", str(scratch / "release")], env)
            imports.append(seconds)
            agreements.append(_timed([*manage, "agreement", "opp-115"], env)[0])
            warm.append(float(_timed([*manage, "shell", "-c", _IN_PROCESS], env)[1].split()[-1]))
        startup = statistics.median(
            _timed([*manage, "check"], {**os.environ, "DATABASE_URL": url})[0] for _ in range(3)
        )
        print(f"{args.policies} policies, {segments:,} segments; load {os.getloadavg()[0]:.1f}")
        print(summary.splitlines()[0])
        print(
            f"import_opp115: median {statistics.median(imports):.1f} s of {args.runs} "
            f"(range {min(imports):.1f}-{max(imports):.1f}); goal <= 60 s"
        )
        print(
            f"manage.py agreement opp-115: median {statistics.median(agreements):.2f} s, of "
            f"which Django start-up about {startup:.2f} s"
        )
        print(
            "agreement in a warm process (units from the database, every statistic): median "
            f"{statistics.median(warm):.2f} s; goal <= 1 s"
        )
        label = f"{args.policies} policies"
        goals.check(f"import_opp115, {label}", statistics.median(imports), 60, "s")
        goals.check(f"agreement in a warm process, {label}", statistics.median(warm), 1, "s")
        if not args.keep:
            benchdb.drop_database(args.database_url)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
