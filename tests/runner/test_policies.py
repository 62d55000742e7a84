"""The policies on their own: what each proposes next given what it measured (no hosts).
A fake measure stands in for the Session: it turns a step into samples."""

from __future__ import annotations

import pytest

from runner.plan import PlanOptions, build_plan
from runner.policies import LevelsPolicy, SearchPolicy, Step, TunePolicy
from runner.policies.sweep import parse_sweep
from runner.policies.tune import tuned_configs
from tests.runner.helpers import make_sample

pytestmark = pytest.mark.timeout(30)


def drive(policy, measure) -> list[Step]:
    """What Session.run does, without hosts: propose, measure, observe."""
    steps = []
    while (step := policy.propose()) is not None:
        steps.append(step)
        policy.observe(step, measure(step))
    return steps


def test_levels_policy_is_one_step_per_deployment_or_one_on_what_is_deployed():
    plan = build_plan(
        PlanOptions(preset="smoke", modes="asgi,wsgi", sweep=parse_sweep(workers="1,2"))
    )
    steps = drive(LevelsPolicy(plan), lambda step: [])
    assert [(s.mode, s.config) for s in steps] == [
        ("asgi", {"workers": 1}),
        ("asgi", {"workers": 2}),
        ("wsgi", {"workers": 1}),
        ("wsgi", {"workers": 2}),
    ]
    assert steps[-1].label == "(4/4)"
    bench = build_plan(PlanOptions(preset="smoke"))
    assert [(s.mode, s.plan) for s in drive(LevelsPolicy(bench), lambda step: [])] == [(None, None)]


def test_tune_policy_walks_the_grid_and_keeps_the_best():
    plan = build_plan(
        PlanOptions(scenario="io", concurrency="10", requests="100", modes="wsgi", policy="tune")
    )
    rps = {"{}": 10.0, "{'serving_preset': 'original'}": 12.0, "{'workers': 2}": 30.0}

    def measure(step):
        return [make_sample(rps=rps.get(str(step.config), 5.0), mode=step.mode)]

    policy = TunePolicy(plan, cpus=1)
    steps = drive(policy, measure)
    assert steps[0].config == {} and steps[1].config == {"serving_preset": "original"}
    assert all(s.mode == "wsgi" for s in steps)
    tune = policy.metadata()["tune"]["wsgi"]
    assert tune["best"] == {"workers": 2} and tune["best_rps"] == 30.0
    assert tune["original_rps"] == 12.0 and not tune["exhausted"]
    assert tuned_configs({"wsgi": tune}, ["wsgi"]) == [
        ("wsgi", {"workers": 2}),
        ("wsgi", {"serving_preset": "original"}),
    ]


def test_tune_rejects_errors_but_ranks_a_loadgen_limited_sample():
    plan = build_plan(
        PlanOptions(scenario="io", concurrency="10", requests="100", modes="asgi", policy="tune")
    )

    def measure(step):
        if step.config == {}:
            return [make_sample(status="invalid", failed=3, reason="3 failed requests")]
        return [
            make_sample(
                status="invalid",
                rps=20.0,
                reason="ab used 95% of a CPU: the load generator limited the run",
                extra={"reason_codes": ["loadgen_cpu"]},
            )
        ]

    policy = TunePolicy(plan, cpus=1)
    drive(policy, measure)
    tried = {t["label"]: t for t in policy.metadata()["tune"]["asgi"]["tried"]}
    assert tried["default"]["rps"] is None and "3 failed" in tried["default"]["reason"]
    assert tried["serving_preset=original"]["rps"] == 20.0


def test_search_policy_doubles_then_refines_inside_the_crossover():
    plan = build_plan(
        PlanOptions(scenario="io", concurrency="8,64", modes="asgi,wsgi", policy="search")
    )

    # ASGI wins from 32 on: the crossover lies in (16, 32]
    def measure(step):
        (level,) = step.plan.levels
        c = level.concurrency
        rps = c * (2.0 if (step.mode == "asgi") == (c >= 32) else 1.0)
        return [make_sample(rps=rps, concurrency=c, mode=step.mode)]

    policy = SearchPolicy(plan)
    steps = drive(policy, measure)
    asgi = [s.plan.levels[0].concurrency for s in steps if s.mode == "asgi"]
    assert asgi[:4] == [8, 16, 32, 64]
    assert all(16 < c < 32 for c in asgi[4:]) and asgi[4:]
    search = policy.metadata()["search"]
    lo, hi = search["crossover"]
    assert 16 <= lo < hi <= 32 and hi - lo < 16
    assert all(s.plan.repeat == 1 and not s.plan.instrument for s in steps)
