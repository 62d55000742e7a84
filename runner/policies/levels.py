"""Every level of the plan at every deployment in turn (`fab bench`, `fab compare` and
its serving-config sweeps, `make bench`)."""

from __future__ import annotations

from collections.abc import Generator

from runner.model import Sample
from runner.plan import Plan
from runner.policies.base import Policy, Step


class LevelsPolicy(Policy):
    """One step per deployment of the plan; with none, one step on what is deployed."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def steps(self) -> Generator[Step, list[Sample], None]:
        """Each (mode, deploy variables) of the plan, measured at all its levels."""
        if not self.plan.deployments:
            yield Step(None)
            return
        total = len(self.plan.deployments)
        for i, (mode, config) in enumerate(self.plan.deployments, 1):
            yield Step(mode, dict(config), label=f"({i}/{total})")
