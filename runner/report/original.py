"""The original study's published figures, carried as data (runner/data/original.json,
transcribed from the seed notes), and the report's section that sets ours beside them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from runner.report.cells import Cell, Pair
from runner.report.text import fmt, pct, rps_text, table

DATA = Path(__file__).resolve().parents[1] / "data" / "original.json"


@dataclass(frozen=True)
class OriginalFigure:
    """One published ab run of the original study (times in ms)."""

    mode: str
    path: str
    concurrency: int
    requests: int
    rps: float
    mean_ms: float
    p50: float
    p90: float
    p99: float
    max: float
    failed: int


@cache
def original_study() -> dict[str, Any]:
    """The whole data file: source, stack, machine, figures, missing runs."""
    return json.loads(DATA.read_text(encoding="utf-8"))


def original_figures() -> list[OriginalFigure]:
    """The published figures, one per (mode, concurrency)."""
    return [OriginalFigure(**f) for f in original_study()["figures"]]


def original_figure(mode: str, concurrency: int) -> OriginalFigure | None:
    """The published figure for `mode` at `concurrency`, if the study published one."""
    for fig in original_figures():
        if fig.mode == mode and fig.concurrency == concurrency:
            return fig
    return None


def _original_rows(study: dict[str, Any], cells: list[Cell]) -> list[list[str]]:
    """One row per published figure with ours beside it, then the runs it never made."""
    rows = []
    for fig in sorted(study["figures"], key=lambda f: (f["concurrency"], f["mode"])):
        ours = [
            c
            for c in cells
            if c.scenario == "users"
            and c.mode == fig["mode"]
            and c.concurrency == fig["concurrency"]
            and any(s.path == fig["path"] for s in c.samples)
        ]
        ours.sort(key=lambda c: len(c.valid), reverse=True)
        mine = ours[0] if ours else None
        ours_rps = mine.rps_mean() if mine else None
        rows.append(
            [
                fig["mode"].upper(),
                f"`{fig['path']}`",
                str(fig["concurrency"]),
                f"{fig['rps']:.2f}",
                rps_text(mine) if mine else "not measured",
                f"x{ours_rps / fig['rps']:.2f}" if ours_rps else "-",
                f"{fig['p50']:,} / {fig['p99']:,}",
                (f"{fmt(mine.latency('p50'), 0)} / {fmt(mine.latency('p99'), 0)}" if mine else "-"),
            ]
        )
    for miss in study.get("missing", []):
        rows.append(
            [
                miss["mode"].upper(),
                f"`{miss['path']}`",
                str(miss["concurrency"]),
                "none published",
                "see the tables above",
                "-",
                miss["note"],
                "-",
            ]
        )
    return rows


ORIGINAL_HEADER = [
    "mode",
    "path",
    "c",
    "original req/s",
    "ours req/s",
    "ours / original",
    "original p50 / p99 ms",
    "ours p50 / p99 ms",
]


def original_section(cells: list[Cell], pairs: list[Pair]) -> list[str]:
    """The original study's figures beside ours, and what each can conclude."""
    study = original_study()
    machine = study["machine"]
    rows = _original_rows(study, cells)
    ours_c5 = next(
        (p for p in pairs if p.scenario == "users" and p.concurrency == 5 and p.view == "original"),
        None,
    )
    a5, w5 = original_figure("asgi", 5), original_figure("wsgi", 5)
    assert a5 and w5
    lines = [
        "## The original study beside ours",
        "",
        f"The original ({study['source']}) ran ab on the same {machine['name']} "
        f"({machine['cpu_model']}, {machine['cores']} cores / {machine['cpus']} threads, "
        f"{machine['memory_mib']:,} MiB) as the server, one run per figure, no repetitions. "
        "Its users page is CPU-bound, so absolute figures depend on the CPU: compare the "
        "ratio between modes, not the raw numbers.",
        "",
        *table(ORIGINAL_HEADER, rows),
        "",
        f"The original's own figures differ by {(a5.rps - w5.rps) / w5.rps * 100:+.1f}% "
        "(ASGI against WSGI at concurrency 5) from a single run each: no interval, so no "
        "verdict can be drawn from them.",
    ]
    if ours_c5:
        lines.append(
            f"Ours at concurrency 5, {ours_c5.verdict.n_asgi}+{ours_c5.verdict.n_wsgi} "
            f"repetitions: {pct(ours_c5.verdict.diff_pct)}, verdict "
            f"**{ours_c5.verdict.verdict}** ({ours_c5.verdict.reason})."
        )
    lines.append("")
    return lines
