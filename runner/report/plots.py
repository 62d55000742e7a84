"""PNG plots for the report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use(): the backend must be chosen first
from matplotlib import ticker

from runner.report.cells import Cell

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


PLOTS = "plots"


def make_plots(cells: list[Cell], out_dir: Path) -> dict[str, list[Path]]:
    """Throughput and p99 against concurrency per scenario (and keep-alive), one line per
    mode x view x config; error bars are the 95% CI across repetitions."""
    by_scenario: dict[tuple[str, bool], dict[tuple[str, str, str], list[Cell]]] = defaultdict(
        lambda: defaultdict(list)
    )
    configs = {(c.mode, c.config) for c in cells}
    several = len(configs) > len({m for m, _ in configs})
    for c in cells:
        if c.valid:
            by_scenario[(c.scenario, c.keepalive)][(c.mode, c.view, c.config)].append(c)
    made: dict[str, list[Path]] = {}
    for (scenario, keepalive), lines in sorted(by_scenario.items()):
        thr, p99 = _series(lines, several)
        suffix = "-keepalive" if keepalive else ""
        name = f"{scenario}{suffix}"
        logx = max((c.concurrency for ln in lines.values() for c in ln), default=1) >= 50
        made[name] = [
            line_plot(
                thr,
                f"{scenario}{' (keep-alive)' if keepalive else ''}: throughput",
                "concurrency",
                "requests/s (mean, 95% CI)",
                out_dir / PLOTS / f"{name}-throughput.png",
                logx=logx,
            ),
            line_plot(
                p99,
                f"{scenario}{' (keep-alive)' if keepalive else ''}: p99 latency",
                "concurrency",
                "p99 latency, ms (mean, 95% CI)",
                out_dir / PLOTS / f"{name}-p99.png",
                logx=logx,
            ),
        ]
    return made


def _series(
    lines: dict[tuple[str, str, str], list[Cell]], several: bool
) -> tuple[list[Series], list[Series]]:
    """Throughput and p99 lines, one per mode x view x config, in concurrency order."""
    thr, p99 = [], []
    for (mode, view, config), line in sorted(lines.items()):
        line.sort(key=lambda c: c.concurrency)
        label = f"{mode.upper()} {view}" + (f" [{config}]" if several else "")
        thr.append(
            Series(
                label,
                [c.concurrency for c in line],
                [c.rps_mean() or 0.0 for c in line],
                [c.rps_half_ci() or 0.0 for c in line],
                mode,
            )
        )
        pts = [c for c in line if c.latency("p99") is not None]
        p99.append(
            Series(
                label,
                [c.concurrency for c in pts],
                [c.latency("p99") or 0.0 for c in pts],
                [c.latency_half_ci("p99") or 0.0 for c in pts],
                mode,
            )
        )
    return thr, p99
