"""Benchmark the suggestions' category model at the size of OPP-115: training time, the loaded
model's memory, and prediction time for a 2,000-word capture.

    .venv/bin/python bench/suggester.py RELEASE [--policies 115] [--runs 3] [--database-url URL]

RELEASE is an OPP-115 release in its authors' layout (the three-policy excerpt in
../shared/opp115-excerpt will do): `bench/opp115.py`'s `build_release` repeats its policies up
to `--policies` (115 give 3,197 segments and about 21,000 tags; OPP-115 has 3,792 segments),
`import_opp115` loads them into a fresh bench database, then R times `train()` runs in a fresh
process (wall and CPU seconds of the training alone, and the process's peak RSS). A last process
loads the current version (`current_model()`) and reports the RSS it adds, then times
`predict` on the clauses of a 2,000-word capture.

The copies are made distinct (a sentence naming the copy at the end of every segment: the
importer stores identical texts once, which would leave three policies to train on). They still
have far fewer distinct words than the real corpus, so the model trained on them is smaller
than the real one would be. `--worst-case` therefore also fits a model on random words that fill
both vocabularies to their caps (`WORD_FEATURES`, `CHAR_FEATURES`) and reports its size and the
memory its loading allocates: the most any corpus can need.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import benchdb  # noqa: E402 (bench/ is the script's folder)
from opp115 import build_release  # noqa: E402

DB_NAME = "palimpsest_bench_suggester"

_RSS = """
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
"""

_TRAIN = """
import json, resource, time
from annotations.suggesting.model import train
wall, cpu = time.perf_counter(), time.process_time()
row = train()
print(json.dumps({"status": row.status, "error": row.error, "wall": time.perf_counter() - wall,
    "cpu": time.process_time() - cpu, "size": row.size, "sections": row.sections,
    "clauses": row.clauses, "tags": row.tags,
    "negatives": row.negatives,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "macro": {u: row.evaluation[u]["macro_f1"] for u in ("clause", "section")}}))
"""

_LOAD = (
    _RSS
    + """
import json, statistics, time
import annotations.suggesting.classifier  # the libraries, before measuring
from annotations.suggesting.model import current_model
from annotations.lineage.align import section_clauses
from policies.models import Section
import tracemalloc
before = rss(); tracemalloc.start()
t = time.perf_counter(); predictor = current_model(); load = time.perf_counter() - t
traced = tracemalloc.get_traced_memory()[0]; tracemalloc.stop(); after = rss()
clauses, words = [], 0
for section in Section.objects.order_by("pk").iterator():
    for a, b in section_clauses(section.plain):
        clauses.append(section.plain[a:b]); words += len(section.plain[a:b].split())
    if words >= 2000:
        break
predictor.predict(clauses)
runs = []
for _ in range(20):
    t = time.perf_counter(); predictor.predict(clauses); runs.append(time.perf_counter() - t)
print(json.dumps({"added_mb": after - before, "traced_mb": traced / 2**20, "load_s": load,
    "clauses": len(clauses),
    "words": words, "predict_ms": statistics.median(runs) * 1000,
    "predict_p90_ms": sorted(runs)[17] * 1000}))
"""
)

_WORST = (
    _RSS
    + """
import json, pickle, random, time, tracemalloc
from annotations.suggesting.classifier import CHAR_FEATURES, WORD_FEATURES, Corpus, fit_predictor
random.seed(0)
letters = "abcdefghijklmnopqrstuvwxyz"
vocabulary = ["".join(random.choices(letters, k=random.randint(4, 11))) for _ in range(40000)]
categories = [f"category-{n}" for n in range(10)]
corpus = Corpus()
for k in range(3200):
    clauses = []
    for _ in range(4):
        text = " ".join(random.choices(vocabulary, k=20)) + "."
        clauses.append((text, set(random.sample(categories, 2))))
    labels = set().union(*(c[1] for c in clauses))
    corpus.add_section(" ".join(c[0] for c in clauses), labels, f"company-{k % 115}", clauses)
