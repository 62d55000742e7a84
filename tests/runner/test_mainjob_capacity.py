"""make bench's open-loop step: each mode's capacity search starts from its best
closed-loop rate of the same run, at most 4 steps, into the same run folder."""

from __future__ import annotations

from pathlib import Path

from runner.mainjob import CAPACITY_STEPS, best_closed_loop, capacity_plan, closed_loop_noise
from runner.model import Sample
from runner.plan import PlanOptions, build_plan
from runner.policies import policy_for
from runner.results import RunStore


def _timed(mode: str, c: int, rps: float, status: str = "ok") -> Sample:
    return Sample(
        run_id="r1", mode=mode, view="original", scenario="io", path="/io/sync/",
        concurrency=c, requests=200, repeat=1, rps=rps, status=status,
    )  # fmt: skip


def test_capacity_starts_from_each_modes_best_closed_loop_rate(tmp_path: Path) -> None:
    store = RunStore(tmp_path, "r1")
    for sample in (
        _timed("asgi", 10, 80.0),
        _timed("asgi", 100, 300.0),
        _timed("asgi", 100, 320.0),
        _timed("wsgi", 100, 600.0),
        _timed("wsgi", 100, 9999.0, status="invalid"),  # never a start
    ):
        store.append(sample)
    assert best_closed_loop(store.run_dir, "io") == {"asgi": 310.0, "wsgi": 600.0}
    closed = build_plan(PlanOptions(scenario="io", results=str(tmp_path), modes="asgi,wsgi"))
    plan = capacity_plan(closed, store.run_dir, "p99=250ms")
    assert (plan.policy, plan.slo, plan.resume, plan.load) == (
        "capacity",
        "p99=250ms",
        "r1",
        "open",
    )
    assert plan.capacity_steps == CAPACITY_STEPS
    # The bisection's noise: asgi's best level (300, 320) varies by CV 4.6%; wsgi has one.
    assert plan.capacity_noise == closed_loop_noise(store.run_dir, "io") == 0.0456
    policy = policy_for(plan, inventory=None)  # type: ignore[arg-type]
    assert policy.starts["asgi"] == 310.0 and policy.starts["wsgi"] == 600.0
    assert policy.noise == 0.0456
    step = policy.propose()
    assert step is not None and step.mode == "asgi"
    (level,) = step.plan.levels
    assert level.rate == 310.0 and level.duration_s == 5  # 5 s x 310 req/s >= 1000 requests
    assert level.concurrency == 310  # VUs: rate x max(4 x 250 ms, 1 s)
