"""Charts of bench/scale.py's results: each figure against the corpus size, one small chart per
figure in one SVG, with the 1.5x limit against the first size drawn as a dashed line.

    .venv/bin/python bench/scale_chart.py docs/scale/scale-15pc.json [--output FILE.svg]

Plain SVG written by hand (no plotting library in the project's dependencies).
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path

PANEL_W, PANEL_H, COLUMNS = 300, 190, 3
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 34, 36
# Each figure within this factor of its value at the first size (bench/scale.py's goals).
GROWTH = 1.5


def figures(record: dict) -> dict[str, tuple[float, str, bool]]:
    """name: (value, unit, higher is better) of one size's record of bench/scale.py: the
    figures it compares with the first size's, and the charts show."""
    imported = record["import"]
    out = {
        "import, captures/s (wall)": (imported["captures_per_s"], "captures/s", True),
        "import, captures per CPU second": (imported["captures_per_cpu_s"], "captures/s", True),
        "database, kB per capture": (
            record["sizes_mb"]["database"] * 1000 / record["captures"],
            "kB",
            False,
        ),
    }
    # Wall time, and CPU time (the process and its PostgreSQL backend): on a shared machine the
    # wall time mostly measures the CPU queue.
    timed = [(label.split(" (")[0] + " page", page) for label, page in record["pages"].items()]
    for name, measured in [*timed, ("search", record["search"]["all"])]:
        for key, what in (("p50", "p50"), ("p99", "p99"), ("cpu_p50", "CPU p50")):
            if key in measured:  # results measured before CPU time was
                out[f"{name}, {what}"] = (measured[key], "ms", False)
    out["gunicorn worker RSS"] = (record["gunicorn_worker_rss_mb"], "MB", False)
    if "export" in record:
        out["CSV export, rows/s"] = (record["export"]["streaming_rows_per_s"], "rows/s", True)
    return out


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.0f}k" if value >= 10_000 else f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _panel(name: str, points: list[tuple[int, float]], unit: str, higher: bool) -> list[str]:
    """SVG elements of one chart, at the origin (the caller translates it)."""
    width, height = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM
    limit = points[0][1] / GROWTH if higher else points[0][1] * GROWTH
    top = max([v for _, v in points] + [limit]) * 1.1 or 1
    most = max(x for x, _ in points)

    def at(x: float, y: float) -> tuple[float, float]:
        return LEFT + width * x / most, TOP + height * (1 - y / top)

    out = [
        f'<text x="{PANEL_W / 2}" y="16" text-anchor="middle" class="t">{escape(name)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + height}" x2="{LEFT + width}" y2="{TOP + height}" '
        'class="a"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + height}" class="a"/>',
    ]
    for share in (0, 0.5, 1):
        _, y = at(0, top * share)
        out.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(top * share)}</text>'
        )
    out.append(f'<text x="{LEFT - 4}" y="{TOP - 8}" text-anchor="end">{escape(unit)}</text>')
    x0, y0 = at(0, limit)
    x1, _ = at(most, limit)
    out.append(f'<line x1="{x0}" y1="{y0:.1f}" x2="{x1}" y2="{y0:.1f}" class="l"/>')
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(px, py) for px, py in points))
    out.append(f'<polyline points="{line}" class="p"/>')
    for px, py in points:
        x, y = at(px, py)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
        out.append(
            f'<text x="{x:.1f}" y="{TOP + height + 14}" text-anchor="middle">{_number(px)}</text>'
        )
    out.append(
        f'<text x="{LEFT + width / 2}" y="{PANEL_H - 4}" text-anchor="middle">captures</text>'
    )
    return out


def chart(results: dict) -> str:
    """One SVG: a chart per figure of the results' sizes."""
    records = results["sizes"]
    series: dict[str, list[tuple[int, float]]] = {}
    kinds: dict[str, tuple[str, bool]] = {}
    for record in records:
        for name, (value, unit, higher) in figures(record).items():
            series.setdefault(name, []).append((record["captures"], value))
            kinds[name] = (unit, higher)
    rows = -(-len(series) // COLUMNS)
    width, height = PANEL_W * COLUMNS, PANEL_H * rows + 30
    title = (
        f"Palimpsest at growing corpus sizes ({round(results['identical'] * 100)}% of consecutive"
        " captures identical); dashed: 1.5x the first size's figure"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
        "<style>.t{font-size:12px;font-weight:bold}.a{stroke:#444}"
        ".l{stroke:#c33;stroke-dasharray:4 3}.p{fill:none;stroke:#1f5fa8;stroke-width:2}"
        "circle{fill:#1f5fa8}</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="8" y="18" class="t">{escape(title)}</text>',
    ]
    for index, (name, points) in enumerate(series.items()):
        x, y = PANEL_W * (index % COLUMNS), 30 + PANEL_H * (index // COLUMNS)
        out.append(f'<g transform="translate({x},{y})">')
        out += _panel(name, points, *kinds[name])
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def markdown(results: dict) -> str:
    """The figures as a Markdown table, one column per size, with each size's ratio to the
    first (where a higher figure is better, first / figure) and meets/MISSES."""
    records = results["sizes"]
    base = figures(records[0])
    head = ["figure", *(f"{r['captures']:,} captures" for r in records), "worst ratio", "1.5x"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name, (first, unit, higher) in base.items():
        cells, ratios = [], []
        for record in records:
            value = figures(record).get(name)
            if value is None:
                cells.append("")
                continue
            ratio = (first / value[0] if higher else value[0] / first) if first else 1.0
            ratios.append(ratio)
            shown = f"{value[0]:,.0f}" if value[0] >= 100 else f"{value[0]:.1f}"
            cells.append(shown + (f" ({ratio:.2f}x)" if record is not records[0] else ""))
        worst = max(ratios[1:], default=None)
        verdict = "" if worst is None else ("meets" if worst <= GROWTH else "**MISSES**")
        worst_cell = "" if worst is None else f"{worst:.2f}x"
        lines.append(f"| {name} ({unit}) | " + " | ".join([*cells, worst_cell, verdict]) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--markdown", action="store_true", help="print the figures' table too")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.results.read_text())))
    output = args.output or args.results.with_suffix(".svg")
    output.write_text(chart(json.loads(args.results.read_text())))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
