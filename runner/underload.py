"""Time under load: how much of a job's wall time the load generators spent in timed
windows (a repetition's own timed span: the CPU window when it was read, else the
tool's own span), never the tools' whole runs, warm-ups or set-up."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MEASURED_KINDS = ("timed", "crosscheck", "openloop")


def window_s(sample: dict[str, Any]) -> float:
    """One record's timed window in seconds (0 for a record that is not a measured load)."""
    if sample.get("kind", "timed") not in MEASURED_KINDS:
        return 0.0
    window = (sample.get("extra") or {}).get("cpu_window") or {}
    return float(window.get("window_s") or sample.get("duration_s") or 0.0)


def under_load_s(samples: Iterable[dict[str, Any]]) -> float:
    """Seconds of timed windows over the records."""
    return sum(window_s(s) for s in samples)


def summary_line(samples: list[dict[str, Any]], wall_s: float) -> str:
    """The main job's line: time under load against its wall time."""
    busy = under_load_s(samples)
    share = f" ({busy / wall_s * 100:.0f}%)" if wall_s > 0 else ""
    return f"time under load: {busy:.1f} s of timed windows in {wall_s:.1f} s of wall time{share}"
