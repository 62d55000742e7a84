"""The forest plot that opens a report: one row per cell (scenario x level x serving
configuration), the ASGI/WSGI throughput ratio as a point with its 95% interval on a log
axis (a ratio of 2 and one of 1/2 sit equally far from 1), a vertical line at 1, the
verdict beside each row. matplotlib with the Agg backend: no display needed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first
from matplotlib import ticker

from runner.report.stats import ASGI_FASTER, ASGI_SLOWER, NO_DIFFERENCE

VERDICT_COLORS = {ASGI_FASTER: "#1f77b4", ASGI_SLOWER: "#d62728", NO_DIFFERENCE: "#2ca02c"}
OTHER_COLOR = "#7f7f7f"
ROW_HEIGHT_IN = 0.38
MARGIN = 1.15  # the x axis reaches this factor beyond the outermost interval end
# Ratio ticks for a wide x range, and for a narrow one (all cells within ~+-25%).
WIDE_TICKS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 4.0, 10.0)
NARROW_TICKS = (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25)


@dataclass(frozen=True)
class ForestRow:
    """One cell: its label, ratio and interval (None when not measured) and verdict."""

    label: str
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str


@dataclass(frozen=True)
class ForestLayout:
    """Where everything goes: y of each row (the first row on top), the x range (always
    holding 1 and every interval), and the text beside each row."""

    ys: list[float]
    x_min: float
    x_max: float
    texts: list[str]


def forest_layout(rows: Sequence[ForestRow], equivalence_pct: float | None = None) -> ForestLayout:
    """The plot's geometry, separate from drawing so that it can be checked."""
    if not rows:
        raise ValueError("a forest plot needs at least one cell")
    ends = [1.0]
    if equivalence_pct:
        ends += [1 - equivalence_pct / 100, 1 + equivalence_pct / 100]
    for row in rows:
        ends += [v for v in (row.ratio, row.ci_low, row.ci_high) if v is not None and v > 0]
    texts = []
    for row in rows:
        if row.ratio is None:
            texts.append(f"{row.verdict} (no ratio)")
        elif row.ci_low is None or row.ci_high is None:
            texts.append(f"{row.ratio:.3f}, no interval: {row.verdict}")
        else:
            texts.append(f"{row.ratio:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}]  {row.verdict}")
    n = len(rows)
    return ForestLayout(
        ys=[float(n - 1 - i) for i in range(n)],
        x_min=min(ends) / MARGIN,
        x_max=max(ends) * MARGIN,
        texts=texts,
    )


def forest_plot(
    rows: Sequence[ForestRow],
    path: Path,
    title: str = "ASGI/WSGI throughput ratio, 95% CI",
    equivalence_pct: float | None = None,
) -> Path:
    """Draw the forest plot of `rows` (top to bottom in their order) as a PNG at `path`;
    `equivalence_pct` shades the band the "no significant difference" verdict needs."""
    layout = forest_layout(rows, equivalence_pct)
    path.parent.mkdir(parents=True, exist_ok=True)
    height = 1.3 + ROW_HEIGHT_IN * len(rows)
    fig, ax = plt.subplots(figsize=(10, height), dpi=110)
    try:
        if equivalence_pct:
            ax.axvspan(
                1 - equivalence_pct / 100, 1 + equivalence_pct / 100, color="#2ca02c", alpha=0.08
            )
        ax.axvline(1.0, color="black", linewidth=1)
        for row, y, text in zip(rows, layout.ys, layout.texts, strict=True):
            color = VERDICT_COLORS.get(row.verdict, OTHER_COLOR)
            if row.ci_low is not None and row.ci_high is not None:
                ax.plot([row.ci_low, row.ci_high], [y, y], color=color, linewidth=2)
            if row.ratio is not None:
                ax.plot([row.ratio], [y], marker="s", color=color, markersize=6)
            ax.annotate(
                text,
                xy=(1.02, y),
                xycoords=("axes fraction", "data"),
                va="center",
                fontsize=8,
                color=color,
            )
        ax.set_xscale("log")
        ax.set_xlim(layout.x_min, layout.x_max)
        ticks = NARROW_TICKS if layout.x_max / layout.x_min < 1.6 else WIDE_TICKS
        ax.set_xticks([t for t in ticks if layout.x_min <= t <= layout.x_max])
        ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_yticks(layout.ys, [row.label for row in rows], fontsize=8)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel("ASGI/WSGI requests/s (log scale; right of 1: ASGI faster)")
        ax.set_title(title)
        ax.grid(True, axis="x", alpha=0.3)
        fig.tight_layout()
        fig.subplots_adjust(right=0.62)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