t, c = time.perf_counter(), time.process_time()
predictor = fit_predictor(corpus, categories)
fit, cpu = time.perf_counter() - t, time.process_time() - c
blob = pickle.dumps(predictor, protocol=pickle.HIGHEST_PROTOCOL)
del predictor, corpus
tracemalloc.start(); loaded = pickle.loads(blob); traced = tracemalloc.get_traced_memory()[0]
print(json.dumps({"features": loaded.vectorizer.width, "caps": WORD_FEATURES + CHAR_FEATURES,
    "size_mb": len(blob) / 1e6, "traced_mb": traced / 2**20, "fit_s": fit, "cpu_s": cpu}))
"""
)


def _shell(code: str, env: dict[str, str]) -> dict:
    command = [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _make_distinct(release: Path) -> None:
    """End every segment of every copy with a sentence naming the copy: without it the copies
    are one text, stored once, and the model would train on three policies' sections. Only the
    end of a segment changes, so the annotations' offsets stay right."""
    for path in (release / "sanitized_policies").glob("*.html"):
        number = path.name.split("_", 1)[0]
        segments = path.read_text().split("|||")
        path.write_text("|||".join(f"{s} This is copy {number}." for s in segments))


def _import(release: Path, policies: int, database_url: str) -> dict[str, str]:
    scratch = Path(tempfile.mkdtemp(prefix="palimpsest-suggester-"))
    try:
        segments = build_release(release, scratch / "release", policies)
        _make_distinct(scratch / "release")
        url = benchdb.recreate_database(database_url, migrate=True)
        env = {**os.environ, "DATABASE_URL": url}
        command = [sys.executable, str(ROOT / "manage.py"), "import_opp115"]
        subprocess.run([*command, str(scratch / "release")], env=env, check=True, text=True)
        print(f"{policies} policies, {segments:,} segments imported")
        return env
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release", type=Path)
    parser.add_argument("--policies", type=int, default=115)
    parser.add_argument("--runs", type=int, default=3)
    benchdb.database_arguments(parser, DB_NAME)
    parser.add_argument("--worst-case", action="store_true")
    args = parser.parse_args()
    env = _import(args.release, args.policies, args.database_url)
    runs = [_shell(_TRAIN, env) for _ in range(args.runs)]
    for run in runs:
        if run["status"] != "ready":
            raise SystemExit(f"training failed: {run['error']}")
    last = runs[-1]
    print(
        f"trained on {last['tags']:,} tags: {last['sections']:,} sections, "
        f"{last['clauses']:,} clauses; stored model {last['size'] / 1e6:.1f} MB; held-out "
        f"macro-F1 clauses {last['macro']['clause']}, sections {last['macro']['section']} "
        "(copies of 3 policies: not a measure of quality)"
    )
    walls = [r["wall"] for r in runs]
    print(
        f"train(): median {statistics.median(walls):.1f} s wall (range {min(walls):.1f}-"
        f"{max(walls):.1f}), {statistics.median(r['cpu'] for r in runs):.1f} s CPU; peak RSS "
        f"of the training process {max(r['peak_mb'] for r in runs):.0f} MB; goal <= 60 s"
    )
    loaded = _shell(_LOAD, env)
    print(
        f"current_model(): loaded in {loaded['load_s']:.2f} s, adds {loaded['added_mb']:.1f} MB "
        f"RSS ({loaded['traced_mb']:.1f} MB allocated); goal <= 200 MB. predict() on a "
        f"{loaded['words']:,}-word capture "
        f"({loaded['clauses']} clauses): median {loaded['predict_ms']:.1f} ms, "
        f"p90 {loaded['predict_p90_ms']:.1f} ms"
    )
    if args.worst_case:
        worst = _shell(_WORST, env)
        print(
            f"worst case (vocabularies at their caps, {worst['features']:,} of "
            f"{worst['caps']:,} features): stored {worst['size_mb']:.1f} MB, loading allocates "
            f"{worst['traced_mb']:.1f} MB (fitted in {worst['fit_s']:.1f} s wall, "
            f"{worst['cpu_s']:.1f} s CPU)"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
    if not args.keep:
        benchdb.drop_database(args.database_url)


if __name__ == "__main__":
    main()
