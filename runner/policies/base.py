"""The Policy interface: propose the next step, receive what it measured.

A step is (mode, serving config, the plan to measure there). The Session deploys the
step's mode and config (when they differ from what it deployed last), measures the
step's plan and hands the samples back. A policy written as a generator (`steps`) yields
each step and receives its samples as the value of the `yield`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from runner.model import Sample
from runner.plan import Plan


@dataclass(frozen=True)
class Step:
    """What to measure next: deploy `mode` with `config` (mode None: measure what is
    deployed), then measure `plan` (None: the session's own plan)."""

    mode: str | None
    config: dict[str, object] = field(default_factory=dict)
    plan: Plan | None = None
    label: str = ""  # shown after the deploy line, e.g. "(2/4)"


class Deadline:
    """A time budget in seconds; `left()` is what remains."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    def left(self) -> float:
        """Seconds left (negative once spent)."""
        return self.seconds - (time.monotonic() - self.started)

    def spent(self) -> float:
        """Seconds used so far."""
        return time.monotonic() - self.started


def timed(samples: list[Sample]) -> list[Sample]:
    """The timed repetitions among `samples` (not the instrumented pass, not others)."""
    return [s for s in samples if s.kind == "timed"]


class Policy(ABC):
    """Proposes steps until it has none; subclasses write `steps` as a generator."""

    def __init__(self) -> None:
        self._steps: Generator[Step, list[Sample], None] | None = None
        self._last: list[Sample] = []

    @abstractmethod
    def steps(self) -> Generator[Step, list[Sample], None]:
        """Yield each step; the `yield` evaluates to the samples it measured."""

    def propose(self) -> Step | None:
        """The next step, or None when the policy is done."""
        try:
            if self._steps is None:
                self._steps = self.steps()
                return next(self._steps)
            return self._steps.send(self._last)
        except StopIteration:
            return None

    def observe(self, step: Step, samples: list[Sample]) -> None:
        """Receive what `step` measured (passed to the generator at the next proposal)."""
        self._last = samples

    def metadata(self) -> dict[str, Any]:
        """What the policy decided so far, for the run's metadata ({} = nothing)."""
        return {}
