"""PNG plots for the report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first
from matplotlib import ticker

COLORS = {"asgi": "#1f77b4", "wsgi": "#d62728"}


@dataclass
class Series:
    """One line: a label, x values and y values, with optional error half-widths."""

    label: str
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    err: list[float] = field(default_factory=list)
    mode: str = ""


def line_plot(
    series: list[Series], title: str, xlabel: str, ylabel: str, path: Path, logx: bool = False
) -> Path:
    """Draw one line per series (error bars when given) and save it as a PNG at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    try:
        styles = ["-", "--", ":", "-."]
        seen: dict[str, int] = {}
        for s in series:
            if not s.x:
                continue
            k = seen.get(s.mode, 0)
            seen[s.mode] = k + 1
            ax.errorbar(
                s.x,
                s.y,
                yerr=s.err if s.err and len(s.err) == len(s.y) else None,
                label=s.label,
                marker="o",
                capsize=4,
                linestyle=styles[k % len(styles)],
                color=COLORS.get(s.mode),
            )
        if logx:
            ax.set_xscale("log")
        xs = sorted({x for s in series for x in s.x})
        if xs:  # ticks at the measured levels, as plain numbers
            ax.set_xticks(xs)
            ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if any(s.x for s in series):
            ax.legend()
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
