"""A company's history page: its captures in order with change sizes and the chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from policies.comparing.comparison import change_sizes
from policies.models import Company, Snapshot
from policies.reading.charts import HistoryChart, history_chart


@dataclass(frozen=True)
class HistoryRow:
    snapshot: Snapshot
    previous: Snapshot | None
    words_added: int
    words_removed: int

    @property
    def unchanged(self) -> bool:
        """The one meaning of "unchanged": the same wording as the previous capture."""
        return self.previous is not None and self.snapshot.unchanged

    @property
    def wording_only(self) -> bool:
        """Changed, but no word was added or removed (punctuation, a moved section)."""
        return (
            self.previous is not None
            and not self.unchanged
            and not (self.words_added or self.words_removed)
        )


@dataclass(frozen=True)
class CompanyHistory:
    rows: list[HistoryRow]
    chart: HistoryChart | None


def company_history(company: Company) -> CompanyHistory:
    """Every capture of `company`, oldest first, with words added/removed since the previous one.

    A fixed number of queries: the captures, then the cached comparisons (computing and storing
    the missing ones in two more).
    """
    snapshots = list(company.snapshots.for_timeline())
    pairs = zip([None, *snapshots[:-1]], snapshots, strict=True)
    pairs = list(pairs)
    sizes = change_sizes({(p.text_id, s.text_id) for p, s in pairs if p is not None})
    rows = [
        HistoryRow(s, p, *(sizes.get((p.text_id, s.text_id), (0, 0)) if p else (0, 0)))
        for p, s in pairs
    ]
    chart = history_chart(
        [
            (
                r.snapshot.captured_at,
                r.snapshot.text.word_count,
                (r.words_added + r.words_removed) if r.previous else None,
            )
            for r in rows
        ]
    )
    return CompanyHistory(rows, chart)


def nearest_capture(company: Company, token: str) -> Snapshot | None:
    """The company's capture closest in time to a URL token (a 14-digit timestamp, or a date
    taken at noon) that matched none, as the Wayback Machine does; None for a token that is no
    date, or a company without captures."""
    for pattern, shift in (("%Y%m%d%H%M%S", timedelta()), ("%Y-%m-%d", timedelta(hours=12))):
        try:
            moment = datetime.strptime(token, pattern).replace(tzinfo=UTC) + shift
            break
        except ValueError:
            continue
    else:
        return None
    captures = company.snapshots.order_by("captured_at")
    before = captures.filter(captured_at__lt=moment).last()
    after = captures.filter(captured_at__gte=moment).first()
    if before is None or after is None:
        return before or after
    return before if moment - before.captured_at <= after.captured_at - moment else after
