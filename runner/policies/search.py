"""Searches that pick what to measure next, kept pure so they are tested without hosts:
a coordinate search over serving configurations (`fab tune`) and the concurrency search
(the io crossover and each mode's best zero-error concurrency). The caller measures;
these only decide, and stop when the caller's budget says so."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

Config = dict[str, Any]


def config_key(config: Config) -> str:
    """A stable text form of a config (sorted, None values left out)."""
    return " ".join(f"{k}={v}" for k, v in sorted(config.items()) if v is not None) or "default"


@dataclass
class Tried:
    """One configuration measured: its requests/s, or None with why it was rejected."""

    config: Config
    rps: float | None
    reason: str = ""


@dataclass
class TuneResult:
    """The outcome of a coordinate search."""

    best: Config | None
    best_rps: float | None
    tried: list[Tried] = field(default_factory=list)
    exhausted: bool = False  # the budget ran out before every candidate was tried

    def rps_of(self, config: Config) -> float | None:
        """The requests/s measured for `config`, if it was tried."""
        key = config_key(config)
        return next((t.rps for t in self.tried if config_key(t.config) == key), None)


def coordinate_steps(
    dims: list[tuple[str, list[Any]]],
    result: TuneResult,
    start: Config | None = None,
    extra_candidates: list[Config] | None = None,
) -> Generator[Config, Tried, None]:
    """Yield each configuration to measure and receive its Tried. Start from `start` (the
    deploy's defaults), then for each dimension in turn try its values with the others
    held at the best so far, keeping a value only when it beats the best.
    `extra_candidates` (e.g. the original study's preset) are measured after the start
    and may win outright. A config is never proposed twice; `result` is kept current.
    The caller stops asking when its budget is spent (and sets `result.exhausted`)."""
    seen: set[str] = set()

    def fresh(config: Config) -> bool:
        key = config_key(config)
        if key in seen:
            return False
        seen.add(key)
        return True

    def record(tried: Tried) -> None:
        result.tried.append(tried)
        if tried.rps is not None and (result.best_rps is None or tried.rps > result.best_rps):
            result.best, result.best_rps = dict(tried.config), tried.rps

    current = dict(start or {})
    for candidate in [current, *(extra_candidates or [])]:
        if fresh(candidate):
            record((yield candidate))
    for name, values in dims:
        base = dict(result.best) if result.best is not None else dict(current)
        if "serving_preset" in base:  # a dimension moves away from a preset: start plain
            base = dict(current)
        for value in values:
            candidate = {**base, name: value}
            if value is None:
                candidate.pop(name)
            if fresh(candidate):
                record((yield candidate))


def coordinate_search(
    dims: list[tuple[str, list[Any]]],
    evaluate: Callable[[Config], Tried],
    has_budget: Callable[[], bool],
    start: Config | None = None,
    extra_candidates: list[Config] | None = None,
) -> TuneResult:
    """`coordinate_steps` driven by a callback: each config is measured by `evaluate`
    while `has_budget()` holds; the search stops (`exhausted`) when it does not."""
    result = TuneResult(best=None, best_rps=None)
    steps = coordinate_steps(dims, result, start, extra_candidates)
    config = next(steps, None)
    while config is not None:
        if not has_budget():
            result.exhausted = True
            break
        try:
            config = steps.send(evaluate(config))
        except StopIteration:
            break
    return result


# -- concurrency search -------------------------------------------------------------------
Points = dict[int, float | None]  # concurrency -> requests/s (None: errors or invalid)


def doubling(start: int, cap: int) -> list[int]:
    """start, 2*start, 4*start ... up to cap (cap itself included as the last level)."""
    if start < 1 or cap < start:
        raise ValueError(f"need 1 <= start <= cap, not start={start} cap={cap}")
    out, c = [], start
    while c < cap:
        out.append(c)
        c *= 2
    out.append(cap)
    return out


def best_concurrency(points: Points) -> tuple[int, float] | None:
    """The concurrency with the highest requests/s among zero-error levels."""
    ok = [(c, r) for c, r in points.items() if r is not None]
    if not ok:
        return None
    return max(ok, key=lambda cr: (cr[1], -cr[0]))


def crossover(a: Points, b: Points) -> tuple[int, int] | None:
    """The first pair of neighbouring levels (both modes measured, no errors) between which
    the sign of a - b changes: the crossover lies in (lo, hi]. None if it never changes."""
    common = sorted(c for c in a if c in b and a[c] is not None and b[c] is not None)
    signs = [(c, math.copysign(1, a[c] - b[c])) for c in common if a[c] != b[c]]  # type: ignore[operator]
    for (c0, s0), (c1, s1) in itertools.pairwise(signs):
        if s0 != s1:
            return c0, c1
    return None


def refine(lo: int, hi: int, points: int = 2) -> list[int]:
    """Up to `points` whole concurrencies strictly between lo and hi, evenly spaced on a
    log scale; empty when none is left (the crossover is then known exactly)."""
    if hi - lo <= 1:
        return []
    step = (math.log(hi) - math.log(lo)) / (points + 1)
    out = sorted({round(math.exp(math.log(lo) + step * i)) for i in range(1, points + 1)})
    return [c for c in out if lo < c < hi]
