"""Pure helpers of the self-benchmark: wrk's output, summaries of samples, the goals and
the short table. No hosts, no clock: unit-tested in tests/benchmarks/."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Any

from runner.underload import under_load_s

_DONE = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run says: requests completed, over how long, and its errors."""

    requests: int
    seconds: float
    rps: float
    non_2xx: int
    socket_errors: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "requests": self.requests,
            "seconds": self.seconds,
            "rps": round(self.rps, 3),
            "non_2xx": self.non_2xx,
            "socket_errors": self.socket_errors,
        }


def parse_wrk(text: str) -> WrkResult:
    """Parse wrk 4.x's summary; requests/s from its request count and duration (wrk's own
    "Requests/sec" is rounded to 2 decimals, too coarse at ~10 req/s)."""
    done = _DONE.search(text)
    if not done:
        raise ValueError("not a wrk summary: no 'N requests in T' line")
    requests, seconds = int(done.group(1)), float(done.group(2)) * _UNIT_S[done.group(3)]
    rps_line = _RPS.search(text)
    rps = requests / seconds if seconds > 0 else float(rps_line.group(1) if rps_line else 0)
    non_2xx = int(m.group(1)) if (m := _NON2XX.search(text)) else 0
    sock = sum(int(g) for g in m.groups()) if (m := _SOCKET.search(text)) else 0
    return WrkResult(requests, seconds, rps, non_2xx, sock)


def cv_pct(values: list[float]) -> float | None:
    """Coefficient of variation in percent (sample stdev / mean); None below 2 values."""
    if len(values) < 2:
        return None
    m = statistics.fmean(values)
    return statistics.stdev(values) / m * 100 if m else None


def diff_pct(value: float | None, reference: float | None) -> float | None:
    """(value - reference) / reference in percent; None when either is missing or 0."""
    if value is None or not reference:
        return None
    return (value - reference) / reference * 100


def mean_or_none(values: list[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    return statistics.fmean(values) if values else None


def cells(samples: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Group timed samples (not the instrumented pass) by mode/scenario/c/keepalive/hosts;
    per cell: the valid repetitions' rps, mean, CV and the statuses seen."""
    out: dict[str, dict[str, Any]] = {}
    for s in samples:
        if s.get("kind", "timed") != "timed":
            continue
        lgs = len(s.get("loadgen_hosts") or []) or 1
        ka = "-ka" if s.get("keepalive") else ""
        tag = f"{s['experiment']}:" if s.get("experiment") else ""
        load = s.get("load") or "ab"
        tool = "" if load == "ab" else f"/{load}"
        size = f"c{s['concurrency']}/n{s['requests']}{ka}/lg{lgs}{tool}"
        key = f"{tag}{s['mode']}/{s['scenario']}/{size}"
        cell = out.setdefault(
            key,
            {
                "experiment": s.get("experiment") or "",
                "mode": s["mode"],
                "scenario": s["scenario"],
                "concurrency": s["concurrency"],
                "requests": s["requests"],
                "keepalive": bool(s.get("keepalive")),
                "loadgens": lgs,
                "load": load,
                "rps": [],
                "loadgen_cpu_pct": [],
                "statuses": [],
                "span_ratios": [],
                "reasons": [],
            },
        )
        cell["statuses"].append(s.get("status"))
        spans = [h["time_taken_s"] for h in s.get("per_host") or [] if h.get("time_taken_s")]
        if len(spans) > 1:
            cell["span_ratios"].append(round(min(spans) / max(spans), 3))
        if s.get("valid") and s.get("rps"):
            cell["rps"].append(float(s["rps"]))
            if s.get("loadgen_cpu_pct") is not None:
                cell["loadgen_cpu_pct"].append(float(s["loadgen_cpu_pct"]))
        elif s.get("reason"):
            cell["reasons"].append(s["reason"])
    for cell in out.values():
        cell["rps_mean"] = _r(mean_or_none(cell["rps"]))
        cell["cv_pct"] = _r(cv_pct(cell["rps"]))
        cell["loadgen_cpu_pct_max"] = max(cell["loadgen_cpu_pct"], default=None)
        cell["span_ratio_min"] = min(cell["span_ratios"], default=None)
    return out


def best_cell(all_cells: dict[str, dict[str, Any]], **match: Any) -> dict[str, Any] | None:
    """The cell with the highest mean rps among those matching every key=value."""
    found = [
        dict(c, cell=k)
        for k, c in all_cells.items()
        if c.get("rps_mean") is not None and all(c.get(f) == v for f, v in match.items())
    ]
    return max(found, key=lambda c: c["rps_mean"], default=None)


def under_load_share(samples: list[dict[str, Any]], wall_s: float) -> float | None:
    """Timed windows (runner.underload: never the tools' whole runs) over a wall time
    (0..1)."""
    if wall_s <= 0:
        return None
    return under_load_s(samples) / wall_s


@dataclass(frozen=True)
class Goal:
    """One line of the goals table."""

    item: str
    figure: str
    goal: str
    met: bool | None  # None: not measured

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"item": self.item, "figure": self.figure, "goal": self.goal, "met": self.met}


def judge(value: float | None, goal: str) -> bool | None:
    """Whether `value` meets a goal written as '>= X', '<= X', '< X', '> X' or 'within X'
    (the absolute value at most X)."""
    if value is None:
        return None
    op, _, limit_text = goal.partition(" ")
    limit = float(limit_text.rstrip("%sx"))
    checks = {
        ">=": value >= limit,
        "<=": value <= limit,
        "<": value < limit,
        ">": value > limit,
        "within": abs(value) <= limit,
    }
    if op not in checks:
        raise ValueError(f"unknown goal {goal!r}")
    return checks[op]


def table(goals: list[Goal]) -> str:
    """The short Markdown table of figures against goals."""
    rows = [("item", "figure", "goal", "met")]
    for g in goals:
        met = "n/a" if g.met is None else ("yes" if g.met else "NO")
        rows.append((g.item, g.figure, g.goal, met))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
