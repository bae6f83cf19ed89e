"""Agreement between annotators who tagged the same units independently.

A *unit* is one section (or clause) of one capture that all its assigned annotators marked
done. For each category, an annotator's *rating* of a unit is 1 if they put at least one tag
of that category in the unit, else 0 (binary, present/absent). Units may have different
annotator sets (OPP-115: ten annotators overall, three per policy).

Statistics, per category and for "all" (see `category_agreement`):
- Fleiss' kappa (statsmodels), which needs the same number of raters in every unit: it is
  computed over the units with the most common number of raters, and the row's note says how
  many units were left out;
- Krippendorff's alpha, nominal (the `krippendorff` package), over an annotators x units
  reliability matrix with NaN where an annotator did not rate a unit; it uses every unit;
- percent agreement: in each unit, the share of annotator pairs who gave the same rating,
  averaged over the units.
Units with fewer than two annotators say nothing about agreement and are left out of all three.

Kappa and alpha are *undefined* (None, with a note) when there is no variation at all: every
rating of every annotator in every unit is the same (a category nobody used, or one everybody
used everywhere). Then observed and chance agreement are both 1 and the formula is 0/0;
percent agreement is 1.0. When annotators agree within every unit but the ratings do vary
across units, kappa and alpha are 1.0.

Pure module: takes data, returns data; no Django, no ORM.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# krippendorff, statsmodels and scikit-learn are imported where they are used: together they
# take two seconds and 100 MB to import, which every process that loads the URLs (each
# management command's system checks, each web worker) would otherwise pay.

__all__ = [
    "ALL",
    "AgreementRow",
    "Unit",
    "category_agreement",
    "cohen_matrix",
    "disagreements",
]

ALL = "all"


@dataclass(frozen=True)
class Unit:
    key: str  # e.g. "amazon.com/2015-07-02/§3"
    ratings: Mapping[str, frozenset[str]]  # annotator -> categories they tagged in the unit


@dataclass(frozen=True)
class AgreementRow:
    category: str  # a category slug, or "all"
    units: int  # units with at least two annotators
    annotators: int  # distinct annotators over those units
    fleiss_kappa: float | None  # None where undefined; `note` says why
    krippendorff_alpha: float | None
    percent_agreement: float | None  # mean pairwise agreement within units, 0-1
    note: str = ""


@dataclass(frozen=True)
class _Ratings:
    """Every rating as an array: units x annotators x categories, 1.0/0.0, NaN = not rated."""

    units: list[Unit]
    annotators: list[str]
    values: np.ndarray


def _ratings(units: Sequence[Unit], categories: Sequence[str]) -> _Ratings:
    # Units with fewer than two annotators cannot show agreement or disagreement.
    kept = [unit for unit in units if len(unit.ratings) >= 2]
    annotators = sorted({annotator for unit in kept for annotator in unit.ratings})
    column = {annotator: n for n, annotator in enumerate(annotators)}
    layer = {category: n for n, category in enumerate(categories)}
    values = np.full((len(kept), len(annotators), len(categories)), np.nan)
    for row, unit in enumerate(kept):
        for annotator, tagged in unit.ratings.items():
            values[row, column[annotator], :] = 0.0
            for category in tagged:
                if category in layer:
                    values[row, column[annotator], layer[category]] = 1.0
    return _Ratings(kept, annotators, values)


def category_agreement(units: Sequence[Unit], categories: Sequence[str]) -> list[AgreementRow]:
    """One row per category (in the given order), then a row "all".

    Each category row rates every unit present/absent per annotator. The row "all" pools the
    categories: every (unit, category) pair is one item, rated present/absent by the unit's
    annotators, and the three statistics are computed over all those items together (so a
    category used often weighs as much as one used rarely, and agreeing that a category is
    absent counts as agreement). Categories not in `categories` are ignored.
    """
    ratings = _ratings(units, categories)
    annotators = len(ratings.annotators)
    rows = [
        _row(category, ratings.values[:, :, n], annotators, per_unit=1)
        for n, category in enumerate(categories)
    ]
    units_count, _, categories_count = ratings.values.shape
    pooled = ratings.values.transpose(0, 2, 1).reshape(units_count * categories_count, annotators)
    rows.append(_row(ALL, pooled, annotators, per_unit=max(len(categories), 1)))
    return rows


def _row(category: str, items: np.ndarray, annotators: int, per_unit: int) -> AgreementRow:
    """The statistics of an items x annotators matrix of 1/0/NaN; every item has >= 2 raters
    and each unit gives `per_unit` consecutive items."""
    import krippendorff

    units = len(items) // per_unit
    if len(items) == 0:
        return AgreementRow(category, 0, 0, None, None, None, "no unit with two annotators")
    rated = ~np.isnan(items)
    raters = rated.sum(axis=1)
    present = np.nansum(items, axis=1)
    agreement = float(np.mean(_pair_agreement(present, raters)))
    if present.sum() == 0:
        note = "undefined: no variation, no annotator tagged it in any unit"
        return AgreementRow(category, units, annotators, None, None, agreement, note)
    if present.sum() == raters.sum():
        note = "undefined: no variation, every annotator tagged it in every unit"
        return AgreementRow(category, units, annotators, None, None, agreement, note)
    kappa, note = _fleiss(items, rated, raters, per_unit)
    alpha = krippendorff.alpha(
        reliability_data=items.T, value_domain=[0.0, 1.0], level_of_measurement="nominal"
    )
    return AgreementRow(category, units, annotators, kappa, float(alpha), agreement, note)


def _pair_agreement(present: np.ndarray, raters: np.ndarray) -> np.ndarray:
    """Per item, the share of rater pairs who agree: (C(k,2) + C(n-k,2)) / C(n,2)."""
    absent = raters - present
    agreeing = present * (present - 1) + absent * (absent - 1)
    return agreeing / (raters * (raters - 1))


def _fleiss(
    items: np.ndarray, rated: np.ndarray, raters: np.ndarray, per_unit: int
) -> tuple[float | None, str]:
    """Fleiss' kappa over the units with the most common number of raters (ties: the most)."""
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    counts = Counter(raters.tolist())
    n = max(counts, key=lambda size: (counts[size], size))
    same = raters == n
    note = ""
    if not same.all():
        kept, left_out = int(same.sum()) // per_unit, int((~same).sum()) // per_unit
        note = f"Fleiss' kappa over the {kept} units with {n} annotators ({left_out} left out)"
    # Each kept item's ratings in a row: the subjects x raters table statsmodels aggregates.
    table, _ = aggregate_raters(items[same][rated[same]].reshape(-1, n).astype(int), n_cat=2)
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        undefined = "Fleiss' kappa undefined: no variation in those units"
        return None, f"{note}; {undefined}" if note else undefined
    return float(fleiss_kappa(table, method="fleiss")), note


