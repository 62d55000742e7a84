"""Policies: what a Session measures next. `policy_for(plan, inventory)` picks one by
`plan.policy`: "levels" (every level of every deployment, sweeps included), "tune" (a
coordinate search of serving configs), "search" (the concurrency search), "capacity" (per
mode, the highest offered rate meeting an SLO); "tuned" is a tune run followed by a
levels run (runner.runs)."""

from __future__ import annotations

from runner.inventory import Inventory
from runner.plan import Plan, PlanError
from runner.policies.base import Policy, Step
from runner.policies.concurrency import SearchPolicy
from runner.policies.levels import LevelsPolicy
from runner.policies.tune import TunePolicy


def policy_for(plan: Plan, inventory: Inventory) -> Policy:
    """The policy that carries out `plan` on `inventory`'s hosts."""
    if plan.policy == "levels":
        return LevelsPolicy(plan)
    if plan.policy == "tune":
        return TunePolicy(plan, int(inventory.app.machine_class.get("cpus") or 1))
    if plan.policy == "search":
        return SearchPolicy(plan)
    if plan.policy == "capacity":
        from runner.policies.capacity import CapacityPolicy
        from runner.slo import parse_slo

        starts = {"*": plan.levels[0].rate or 50.0, **dict(plan.capacity_starts)}
        return CapacityPolicy(
            plan, parse_slo(plan.slo), starts, plan.capacity_steps, plan.capacity_noise
        )
    raise PlanError(f"policy {plan.policy!r} has no single-run policy (see runner.runs)")


__all__ = ["LevelsPolicy", "Policy", "SearchPolicy", "Step", "TunePolicy", "policy_for"]
