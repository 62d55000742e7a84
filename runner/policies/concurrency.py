"""`fab compare --search`: per mode, concurrency doubled from START to CAP (1 repetition,
2 requests per client, at least 50), then log-spaced levels inside the crossover's
bracket, both modes at each, until the bracket closes or the budget is spent. What it
found goes to the run's metadata["search"]."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from runner.console import say
from runner.model import Sample
from runner.plan import Level, Plan
from runner.policies.base import Deadline, Policy, Step, timed
from runner.policies.search import Points, best_concurrency, crossover, doubling, refine
from runner.policies.tune import usable


class SearchPolicy(Policy):
    """The concurrency search: one step per (mode, concurrency), deploying a mode once
    per round of levels."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self.modes = list(plan.modes or ("asgi", "wsgi"))
        self.scenario = plan.levels[0].scenario
        self.points: dict[str, Points] = {m: {} for m in self.modes}
        self.exhausted = False
        self.deadline = Deadline(plan.budget_s)

    def steps(self) -> Generator[Step, list[Sample], None]:
        """The doubling, then refinement inside the crossover's bracket (two modes)."""
        say(f"concurrency search for {self.scenario}, budget {self.plan.budget_s:.0f}s")
        finished = yield from self._levels(doubling(*self.plan.search))
        if not finished or len(self.modes) != 2:
            return
        while (bracket := crossover(*(self.points[m] for m in self.modes))) is not None:
            inside = refine(*bracket)
            if all(c in self.points[m] for m in self.modes for c in inside):
                return  # nothing new between the bracket's ends: it is as narrow as it gets
            if not (yield from self._levels(inside)):
                return

    def _levels(self, levels: list[int]) -> Generator[Step, list[Sample], bool]:
        """Each mode at each level it lacks; False when the budget ran out."""
        for mode in self.modes:
            for c in [c for c in levels if c not in self.points[mode]]:
                if self.deadline.left() <= 0:
                    self.exhausted = True
                    return False
                level = Level(self.scenario, c, max(2 * c, 50))
                plan = self.plan.with_levels([level], repeat=1, instrument=False)
                samples = yield Step(mode, dict(self.plan.config), plan)
                ok = [s for s in timed(samples) if usable(s)]
                self.points[mode][c] = float(ok[0].rps) if ok and ok[0].rps else None
                say(f"  {mode} c={c}: {self.points[mode][c]}")
        return True

    def metadata(self) -> dict[str, Any]:
        """metadata["search"]: points per mode, each mode's best, the crossover."""
        points = self.points
        cross = crossover(*(points[m] for m in self.modes)) if len(self.modes) == 2 else None
        best = {m: best_concurrency(p) for m, p in points.items()}
        return {
            "search": {
                "scenario": self.scenario,
                "modes": self.modes,
                "points": {m: {str(c): r for c, r in sorted(p.items())} for m, p in points.items()},
                "best": {
                    m: ({"concurrency": b[0], "rps": b[1]} if b else None) for m, b in best.items()
                },
                "crossover": list(cross) if cross else None,
                "exhausted": self.exhausted,
                "budget_s": self.deadline.seconds,
                "spent_s": round(self.deadline.spent(), 1),
            }
        }
