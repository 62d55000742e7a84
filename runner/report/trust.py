"""The report's checks on its own figures: ab against wrk side by side (the `crosscheck`
records), and the repetitions marked disturbed or measured again, with why."""

from __future__ import annotations

from collections import Counter

from runner.model import Sample
from runner.report.cells import Cell, config_label
from runner.report.text import fmt, table
from runner.results import RunData

DISTURBANCES = {"steal": "CPU steal", "outside": "other work on the app host's CPUs"}
CROSS_FLAG_PCT = 5.0  # ab and wrk further apart than this are flagged

CROSS_HEADER = ["scenario", "view", "c", "mode", "ab req/s", "wrk req/s", "wrk vs ab", "flag"]


def _cell_of(cells: list[Cell], s: Sample) -> Cell | None:
    label = config_label(s.serving)
    for c in cells:
        key = (c.scenario, c.view, c.concurrency, c.keepalive, c.mode, c.config)
        if key == (s.scenario, s.view, s.concurrency, s.keepalive, s.mode, label):
            return c
    return None


def cross_rows(runs: list[RunData], cells: list[Cell]) -> list[list[str]]:
    """One row per cross-checked cell: ab's mean against wrk's figure, flagged above
    CROSS_FLAG_PCT (or when either side has no valid figure)."""
    rows = []
    for run in runs:
        for s in run.samples:
            if s.kind != "crosscheck":
                continue
            cell = _cell_of(cells, s)
            ab = cell.rps_mean() if cell else None
            wrk = s.rps if s.status == "ok" else None
            diff = (wrk / ab - 1) * 100 if ab and wrk else None
            if diff is None:
                flag = f"no comparison: {s.reason or 'no valid ab repetition'}"
            elif abs(diff) > CROSS_FLAG_PCT:
                flag = f"**differ by more than {CROSS_FLAG_PCT:g}%**"
            else:
                flag = "agree"
            rows.append(
                [
                    s.scenario,
                    s.view,
                    str(s.concurrency),
                    s.mode.upper(),
                    fmt(ab, 2),
                    fmt(wrk, 2),
                    "-" if diff is None else f"{diff:+.1f}%",
                    flag,
                ]
            )
    return rows


def crosscheck_section(runs: list[RunData], cells: list[Cell]) -> list[str]:
    """ab against wrk at the cross-checked levels (nothing when none was measured)."""
    rows = cross_rows(runs, cells)
    if not rows:
        return []
    return [
        "## Second opinion: ab against wrk",
        "",
        "The same level measured once more with wrk from the same load generators, "
        "right after ab's repetitions, for ab's timed span (kind `crosscheck`: shown "
        "here, never pooled into the tables). ab speaks HTTP/1.0, wrk HTTP/1.1; with "
        "keep-alive both reuse connections, without it wrk sends `Connection: close`. "
        f"A difference above {CROSS_FLAG_PCT:g}% means one tool's figure is not the "
        "server's alone.",
        "",
        *table(CROSS_HEADER, rows),
        "",
    ]


def _pairs(again: list[Sample]) -> set[tuple[object, ...]]:
    """The distinct disturbed pairs (interleaved) or repetitions behind the re-measuring
    repetitions."""
    return {
        (s.run_id, s.scenario, s.concurrency, s.extra["remeasure"]["of"])
        + (() if "pair" in s.extra else (s.mode, s.serving.get("mode")))
        for s in again
    }


def disturbed_section(runs: list[RunData]) -> list[str]:
    """How many repetitions were disturbed and which pairs were measured again, why."""
    timed = [s for run in runs for s in run.samples if s.kind == "timed"]
    disturbed = [s for s in timed if s.extra.get("disturbed")]
    again = [s for s in timed if s.extra.get("remeasure")]
    windows = [s for s in timed if s.extra.get("cpu_source") == "timed window"]
    if not windows:  # recorded before windows were read: nothing to say
        return []
    lines = [
        "## Disturbed repetitions",
        "",
        f"{len(disturbed)} of {len(timed)} timed repetitions were disturbed (CPU steal "
        "or other work on the app host's CPUs above the thresholds, over their timed "
        f"window; {len(windows)} had window readings); they are stored, invalid, never "
        f"averaged in. {len(_pairs(again))} pair(s) (or repetitions, when not "
        "interleaved) were measured again, each at most twice.",
        "",
    ]
    why = Counter(code for s in disturbed for code in s.extra.get("disturbed_by") or [])
    for code, n in why.most_common():
        lines.append(f"- {DISTURBANCES.get(code, code)}: {n}")
    return [*lines, ""] if why else lines