def cohen_matrix(
    units: Sequence[Unit], categories: Sequence[str]
) -> dict[tuple[str, str], float | None]:
    """Cohen's kappa of every ordered pair of distinct annotators (both orders, same value).

    Over the (unit, category) items both annotators rated: the units they both rated, each
    with every category, present/absent. None when they share no unit, or when kappa is
    undefined (both gave one and the same rating to every shared item).
    """
    ratings = _ratings(units, categories)
    matrix: dict[tuple[str, str], float | None] = {}
    for a, b in itertools.combinations(range(len(ratings.annotators)), 2):
        first, second = ratings.values[:, a, :].ravel(), ratings.values[:, b, :].ravel()
        both = ~np.isnan(first) & ~np.isnan(second)
        kappa = _cohen(first[both].astype(int), second[both].astype(int))
        pair = ratings.annotators[a], ratings.annotators[b]
        matrix[pair] = matrix[pair[::-1]] = kappa
    return matrix


def _cohen(first: np.ndarray, second: np.ndarray) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if len(first) == 0:
        return None
    values = np.union1d(first, second)
    if len(values) == 1:  # chance agreement 1: kappa is 0/0
        return None
    return float(cohen_kappa_score(first, second, labels=[0, 1]))


def disagreements(
    units: Sequence[Unit], categories: Sequence[str], limit: int
) -> list[tuple[Unit, str, float]]:
    """The (unit, category) pairs annotators disagree on most, at most `limit` of them.

    Score: the share of the unit's annotator pairs who gave different ratings for the category
    (0 = all agree, so never listed; with three annotators every disagreement scores 2/3).
    Ordered by score, then by how many categories the unit has disagreements in (units with
    more come first), then by the order of `units` and of `categories`.
    """
    ratings = _ratings(units, categories)
    if limit <= 0 or ratings.values.size == 0:
        return []
    raters = (~np.isnan(ratings.values)).sum(axis=1)  # units x categories
    present = np.nansum(ratings.values, axis=1)
    score = 1.0 - _pair_agreement(present, raters)
    per_unit = np.broadcast_to((score > 0).sum(axis=1, keepdims=True), score.shape)
    unit_index, category_index = np.indices(score.shape)
    order = np.lexsort(
        (category_index.ravel(), unit_index.ravel(), -per_unit.ravel(), -score.ravel())
    )
    found = []
    for flat in order[:limit]:
        row, column = divmod(int(flat), len(categories))
        if score[row, column] <= 0:
            break
        found.append((ratings.units[row], categories[column], float(score[row, column])))
    return found
