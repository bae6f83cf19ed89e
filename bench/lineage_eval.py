"""Lineage against people: hand-checked decisions on real histories of the sample corpus.

    .venv/bin/python bench/lineage_eval.py [--cases PATH] [--database-url postgres://...]
        [--sqlite] [-v]

Imports the captures named in a file of cases into a fresh database (`palimpsest_bench_lineage`
on PostgreSQL, or a temporary SQLite file with --sqlite) from `sample_data/corpus-sample` and
`sample_data/seeds`. `--cases` defaults to the set the thresholds were chosen on,
`annotations/tests/data/lineage_eval.yaml`; `annotations/tests/data/lineage_heldout.yaml` is the
held-out set (other captures). Tags each clause of the file through the normal tagging path
(which runs lineage), and compares every copy with the decision written down by hand: carried
(to which occurrence), proposed (to which clause) or removed. Prints, per expected outcome, how
many decisions are right, lists the wrong ones, and checks two properties over every decision
lineage made: no copy dropped (each match lineage finds is a row) and no fragment carried (a
carried copy of a whole clause is a whole clause of its capture). `-v` also prints each copy's
similarity.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import benchdb  # noqa: E402
import goals  # noqa: E402 (bench/ is the script's folder)

DB_NAME = "palimpsest_bench_lineage"
EVAL_FILE = ROOT / "annotations/tests/data/lineage_eval.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchdb.database_arguments(parser, DB_NAME)
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite database")
    parser.add_argument(
        "--cases",
        type=Path,
        default=EVAL_FILE,
        help="the hand-checked decisions (default: the tuning set; "
        "annotations/tests/data/lineage_heldout.yaml: the held-out set)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--companies",
        help="only these histories, comma-separated (CI's smoke run: the test suite runs them all)",
    )
    args = parser.parse_args()

    if args.sqlite:
        path = Path(tempfile.mkdtemp()) / "lineage_eval.sqlite3"
        url = f"sqlite:///{path}"
    else:
        url = benchdb.recreate_database(args.database_url, migrate=True)
    benchdb.use_database(url)
    if args.sqlite:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    from django.db import connection

    from annotations.lineage.evaluation import Cases, evaluate, load_cases
    from annotations.tests.factories import make_user, sample_captures
    from policies.importing.importer import import_paths
    from policies.permissions import REVIEWER

    cases = load_cases(args.cases)
    if args.companies:
        wanted = set(args.companies.split(","))
        cases = Cases([tag for tag in cases.tags if tag.company in wanted])
    import_paths(sample_captures(cases))
    report = evaluate(cases, make_user("evaluator", REVIEWER))

    print(
        f"{args.cases.name}: {len(cases.tags)} tagged clauses in {len(cases.companies)} histories, "
        f"{report.total} decisions"
    )
    by_outcome: dict[str, Counter] = defaultdict(Counter)
    for decision in report.decisions:
        by_outcome[decision.expected_kind]["total"] += 1
        by_outcome[decision.expected_kind]["right"] += decision.right
    for kind in ("carried", "proposed", "removed"):
        counts = by_outcome[kind]
        print(f"  {kind:<9} {counts['right']:>3} / {counts['total']:<3} right")
    right = sum(d.right for d in report.decisions)
    print(f"  {'all':<9} {right:>3} / {report.total:<3} right ({100 * right / report.total:.1f}%)")
    print(
        f"copies merged into the same tag: {report.merged}; "
        f"dropped silently: {len(report.dropped)}; fragments carried: {len(report.fragments)}"
    )
    # The goal lines name the set, so the held-out figure is never read as the tuning one.
    held_out = "" if args.cases.resolve() == EVAL_FILE else f" ({args.cases.stem})"
    goals.check(
        f"lineage decisions right{held_out}", 100 * right / report.total, 95, "%", at_least=True
    )
    goals.check(f"lineage copies dropped silently{held_out}", len(report.dropped), 0, "")
    goals.check(f"lineage fragments carried as unchanged{held_out}", len(report.fragments), 0, "")
    for problem in report.dropped + report.fragments:
        print(f"  ! {problem}")
    wrong = [d for d in report.decisions if not d.right]
    if wrong:
        print("wrong decisions:")
    for decision in wrong:
        print(f"  - {decision}")
    if args.verbose:
        print("all decisions:")
        for decision in report.decisions:
            print(f"  {'ok ' if decision.right else 'BAD'} {decision}")
    if not args.keep and not args.sqlite:
        connection.close()
        benchdb.drop_database(args.database_url)
    sys.exit(0 if not report.dropped and not report.fragments else 1)


if __name__ == "__main__":
    main()
