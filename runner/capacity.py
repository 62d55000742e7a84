"""Capacity at a latency target: the highest offered rate at which a mode still meets
the SLO, found by a bounded search (double until it fails, then bisect). Pure: the
caller measures one step (a full measured repetition) and says whether the target held;
this only decides the next rate and when to stop."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

TOLERANCE = 0.10  # stop when the bracket is within 10% ...
# ... or within the measured run-to-run noise, whichever is wider.


@dataclass
class Step:
    """One measured rate: whether the SLO held, and why not."""

    rate: float
    held: bool
    reason: str = ""
    value_ms: float | None = None  # the SLO's percentile, when measured


@dataclass
class Capacity:
    """The outcome: `capacity` is the highest rate that held (None: none did),
    `breaks_at` the lowest that failed (None: none failed before the search stopped)."""

    capacity: float | None
    breaks_at: float | None
    steps: list[Step] = field(default_factory=list)
    stopped: str = ""  # why the search ended

    @property
    def bracket(self) -> float | None:
        """breaks_at / capacity - 1: how tight the answer is."""
        if self.capacity and self.breaks_at:
            return self.breaks_at / self.capacity - 1
        return None


def capacity_steps(
    start: float,
    has_budget: Callable[[], bool],
    max_steps: int | None = None,
    noise: float = 0.0,
    min_rate: float = 1.0,
    max_rate: float = 1e6,
) -> Generator[float, Step, Capacity]:
    """The search as a generator (what a Policy drives): it yields the next rate to
    measure and receives that rate's Step; its return value is the Capacity.

    From `start`, double while the SLO holds (halve while it fails) until both sides are
    known, then bisect until the bracket is within max(10%, `noise`). Stops early when
    `has_budget()` is false or after `max_steps` measurements, and says so."""
    if start <= 0:
        raise ValueError(f"the search starts from a rate above 0, not {start}")
    result = Capacity(capacity=None, breaks_at=None)
    stop_width = max(TOLERANCE, noise)

    def may_measure() -> bool:
        if max_steps is not None and len(result.steps) >= max_steps:
            result.stopped = f"step limit ({max_steps}) reached"
            return False
        if not has_budget():
            result.stopped = "time budget spent"
            return False
        return True

    def record(s: Step) -> None:
        result.steps.append(s)
        if s.held:
            result.capacity = max(result.capacity or 0.0, s.rate)
        else:
            result.breaks_at = min(result.breaks_at or s.rate, s.rate)

    rate = start
    while result.capacity is None or result.breaks_at is None:
        if not may_measure():
            return result
        record((yield rate))
        if result.breaks_at is None:
            rate = (result.capacity or rate) * 2
            if rate > max_rate:
                result.stopped = f"held up to the search's ceiling ({max_rate:g} req/s)"
                return result
        elif result.capacity is None:
            rate = result.breaks_at / 2
            if rate < min_rate:
                result.stopped = f"failed even at the lowest rate tried ({result.breaks_at:g})"
                return result
    while result.breaks_at / result.capacity - 1 > stop_width:
        if not may_measure():
            return result
        record((yield round((result.capacity + result.breaks_at) / 2, 3)))
    result.stopped = f"bracket within {stop_width:.0%}"
    return result


def search_capacity(
    start: float,
    measure: Callable[[float], Step],
    has_budget: Callable[[], bool],
    max_steps: int | None = None,
    noise: float = 0.0,
    min_rate: float = 1.0,
    max_rate: float = 1e6,
) -> Capacity:
    """Run `capacity_steps` with `measure` doing each step (see there for the search)."""
    steps = capacity_steps(start, has_budget, max_steps, noise, min_rate, max_rate)
    try:
        rate = next(steps)
        while True:
            rate = steps.send(measure(rate))
    except StopIteration as done:
        return done.value
