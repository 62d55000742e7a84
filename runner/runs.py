"""Carrying out a Plan: its run folder, its Session and its policy. The one entry point
the adapters (fab tasks, the main job, the self-benchmark) call."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from runner.console import say
from runner.deploy import DeployError
from runner.inventory import InventoryError, load_inventory
from runner.load import LoadSpecError
from runner.matrix import matrix_metadata
from runner.netsafety import UnsafeTargetError
from runner.plan import Plan, PlanError, check_hosts
from runner.policies import LevelsPolicy, policy_for
from runner.policies.tune import tuned_configs
from runner.preflight import PreflightError
from runner.remote import RemoteError
from runner.results import RunStore, RunStoreError, load_run, new_run_id
from runner.session import BenchAbort, Session
from runner.targets import TargetError

# What a run can fail with that is the user's to fix: one line each, never a traceback.
FAILURES = (
    PlanError,
    PreflightError,
    InventoryError,
    RunStoreError,
    UnsafeTargetError,
    RemoteError,
    BenchAbort,
    DeployError,
    TargetError,
    LoadSpecError,
)


def open_store(results: str, resume: str = "") -> RunStore:
    """A new run folder under `results`, or the one to resume."""
    if resume:
        if not (Path(results) / resume).is_dir():
            raise RunStoreError(
                f"no run {resume} under {results}/: check the run id (ls {results})"
            )
        return RunStore(Path(results), resume)
    return RunStore(Path(results), new_run_id())


def run_plan(plan: Plan, report: bool = True) -> Path:
    """Carry out `plan` into a run folder (new, or `plan.resume`); return the folder.
    The report is written in `finally` unless `report` is False (`fab bench`)."""
    if plan.policy == "tuned":
        return run_tuned(plan)
    for note in plan.notes:
        say(f"note: {note}")
    inventory = load_inventory(plan.inventory)
    check_hosts(plan, len(inventory.loadgens))
    store = open_store(plan.results, plan.resume)
    say(f"run {store.run_id}: results in {store.run_dir}")
    if plan.matrix:
        store.set_metadata({"matrix": matrix_metadata(list(plan.matrix), list(plan.skipped))})
    if plan.interleave:
        from runner.interleaved import InterleavedSession

        return InterleavedSession(plan, inventory, store).run_interleaved(report=report)
    session = Session(plan, inventory, store)
    return session.run(policy_for(plan, inventory), report=report)


def run_tuned(plan: Plan) -> Path:
    """`fab compare --tuned`: tune each mode (a run of its own, 60% of the budget, at the
    plan's first scenario and its highest concurrency), then measure the plan with each
    mode at its best and at the original's settings in one run, and report it."""
    first = plan.levels[0].scenario
    level = max(plan.levels, key=lambda lv: (lv.scenario == first, lv.concurrency))
    tune_plan = replace(
        plan,
        policy="tune",
        levels=(level,),
        repeat=1,
        budget_s=plan.budget_s * 0.6,
        instrument=False,
    )
    tune_dir = run_plan(tune_plan)
    tune = load_run(tune_dir).metadata.get("tune", {})
    modes = list(plan.modes or ("asgi", "wsgi"))
    deployments = [(m, {**plan.config, **c}) for m, c in tuned_configs(tune, modes)]
    inventory = load_inventory(plan.inventory)
    store = RunStore(Path(plan.results), new_run_id())
    say(f"run {store.run_id}: each mode at its best and at the original's settings")
    store.set_metadata({"tuned_from": tune_dir.name, "tune": tune})
    levels_plan = replace(plan, policy="levels", deployments=tuple(deployments))
    return Session(levels_plan, inventory, store).run(LevelsPolicy(levels_plan))
