"""A second opinion: the same level measured once more with wrk, from the same load
generators, right after ab's timed repetitions (`--cross-check one|all`).

The record is its own `kind` ("crosscheck", docs/RESULTS.md): it is shown against ab's
figures (runner/report/crosscheck.py), never pooled into them. wrk runs for ab's own
timed span (the level's --duration, or the median span of ab's repetitions, whole
seconds) and follows the run's keep-alive setting: with -k both tools reuse connections
(ab speaks HTTP/1.0 with Keep-Alive, wrk HTTP/1.1), without it wrk sends
`Connection: close` as ab opens a connection per request.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from runner.model import Sample
from runner.plan import Level, Plan

CROSS_LOAD = "wrk"


def chosen_levels(plan: Plan) -> set[Level]:
    """The levels that get a cross-check: every level with "all"; with "one", each
    scenario's highest concurrency (where the tools differ most, if they do)."""
    if not plan.cross_check:
        return set()
    if plan.cross_check == "all":
        return set(plan.levels)
    top: dict[str, Level] = {}
    for level in plan.levels:
        if level.scenario not in top or level.concurrency > top[level.scenario].concurrency:
            top[level.scenario] = level
    return set(top.values())


def duration_for(level: Level, timed: Sequence[Sample]) -> float:
    """wrk's duration in whole seconds: the level's own, else ab's median timed span."""
    if level.duration_s:
        return float(max(math.ceil(level.duration_s), 1))
    spans = [s.duration_s for s in timed if s.duration_s and s.status == "ok"]
    if not spans:
        spans = [s.duration_s for s in timed if s.duration_s] or [1.0]
    return float(max(round(statistics.median(spans)), 1))
