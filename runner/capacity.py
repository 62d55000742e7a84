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


class _Gate:
    """Whether the search may measure once more (step limit, time budget), and why not."""

    def __init__(self, result: Capacity, has_budget: Callable[[], bool], max_steps: int | None):
        self.result, self.has_budget, self.max_steps = result, has_budget, max_steps

    def open(self) -> bool:
        """True when one more step may be measured; else the result says why it stopped."""
        if self.max_steps is not None and len(self.result.steps) >= self.max_steps:
            self.result.stopped = f"step limit ({self.max_steps}) reached"
            return False
        if not self.has_budget():
            self.result.stopped = "time budget spent"
            return False
        return True


def _record(result: Capacity, s: Step) -> None:
    result.steps.append(s)
    if s.held:
        result.capacity = max(result.capacity or 0.0, s.rate)
    else:
        result.breaks_at = min(result.breaks_at or s.rate, s.rate)


def _bracket(
    start: float, result: Capacity, gate: _Gate, min_rate: float, max_rate: float
) -> Generator[float, Step, bool]:
    """Double from `start` while the SLO holds, halve while it fails, until a rate that
    held and one that failed are both known (True), or the search must stop (False)."""
    rate = start
    while result.capacity is None or result.breaks_at is None:
        if not gate.open():
            return False
        _record(result, (yield rate))
        if result.breaks_at is None:
            rate = (result.capacity or rate) * 2
            if rate > max_rate:
                result.stopped = f"held up to the search's ceiling ({max_rate:g} req/s)"
                return False
        elif result.capacity is None:
            rate = result.breaks_at / 2
            if rate < min_rate:
                result.stopped = f"failed even at the lowest rate tried ({result.breaks_at:g})"
                return False
    return True


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
    gate = _Gate(result, has_budget, max_steps)
    if not (yield from _bracket(start, result, gate, min_rate, max_rate)):
        return result
    stop_width = max(TOLERANCE, noise)
    while result.breaks_at / result.capacity - 1 > stop_width:
        if not gate.open():
            return result
        _record(result, (yield round((result.capacity + result.breaks_at) / 2, 3)))
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
