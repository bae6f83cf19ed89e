"""What the agreement and adjudication pages, the CSV and the `agreement` command show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

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
    left, right = 250, 16  # room for "International and Specific Audiences"
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
    raters: int
    default_accept: bool  # what the campaign's rule would decide
    decision: GoldDecision | None
    quote: str = ""  # the text the annotators' tags of the category span in the unit

    @property
    def votes_text(self) -> str:
        return f"{len(self.voters)} of {self.raters}: {', '.join(self.voters)}"

    @property
    def decision_text(self) -> str:
        decision = self.decision
        if decision is None:
            return ""
        who = decision.decided_by.get_username() if decision.decided_by else decision.rule
        verdict = "in gold" if decision.accepted else "rejected"
        return f"{verdict} by {who}, {decision.decided_at:%Y-%m-%d %H:%M}"

    def html(self, section_id: int) -> SafeString:
        """The choice's line of the adjudication page: the category, who voted for it, the
        decision so far, and the accept and reject buttons (the one the rule would press is
        primary, and marked "(rule)" until someone decides)."""
        decision, accept = self.decision, self.default_accept
        marks = ("", "") if decision else ((" (rule)", "") if accept else ("", " (rule)"))
        badge = ""
        if decision:
            state = " status-succeeded" if decision.accepted else ""
            badge = f' <span class="badge{state}">{escape(self.decision_text)}</span>'
        # Every value below is escaped.
        return mark_safe(  # noqa: S308  # nosec B308 B703
            CHOICE_HTML.format(
                slug=escape(self.category.slug),
                name=escape(self.category.name),
                votes=escape(self.votes_text),
                quote=f' <q class="choice-quote">{escape(self.quote)}</q>' if self.quote else "",
                badge=badge,
                accept_class="" if accept else " secondary",
                reject_class=" secondary" if accept else "",
                value=f"{section_id:d} {escape(self.category.slug)}",
                accept_mark=marks[0],
                reject_mark=marks[1],
            )
        )


# Composed in Python rather than in the template: the page lists a thousand choices for a
# 200-section capture, and the template engine took about 0.1 s of CPU on their lookups alone
# (bench/adjudicate.py), format_html half that (its lazy-aware escaping); plain str.format with
# the standard library's escape (which Django's escape wraps) takes a tenth.
CHOICE_HTML = (
    '<li class="choice" data-category="{slug}" tabindex="0">'
    '<span class="tag-chip tag-{slug}">{name}</span> {votes}{badge}{quote} '
    '<span class="choice-buttons">'
    '<button class="button{accept_class}" name="choice" value="accept {value}" data-accept>'
    "Accept{accept_mark}</button> "
    '<button class="button{reject_class}" name="choice" value="reject {value}" data-reject>'
    "Reject{reject_mark}</button></span></li>"
)


@dataclass(frozen=True)
class AdjudicationRow:
    unit: UnitVotes
    choices: list[Choice]  # disagreements first, then agreed categories

    @property
    def choices_html(self) -> SafeString:
        """The unit's choices as list items (see `Choice.html`)."""
        section_id = self.unit.section.pk
        items = "\n".join(choice.html(section_id) for choice in self.choices)
        return mark_safe(items)  # noqa: S308  # nosec B308 B703 (each item is escaped by Choice.html)

    @property
    def summary(self) -> str:
        raters, disputed = len(self.unit.raters), self.unit.disputed
        text = f"{raters} annotator{'s' if raters != 1 else ''}"
        return text + (f" · {disputed} disputed" if disputed else "")


QUOTE_CHARS = 160


def _quote(unit: UnitVotes, slug: str) -> str:
    """The text from the first to the last character the category's tags cover in the unit,
    shortened at a word to about QUOTE_CHARS, so the curator sees what was tagged."""
    spans = unit.spans.get(slug)
    if not spans:
        return ""
    text = unit.section.plain[min(a for a, _ in spans) : max(b for _, b in spans)]
    if len(text) <= QUOTE_CHARS:
        return text
    return text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


def adjudication_rows(
    campaign: Campaign, units: list[UnitVotes], categories: Iterable[Category]
) -> list[AdjudicationRow]:
    """For each unit (disputed ones first), the categories anyone voted for or decided, each
    with its voters, the rule's default and the decision taken so far."""
    categories = list(categories)
    rows = []
    for unit in sorted(units, key=lambda u: (-u.disputed, u.section.position)):
        raters = len(unit.raters)
        choices = [
            Choice(
                category,
                sorted(unit.votes.get(category.slug, ())),
                raters,
                rule_accepts(campaign.rule, len(unit.votes.get(category.slug, ())), raters),
                unit.decisions.get(category.slug),
                _quote(unit, category.slug),
            )
            for category in categories
            if unit.votes.get(category.slug) or category.slug in unit.decisions
        ]
        choices.sort(key=lambda c: len(c.voters) == raters)
        rows.append(AdjudicationRow(unit, choices))
    return rows
