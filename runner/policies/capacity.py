"""`fab compare --load open --slo p99=250ms`: per mode, the highest offered rate at which
the SLO holds (runner/capacity.py decides the rates; this policy turns each into a
one-repetition open-loop plan and each measured sample into held or not). What it found
goes to the run's metadata["capacity"]."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

from runner.capacity import Capacity, capacity_steps
from runner.capacity import Step as RateStep
from runner.console import say
from runner.load.k6 import MIN_REQUESTS, MIN_TAIL, vus_for
from runner.model import Sample
from runner.plan import Level, Plan
from runner.policies.base import Deadline, Policy, Step
from runner.slo import Slo, judge


def duration_for(slo: Slo, rate: float, at_least_s: float) -> float:
    """Seconds at `rate` for the SLO's percentile to rest on MIN_TAIL requests (p99: 1000
    requests) and for MIN_REQUESTS in all, and never below `at_least_s`."""
    needed = max(MIN_TAIL / (1 - slo.fraction), MIN_REQUESTS)
    return float(max(math.ceil(needed / rate * 1.02), at_least_s))


class CapacityPolicy(Policy):
    """The capacity search for each mode in turn (one deploy per mode)."""

    def __init__(
        self,
        plan: Plan,
        slo: Slo,
        starts: dict[str, float],
        max_steps: int | None = None,
        noise: float = 0.0,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.slo = slo
        self.modes = list(plan.modes or ("asgi", "wsgi"))
        self.starts = starts
        self.max_steps = max_steps
        self.noise = noise
        self.scenario = plan.levels[0].scenario
        self.duration_s = plan.levels[0].duration_s or 10.0
        self.found: dict[str, Capacity] = {}
        self.deadline = Deadline(plan.budget_s)

    def plan_at(self, rate: float) -> Plan:
        """One repetition at `rate`, long enough to judge the SLO, VUs sized for it."""
        duration = duration_for(self.slo, rate, self.duration_s)
        level = Level(
            self.scenario,
            concurrency=vus_for(rate, self.slo.limit_s),
            requests=math.ceil(rate * duration),
            duration_s=duration,
            rate=rate,
        )
        return self.plan.with_levels([level], repeat=1, instrument=False)

    def held(self, rate: float, samples: list[Sample]) -> RateStep:
        """Whether the SLO held at `rate`, from the open-loop sample measured there: the
        last undisturbed attempt when a disturbed one was measured again."""
        measured = [s for s in samples if s.kind == "openloop"]
        if not measured:
            return RateStep(rate, False, "no open-loop sample measured")
        undisturbed = [s for s in measured if not s.extra.get("disturbed")]
        s = (undisturbed or measured)[-1]
        latency = s.latency_ms.to_dict() if s.latency_ms else None
        reason = judge(self.slo, s.status, latency, s.completed)
        if reason and s.status != "ok" and s.reason:
            reason = s.reason  # the sample's own why, not just "invalid"
        value = (latency or {}).get(self.slo.key)
        return RateStep(rate, reason == "", reason, value)

    def steps(self) -> Generator[Step, list[Sample], None]:
        """Each mode's search from its start rate, one measured repetition per rate."""
        for mode in self.modes:
            start = self.starts.get(mode) or self.starts.get("*") or 10.0
            say(f"capacity of {mode} at {self.slo.text}, from {start:g} req/s")
            search = capacity_steps(
                start,
                has_budget=lambda: self.deadline.left() > 0,
                max_steps=self.max_steps,
                noise=self.noise,
                min_rate=max(MIN_REQUESTS / max(self.duration_s, 1.0), 1.0),
            )
            try:
                rate = next(search)
                while True:
                    samples = yield Step(mode, dict(self.plan.config), self.plan_at(rate))
                    step = self.held(rate, samples)
                    say(f"  {mode} {rate:g} req/s: {'held' if step.held else step.reason}")
                    rate = search.send(step)
            except StopIteration as done:
                self.found[mode] = done.value

    def metadata(self) -> dict[str, Any]:
        """metadata["capacity"]: the SLO, per mode its capacity, where it broke, the steps."""
        per_mode = {
            mode: {
                "capacity": cap.capacity,
                "breaks_at": cap.breaks_at,
                "bracket": cap.bracket,
                "stopped": cap.stopped,
                "steps": [vars(s) for s in cap.steps],
            }
            for mode, cap in self.found.items()
        }
        a, w = self.found.get("asgi"), self.found.get("wsgi")
        ratio = a.capacity / w.capacity if a and w and a.capacity and w.capacity else None
        return {
            "capacity": {
                "slo": self.slo.text,
                "scenario": self.scenario,
                "modes": per_mode,
                "asgi_over_wsgi": ratio,
                "budget_s": self.deadline.seconds,
                "spent_s": round(self.deadline.spent(), 1),
            }
        }
