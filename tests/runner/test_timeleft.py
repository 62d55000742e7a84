"""Time left from planned durations: level steps, pace, the progress line."""

from __future__ import annotations

import pytest

from runner.report.pairing import balanced_order
from runner.timeleft import StepPlan, TimeLeft, format_seconds, level_steps


def test_level_steps_charge_a_switch_and_a_warmup_only_when_the_mode_changes():
    steps = level_steps("users c=5", balanced_order(2), duration_s=10, warmup_s=2, switch_s=1)
    # A B B A: warm-up first; switch+warm-up at B; none at the second B; switch+warm-up at A.
    assert [s.seconds for s in steps] == [12, 13, 10, 13]
    assert steps[0].label == "users c=5 asgi #1" and steps[3].label == "users c=5 asgi #2"


def test_a_users_repetition_weighs_as_much_as_a_plain_one():
    plan = TimeLeft(level_steps("plain", ["asgi"], 10, 0) + level_steps("users", ["asgi"], 10, 0))
    assert plan.left_s() == 20
    plan.done(10)
    assert plan.left_s() == 10


def test_the_observed_pace_corrects_the_plan_within_bounds():
    plan = TimeLeft([StepPlan("a", 10), StepPlan("b", 10), StepPlan("c", 10)])
    assert plan.line() == "[1/3] a, ~30s left"
    plan.done(15)  # 1.5x slower than planned
    assert plan.left_s() == pytest.approx(30)
    plan.done(200)  # an odd step: the pace is capped
    assert plan.pace == 4.0 and plan.left_s() == 40
    plan.done(10)
    assert plan.line() == "[3/3] done, ~0s left"
    with pytest.raises(ValueError, match="already done"):
        plan.done(1)


def test_pairs_added_on_the_way_extend_the_plan():
    plan = TimeLeft(level_steps("io c=100", balanced_order(3), 10, 2))
    before = plan.left_s()
    plan.extend(level_steps("io c=100", ["wsgi", "asgi"], 10, 2))
    assert plan.left_s() > before and len(plan.steps) == 8


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 45, 250, 3720)] == ["0s", "45s", "4m10s", "1h02m"]


def test_the_level_by_level_progress_weighs_time_based_levels_by_their_seconds() -> None:
    """Outside interleaving too, a time-based level counts its planned seconds: its
    request count is only a cap (100,000 would drown a 10 s users level)."""
    from runner.plan import Level
    from runner.session import _weight

    assert _weight(Level("io", 10, 100_000, duration_s=10.0)) == 10.0
    assert _weight(Level("users", 5, 100_000, duration_s=10.0)) == 10.0
    assert _weight(Level("users", 5, 400)) == 400  # count-based: its requests
