"""Time left, from the planned durations: with time-based repetitions every step's cost
is known before it runs (its duration, its warm-up, a mode switch), so the estimate
weighs each step by its planned seconds, not its request count (where a users
repetition counted for nothing beside a plain one). The pace observed so far corrects
the plan for what a step costs around its timed window (connections, pulls, checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# The observed pace corrects the plan at most this much either way: one odd step (a
# slow first SSH connection) must not turn "5 minutes left" into an hour.
PACE_BOUNDS = (0.5, 4.0)


@dataclass(frozen=True)
class StepPlan:
    """One planned step: a label for the progress line and its planned seconds."""

    label: str
    seconds: float


def level_steps(
    label: str,
    order: Sequence[str],
    duration_s: float,
    warmup_s: float,
    switch_s: float = 1.0,
) -> list[StepPlan]:
    """The steps of one interleaved level in `order` (e.g. ABBA...): each repetition
    costs its duration, plus a switch and a warm-up whenever the mode changes (and a
    warm-up at the level's start)."""
    steps = []
    previous = None
    for i, mode in enumerate(order):
        cost = duration_s
        if mode != previous:
            cost += warmup_s + (switch_s if previous is not None else 0.0)
        steps.append(StepPlan(f"{label} {mode} #{i // 2 + 1}", cost))
        previous = mode
    return steps


@dataclass
class TimeLeft:
    """Progress over planned steps: call `done(seconds)` after each one."""

    steps: list[StepPlan]
    elapsed: list[float] = field(default_factory=list)

    @property
    def pace(self) -> float:
        """Actual over planned seconds of the steps done so far (1 before any)."""
        planned = sum(s.seconds for s in self.steps[: len(self.elapsed)])
        if not self.elapsed or planned <= 0:
            return 1.0
        low, high = PACE_BOUNDS
        return min(max(sum(self.elapsed) / planned, low), high)

    def done(self, seconds: float) -> None:
        """Record the wall seconds the next step took."""
        if len(self.elapsed) >= len(self.steps):
            raise ValueError("every planned step is already done")
        self.elapsed.append(seconds)

    def extend(self, steps: Sequence[StepPlan]) -> None:
        """Add steps decided on the way (another pair under --repeat auto), next in line:
        before the later levels' planned steps."""
        n = len(self.elapsed)
        self.steps[n:n] = list(steps)

    def left_s(self) -> float:
        """Seconds left: the planned seconds of the steps to go, at the observed pace."""
        return sum(s.seconds for s in self.steps[len(self.elapsed) :]) * self.pace

    def line(self) -> str:
        """'[3/24] users c=5 wsgi #2, ~4m10s left' for the step about to run."""
        n, total = len(self.elapsed), len(self.steps)
        label = self.steps[n].label if n < total else "done"
        return f"[{min(n + 1, total)}/{total}] {label}, ~{format_seconds(self.left_s())} left"


def format_seconds(seconds: float) -> str:
    """'45s', '4m10s', '1h02m'."""
    s = max(round(seconds), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
