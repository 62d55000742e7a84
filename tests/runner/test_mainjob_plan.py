"""make bench's plan (runner.mainjob): interleaved pairs of 10 s repetitions with
--repeat auto by default; the original study's counts kept; count-based runs asked with
--requests alone; bad input one line before any host; the wall budget's arithmetic."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from runner import mainjob
from runner.interleaved import extra_pair_fits
from runner.plan import PlanError
from runner.timeleft import StepPlan, TimeLeft


def plan_of(*argv: str):
    args = mainjob._parser().parse_args(list(argv))
    mainjob.check_options(args)
    return mainjob._plan(args, SimpleNamespace(inventory=Path("inventory/x.yml")))


def test_default_make_bench_is_interleaved_auto_pairs_of_10_s_repetitions():
    plan = plan_of()
    assert plan.interleave and plan.modes == ("asgi", "wsgi")
    assert plan.auto is not None
    assert (plan.auto.min_pairs, plan.auto.precision_points, plan.auto.max_pairs) == (3, 5, 20)
    assert [(lv.scenario, lv.concurrency) for lv in plan.levels] == [
        ("users", 5), ("users", 20), ("io", 10), ("io", 100), ("plain", 10),
    ]  # fmt: skip
    # Every scenario time-based, 10 s; the request count only a cap.
    assert {lv.duration_s for lv in plan.levels} == {10.0}
    assert all(lv.requests >= 50_000 for lv in plan.levels)


def test_presets_and_options_choose_counts_pairs_and_sequence():
    original = plan_of("--preset", "original")
    assert not original.interleave and original.repeat == 1
    assert [(lv.concurrency, lv.requests, lv.duration_s) for lv in original.levels] == [
        (5, 400, None), (80, 300, None),
    ]  # fmt: skip
    smoke = plan_of("--preset", "smoke", "--duration", "1")
    assert smoke.interleave and smoke.auto is None and smoke.repeat == 2
    assert {lv.duration_s for lv in smoke.levels} == {1.0}
    counted = plan_of("--scenario", "users", "--requests", "100", "--repeat", "4")
    assert counted.interleave and counted.auto is None and counted.repeat == 4
    assert [(lv.requests, lv.duration_s) for lv in counted.levels] == [(100, None)] * 2
    precise = plan_of("--repeat", "auto", "--precision", "3", "--max-pairs", "12")
    assert precise.auto is not None and precise.auto.precision_points == 3
    assert precise.auto.max_pairs == 12


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--duration", "0"], "give --requests N without --duration"),
        (["--duration", "-3"], "--duration must be above 0 and at most 3600 seconds"),
        (["--duration", "3601"], "--duration must be above 0 and at most 3600 seconds"),
        (["--precision", "0"], "--precision must be above 0"),
        (["--max-pairs", "2"], "the cap of pairs must be at least 3"),
        (["--repeat", "often"], "--repeat must be a whole number or auto"),
        (["--repeat", "auto", "--preset", "original"], "--repeat auto needs interleaved pairs"),
        (["--wall-budget", "0"], "--wall-budget must be above 0"),
        (["--precision", "x"], "invalid float value: 'x'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_host(capsys, tmp_path, argv, words):
    results = tmp_path / "results"
    assert mainjob.main([*argv, "--results", str(results)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("make bench: ") and words in err[0], err
    assert not results.exists()
    if "x" not in argv:  # the plan refuses it too (fab compare's path)
        with pytest.raises(PlanError):
            plan_of(*argv)


def test_an_extra_pair_runs_only_within_its_share_of_the_wall_budget():
    # 200 s left, later levels planned at 120 s, 2 levels to share: 40 s for this one.
    assert extra_pair_fits(200.0, 120.0, 2, [13.0, 14.0, 13.0])  # a pair costs ~27 s
    assert not extra_pair_fits(200.0, 120.0, 2, [20.0, 22.0])  # ~42 s: no
    assert not extra_pair_fits(100.0, 120.0, 1, [1.0])  # over budget already


def test_pairs_added_on_the_way_come_before_the_later_levels_steps():
    clock = TimeLeft([StepPlan("a #1", 10), StepPlan("b #1", 10)])
    clock.done(10)
    clock.extend([StepPlan("a extra", 10)])
    assert [s.label for s in clock.steps] == ["a #1", "a extra", "b #1"]
    assert clock.line().startswith("[2/3] a extra")


def test_a_disturbed_pairs_re_measure_is_owed_even_past_the_wall_budget():
    """make bench found io c=10 with 1 valid pair: its two disturbed pairs' re-measures
    (pairs 4 and 5) were cut as 'extra' pairs once the budget was spent."""
    import time
    from types import SimpleNamespace

    from runner.interleaved import InterleavedSession
    from runner.timeleft import TimeLeft

    session = InterleavedSession.__new__(InterleavedSession)
    session._started = time.monotonic() - 100.0  # the 1 s budget is long spent
    plan = SimpleNamespace(wall_budget_s=1.0)
    clock = TimeLeft([])
    assert session._fits(plan, (4, 5), [13.0], clock, 1)  # 3 + 2 re-measures owed
    assert not session._fits(plan, (4, 3), [13.0], clock, 1)  # a 4th pair is extra
