"""What the agreement and adjudication pages, the CSV and the `agreement` command show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from annotations.campaigns.adjudication import UnitVotes, rule_accepts
from annotations.campaigns.agreement import AgreementRow
from annotations.models import Campaign, Category, GoldDecision

# Landis and Koch's reading of kappa, drawn on the chart: moderate, substantial, almost perfect.
GUIDES = (0.0, 0.4, 0.6, 0.8, 1.0)
# The agreement CSV's and the `agreement` command's columns.
AGREEMENT_COLUMNS = (
    "category",
    "unit",
    "units",
    "annotators",
    "fleiss_kappa",
    "krippendorff_alpha",
    "percent_agreement",
)


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def agreement_record(row: AgreementRow, unit: str) -> list[str | int]:
    """One CSV row: category, unit, units, annotators, Fleiss' kappa, Krippendorff's alpha,
    percent agreement (empty where undefined)."""
    return [
        row.category,
        unit,
        row.units,
        row.annotators,
        _figure(row.fleiss_kappa),
        _figure(row.krippendorff_alpha),
        _figure(row.percent_agreement),
    ]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    y: float
    width: float  # 0 for an undefined kappa (labelled so)
    text: str


@dataclass(frozen=True)
class KappaChart:
    width: int
    height: int
    left: int
    plot_width: int
    bars: list[Bar]
    guides: list[tuple[float, str]]  # x, label
    description: str


def kappa_chart(
    rows: list[AgreementRow],
    names: dict[str, str] | None = None,
    *,
    width: int = 640,
    row_height: int = 26,
) -> KappaChart:
    """Horizontal bars of Fleiss' kappa per category (0 to 1; a negative kappa draws no bar),
    labelled with the categories' `names` where given."""
    names = names or {}
    values = [(names.get(row.category, row.category), row.fleiss_kappa) for row in rows]
    return bar_chart(values, "Fleiss' kappa", width=width, row_height=row_height)


def bar_chart(
    values: list[tuple[str, float | None]],
    measure: str,
    *,
    width: int = 640,
    row_height: int = 26,
) -> KappaChart:
    """Horizontal bars from 0 to 1, one per (label, value); an undefined value draws no bar
    and says so, a value outside 0..1 is drawn at the nearer end. `measure` names the values
    in the chart's text alternative."""
    left, right = 220, 16
    plot = width - left - right
    bars = []
    for n, (label, value) in enumerate(values):
        shown = max(0.0, min(1.0, value)) if value is not None else 0.0
        text = "undefined" if value is None else f"{value:.2f}"
        bars.append(Bar(label, value, 8 + n * row_height, shown * plot, text))
    height = 8 + len(values) * row_height + 24
    guides = [(left + g * plot, f"{g:.1f}") for g in GUIDES]
    described = ", ".join(f"{b.label} {b.text}" for b in bars)
    return KappaChart(width, height, left, plot, bars, guides, f"{measure}: {described}.")


@dataclass(frozen=True)
class Choice:
    category: Category
    voters: list[str]
    default_accept: bool  # what the campaign's rule would decide
    decision: GoldDecision | None


@dataclass(frozen=True)
class AdjudicationRow:
    unit: UnitVotes
    choices: list[Choice]  # disagreements first, then agreed categories


def adjudication_rows(
    campaign: Campaign, units: list[UnitVotes], categories: Iterable[Category]
) -> list[AdjudicationRow]:
    """For each unit (disputed ones first), the categories anyone voted for or decided, each
    with its voters, the rule's default and the decision taken so far."""
    categories = list(categories)
    rows = []
    for unit in sorted(units, key=lambda u: (-u.disputed, u.section.position)):
        choices = [
            Choice(
                category,
                sorted(unit.votes.get(category.slug, ())),
                rule_accepts(
                    campaign.rule, len(unit.votes.get(category.slug, ())), len(unit.raters)
                ),
                unit.decisions.get(category.slug),
            )
            for category in categories
            if unit.votes.get(category.slug) or category.slug in unit.decisions
        ]
        choices.sort(key=lambda c: len(c.voters) == len(unit.raters))
        rows.append(AdjudicationRow(unit, choices))
    return rows
