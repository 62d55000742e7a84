"""The open-loop pictures, as pure functions of figures (matplotlib, Agg backend):
the latency spectrum (latency against percentile on a log "1 - p" axis, as HdrHistogram
plots it) and latency against offered rate with the target drawn as a line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first
from matplotlib import ticker

from runner.report.plots import COLORS


@dataclass
class Spectrum:
    """One line of the spectrum: [percentile, ms] points (the last may be [100, max])."""

    label: str
    points: list[list[float]]
    mode: str = ""


@dataclass
class RatePoint:
    """One sample on the latency-vs-rate plot; overload samples are drawn hollow."""

    offered: float
    latency_ms: float
    overload: bool = False


@dataclass
class RateSeries:
    """One mode's samples on the latency-vs-rate plot."""

    label: str
    points: list[RatePoint] = field(default_factory=list)
    mode: str = ""


def spectrum_x(percentile: float, n_max: float = 1e6) -> float:
    """Where a percentile sits on the spectrum's x axis: 1 / (1 - p), so p50 -> 2,
    p99 -> 100 and p99.9 -> 1000 (the max at `n_max`, past every measured point)."""
    tail = 1 - percentile / 100
    return n_max if tail <= 0 else 1 / tail


def spectrum_plot(
    lines: list[Spectrum], title: str, path: Path, target_ms: float | None = None
) -> Path:
    """Latency (y) against percentile on a log 1/(1 - p) axis (x), one line per mode; the
    max is drawn as a marker at the right of each line. Saved as a PNG at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    try:
        widest = 10.0
        for line in lines:
            body = [(spectrum_x(p), ms) for p, ms in line.points if p < 100]
            if not body:
                continue
            widest = max(widest, body[-1][0])
            color = COLORS.get(line.mode)
            xs, ys = zip(*body, strict=True)
            ax.plot(xs, ys, label=line.label, color=color, marker=".")
            peak = [ms for p, ms in line.points if p >= 100]
            if peak:
                ax.plot([body[-1][0] * 2], peak, marker="^", color=color, linestyle="none")
        if target_ms is not None:
            ax.axhline(target_ms, color="black", linestyle="--", linewidth=1, label="target")
        ax.set_xscale("log")
        ticks = [t for t in (2, 10, 100, 1000, 10_000, 100_000) if t <= widest * 2]
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_percentile_label))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_title(title)
        ax.set_xlabel("percentile (log scale of 1 - p; triangle: max)")
        ax.set_ylabel("latency from the intended start (ms)")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if lines:
            ax.legend()
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def _percentile_label(x: float, _pos: int) -> str:
    return f"p{100 - 100 / x:g}" if x > 1 else ""


def rate_plot(
    series: list[RateSeries], title: str, path: Path, target_ms: float, ylabel: str
) -> Path:
    """Latency (y, e.g. p99) against offered rate (x), one line per mode through its
    samples; overload samples hollow (stored and shown, never averaged); the target as a
    dashed line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    try:
        for s in series:
            pts = sorted(s.points, key=lambda p: p.offered)
            if not pts:
                continue
            color = COLORS.get(s.mode)
            ax.plot([p.offered for p in pts], [p.latency_ms for p in pts], color=color, alpha=0.5)
            ok = [p for p in pts if not p.overload]
            over = [p for p in pts if p.overload]
            ax.plot(
                [p.offered for p in ok],
                [p.latency_ms for p in ok],
                "o",
                color=color,
                label=s.label,
            )
            if over:
                ax.plot(
                    [p.offered for p in over],
                    [p.latency_ms for p in over],
                    "o",
                    markerfacecolor="none",
                    color=color,
                    label=f"{s.label} (overload)",
                )
        ax.axhline(target_ms, color="black", linestyle="--", linewidth=1, label="target")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("offered rate (requests/s)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
