"""Benchmark annotations.campaigns.agreement on a corpus the size of OPP-115.

    .venv/bin/python bench/agreement.py [--runs 5] [--segments 3792] [--seed 115]

Synthetic units, built from a fixed seed: 115 policies with 3,792 segments between them, ten
annotators of whom three rate each policy, the ten OPP-115 categories. Each segment has "true"
categories (prevalence between 2% and 40%, as in the corpus); an annotator tags a true category
with probability 0.85 and any other with 0.01, which gives kappas of about 0.5-0.8. Prints the
median of N runs of category_agreement, cohen_matrix and disagreements(limit=50), and of the
three together (the goal: <= 1 s).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import goals  # noqa: E402 (bench/ is the script's folder)

from annotations.campaigns.agreement import (  # noqa: E402
    Unit,
    category_agreement,
    cohen_matrix,
    disagreements,
)
from annotations.campaigns.opp115 import CATEGORY_SLUGS  # noqa: E402

CATEGORIES = list(CATEGORY_SLUGS.values())  # the ten OPP-115 categories, in taxonomy order
PREVALENCE = [0.40, 0.30, 0.15, 0.06, 0.03, 0.08, 0.03, 0.02, 0.07, 0.35]


def synthetic_units(segments: int, seed: int, policies: int = 115) -> list[Unit]:
    """`segments` units spread over `policies`, three of ten annotators per policy."""
    rng = random.Random(seed)
    annotators = [f"opp115-{n}" for n in range(10)]
    units = []
    for n in range(segments):
        policy = n * policies // segments
        raters = random.Random(seed + policy).sample(annotators, 3)
        truth = {c for c, p in zip(CATEGORIES, PREVALENCE, strict=True) if rng.random() < p}
        ratings = {
            annotator: frozenset(
                c for c in CATEGORIES if rng.random() < (0.85 if c in truth else 0.01)
            )
            for annotator in raters
        }
        units.append(Unit(f"policy-{policy}/§{n}", ratings))
    return units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--segments", type=int, default=3792)
    parser.add_argument("--seed", type=int, default=115)
    args = parser.parse_args()
    units = synthetic_units(args.segments, args.seed)
    steps = {
        "category_agreement": lambda: category_agreement(units, CATEGORIES),
        "cohen_matrix": lambda: cohen_matrix(units, CATEGORIES),
        "disagreements": lambda: disagreements(units, CATEGORIES, 50),
    }
    times: dict[str, list[float]] = {name: [] for name in [*steps, "total"]}
    for _ in range(args.runs):
        total = 0.0
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            elapsed = time.perf_counter() - started
            times[name].append(elapsed)
            total += elapsed
        times["total"].append(total)
    print(f"{len(units)} units x 3 annotators x {len(CATEGORIES)} categories, {args.runs} runs")
    for name, values in times.items():
        print(f"{name:20} median {statistics.median(values) * 1000:8.1f} ms")
    for row in category_agreement(units, CATEGORIES):
        print(
            f"  {row.category:34} kappa {row.fleiss_kappa:.3f} "
            f"alpha {row.krippendorff_alpha:.3f} agreement {row.percent_agreement:.3f}"
        )
    goals.check(
        f"agreement statistics, {len(units):,} units (median total)",
        statistics.median(times["total"]) * 1000,
        1000,
        "ms",
    )


if __name__ == "__main__":
    main()
