"""What the `/suggestions/` page shows of the category model: the version serving, its
held-out figures per category (a chart and a table) and every version trained."""

from __future__ import annotations

from dataclasses import dataclass

from annotations.campaigns.reports import KappaChart, bar_chart
from annotations.models import Category, SuggesterModel

# The page lists this many versions, newest first.
HISTORY = 50


@dataclass(frozen=True)
class CategoryFigures:
    slug: str
    name: str
    threshold: float | None
    precision: float | None
    recall: float | None
    f1: float | None
    support: int | None  # held-out clauses with the category
    section_f1: float | None
    sections: int  # training sections with the category
    clauses: int  # training clauses with the category


@dataclass(frozen=True)
class Overview:
    current: SuggesterModel | None
    rows: list[CategoryFigures]
    chart: KappaChart | None
    history: list[SuggesterModel]
    training: bool


def _rows(model: SuggesterModel, names: dict[str, str]) -> list[CategoryFigures]:
    clause = model.evaluation.get("clause", {})
    section = model.evaluation.get("section", {})
    rows = []
    for slug, name in names.items():
        figures = clause.get("categories", {}).get(slug, {})
        positives = model.positives.get(slug, {})
        if not figures and not positives:
            continue
        rows.append(
            CategoryFigures(
                slug,
                name,
                clause.get("thresholds", {}).get(slug),
                figures.get("precision"),
                figures.get("recall"),
                figures.get("f1"),
                figures.get("support"),
                section.get("categories", {}).get(slug, {}).get("f1"),
                positives.get("sections", 0),
                positives.get("clauses", 0),
            )
        )
    return rows


def model_overview() -> Overview:
    """The page's data in three queries: the versions (without their fitted bytes), the
    categories' names, and whether one is training."""
    history = list(SuggesterModel.objects.for_history()[:HISTORY])
    current = next((m for m in history if m.status == SuggesterModel.Status.READY), None)
    if current is None:
        current = SuggesterModel.objects.for_history().ready().first()
    names = dict(Category.objects.values_list("slug", "name"))
    rows = _rows(current, names) if current is not None else []
    chart = (
        bar_chart([(r.name, r.f1) for r in rows], "Held-out F1 per category, clauses")
        if rows
        else None
    )
    training = any(m.status == SuggesterModel.Status.TRAINING for m in history)
    return Overview(current, rows, chart, history, training)
