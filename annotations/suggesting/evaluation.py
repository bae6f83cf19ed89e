"""How well the category model does, measured the way the field measures it.

`cross_validate` (pure: a corpus in, figures out) splits the sections by company with
scikit-learn's `GroupKFold`, so no policy is ever on both sides of a split; it fits the model on
each training side and predicts the held-out sections, and fits the issue's baseline (TF-IDF word
1-2-grams, one default logistic regression per category, no tuning) on the same folds. Figures are
per category over every held-out section (precision, recall, F1), and their macro average over
the categories that have a positive section.

`campaign_corpus` reads a campaign's labels through adjudication's units and votes (not a second
derivation): `majority` counts a category in a unit when more than half of the unit's annotators
tagged it there; `gold` takes the campaign's gold layer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import GroupKFold

from annotations.campaigns.adjudication import campaign_categories, campaign_units, rule_accepts
from annotations.models import Annotation, Campaign
from annotations.suggesting.classifier import (
    Corpus,
    baseline_predict,
    fit_predictor,
    macro_f1,
    prf,
)

LABELS = ("majority", "gold")


class EvaluationError(ValueError):
    """The campaign cannot be evaluated (too few companies, no labelled unit)."""


@dataclass
class Scores:
    """One method's figures: per category precision, recall, F1, support; the macro F1."""

    categories: dict[str, dict] = field(default_factory=dict)
    macro_f1: float | None = None


@dataclass
class Evaluation:
    campaign: str
    labels: str
    folds: int
    sections: int
    companies: int
    model: Scores
    baseline: Scores
    seconds: float
    fold_companies: list[tuple[list[str], list[str]]]  # (trained on, tested on) per fold

    def as_dict(self) -> dict:
        return {
            "campaign": self.campaign,
            "labels": self.labels,
            "unit": "section",
            "folds": self.folds,
            "sections": self.sections,
            "companies": self.companies,
            "model": {"categories": self.model.categories, "macro_f1": self.model.macro_f1},
            "baseline": {
                "categories": self.baseline.categories,
                "macro_f1": self.baseline.macro_f1,
            },
            "seconds": round(self.seconds, 1),
        }


def grouped_folds(groups: Sequence[str], folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) per fold, every group wholly on one side."""
    if len(set(groups)) < max(folds, 2):
        raise EvaluationError(
            f"{folds} folds need at least {max(folds, 2)} companies; there are {len(set(groups))}"
        )
    return list(GroupKFold(n_splits=folds).split(np.zeros(len(groups)), groups=list(groups)))


def _scores(predicted: list[set[str]], truth: list[frozenset[str]], categories) -> Scores:
    figures = {}
    for slug in categories:
        hits = np.fromiter((slug in p for p in predicted), dtype=bool, count=len(predicted))
        real = np.fromiter((slug in t for t in truth), dtype=bool, count=len(truth))
        figures[slug] = prf(hits, real)
    return Scores(figures, macro_f1(figures))


def cross_validate(corpus: Corpus, categories: Sequence[str], folds: int) -> Evaluation:
    """Section-level grouped cross-validation of the model and of the baseline (pure)."""
    started = time.perf_counter()
    splits = grouped_folds(corpus.companies, folds)
    model: list[set[str]] = [set() for _ in corpus.sections]
    baseline: list[set[str]] = [set() for _ in corpus.sections]
    sides = []
    for train, test in splits:
        sides.append(
            (
                sorted({corpus.companies[i] for i in train}),
                sorted({corpus.companies[i] for i in test}),
            )
        )
        predictor = fit_predictor(corpus.subset(train), categories)
        texts = [corpus.sections[i] for i in test]
        for i, pairs in zip(test, predictor.predict_sections(texts), strict=True):
            model[i] = {slug for slug, _ in pairs}
        train_texts = [corpus.sections[i] for i in train]
        train_labels = [corpus.section_labels[i] for i in train]
        for i, chosen in zip(
            test, baseline_predict(train_texts, train_labels, texts, categories), strict=True
        ):
            baseline[i] = chosen
    return Evaluation(
        campaign="",
        labels="",
        folds=folds,
        sections=len(corpus.sections),
        companies=len(set(corpus.companies)),
        model=_scores(model, corpus.section_labels, categories),
        baseline=_scores(baseline, corpus.section_labels, categories),
        seconds=time.perf_counter() - started,
        fold_companies=sides,
    )


def _gold_spans(campaign: Campaign) -> dict[tuple[int, int], list[tuple[int, int, str]]]:
    spans: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    gold = Annotation.objects.filter(campaign=campaign, layer=Annotation.Layer.GOLD).shown()
    for snapshot_id, section_id, start, end, slug in gold.values_list(
        "snapshot_id", "section_id", "start", "end", "category__slug"
    ):
        spans.setdefault((snapshot_id, section_id), []).append((start, end, slug))
    return spans


def _unit_labels(unit, gold: dict | None) -> set[str]:
    """The unit's categories: the majority of its annotators' votes, or (with `gold`) the
    gold tags overlapping it."""
    if gold is None:
        return {
            slug
            for slug, voters in unit.votes.items()
            if rule_accepts(Campaign.Rule.MAJORITY, len(voters), len(unit.raters))
        }
    a, b = unit.span
    spans = gold.get((unit.snapshot.pk, unit.section.pk), [])
    return {slug for start, end, slug in spans if start < b and end > a}


def campaign_corpus(campaign: Campaign, labels: str) -> Corpus:
    """The campaign's finished sections (and their clauses) with `majority` or `gold` labels,
    grouped by company. A section shared by captures of one company is kept once."""
    if labels not in LABELS:
        raise EvaluationError(f"labels must be one of {', '.join(LABELS)}")
    gold = _gold_spans(campaign) if labels == "gold" else None
    clauses: dict[tuple[int, int], list] = {}
    for unit in campaign_units(campaign, unit="clause"):
        key = (unit.snapshot.pk, unit.section.pk)
        text = unit.section.plain[unit.span[0] : unit.span[1]]
        clauses.setdefault(key, []).append((text, _unit_labels(unit, gold)))
    corpus, seen = Corpus(), set()
    for unit in campaign_units(campaign):
        if unit.section.pk in seen:
            continue
        seen.add(unit.section.pk)
        corpus.add_section(
            unit.section.plain,
            _unit_labels(unit, gold),
            unit.snapshot.company.slug,
            clauses.get((unit.snapshot.pk, unit.section.pk), []),
        )
    if not corpus.sections:
        raise EvaluationError(f"campaign {campaign.slug!r} has no finished unit to evaluate")
    return corpus


def evaluate_campaign(campaign: Campaign, labels: str, folds: int) -> Evaluation:
    """Cross-validate the model and the baseline on the campaign's sections and labels."""
    corpus = campaign_corpus(campaign, labels)
    categories = [c.slug for c in campaign_categories(campaign)]
    evaluation = cross_validate(corpus, categories, folds)
    evaluation.campaign, evaluation.labels = campaign.slug, labels
    return evaluation
