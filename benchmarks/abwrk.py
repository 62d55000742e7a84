"""ab against wrk, the self-benchmark's accuracy item: alternating pairs per mode on the
users page at c=5 with keep-alive, both tools through the runner (the same Session, the
same load generator, the same duration, the same CPU window), and the mean ratio
ab/wrk with its 95% interval (scipy's paired t on the logs: runner.report.pairing).

The goal: the interval lies within 1 +- 5%. When it does not, docs/TRUST.md says why
with evidence (ab speaks HTTP/1.0 with Keep-Alive, wrk HTTP/1.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.plan import Level
from runner.report.pairing import paired_ratio

PAIRS = 5
CONCURRENCY = 5
SECONDS = 10
CAP = 1_000_000  # ab -t D -n CAP: the duration ends the run, never the cap
WITHIN = 0.05

# bench(levels, repeat, load=..., store=..., tag=...) -> the samples stored (as dicts)
Bench = Callable[..., list[dict[str, Any]]]


def level(seconds: int, concurrency: int = CONCURRENCY) -> Level:
    """The users page for `seconds` (ab's -t; wrk's -d)."""
    return Level("users", concurrency, CAP, duration_s=float(seconds))


def measure_pairs(bench: Bench, pairs: int, seconds: int, concurrency: int) -> list[dict]:
    """`pairs` pairs, the order alternating (ab,wrk / wrk,ab) to cancel drift; each pair
    is (ab's, wrk's) requests/s and statuses."""
    out = []
    lv = level(seconds, concurrency)
    for i in range(1, pairs + 1):
        order = ("ab", "wrk") if i % 2 else ("wrk", "ab")
        got: dict[str, dict[str, Any]] = {}
        for tool in order:
            stored = bench([lv], i, load=tool, keepalive=True, tag="accuracy")
            got[tool] = stored[-1] if stored else {}
        out.append(
            {
                "order": ",".join(order),
                **{f"{t}_rps": got[t].get("rps") for t in ("ab", "wrk")},
                **{f"{t}_status": got[t].get("status", "missing") for t in ("ab", "wrk")},
                **{f"{t}_duration_s": got[t].get("duration_s") for t in ("ab", "wrk")},
            }
        )
    return out


def summarize(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean ratio ab/wrk over the pairs with both sides valid, with its 95% CI and
    whether the CI lies within 1 +- WITHIN."""
    both = [
        (p["ab_rps"], p["wrk_rps"])
        for p in pairs
        if p.get("ab_status") == "ok" and p.get("wrk_status") == "ok"
        if p.get("ab_rps") and p.get("wrk_rps")
    ]
    ratio = paired_ratio(both)
    within = None
    if ratio.ci_low is not None and ratio.ci_high is not None:
        within = ratio.ci_low >= 1 - WITHIN and ratio.ci_high <= 1 + WITHIN
    return {
        "pairs": pairs,
        "valid_pairs": len(both),
        "ratio": _r(ratio.ratio),
        "ci_low": _r(ratio.ci_low),
        "ci_high": _r(ratio.ci_high),
        "within_5pct": within,
    }


def figure_text(acc: dict[str, Any]) -> str:
    """One line for the goals table."""
    if acc.get("ratio") is None:
        return "not measured"
    ci = (
        f" (95% CI {acc['ci_low']:.3f}-{acc['ci_high']:.3f})"
        if acc.get("ci_low") is not None
        else " (no CI: fewer than 2 valid pairs)"
    )
    return f"ab/wrk {acc['ratio']:.3f}{ci}, {acc['valid_pairs']} pairs"


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
