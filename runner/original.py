"""The original study's published figures, carried as data (runner/data/original.json,
transcribed from the seed notes) so the report can set ours beside them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "original.json"


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
