"""The bench plan: options turned into levels, and bad input refused with one clear line."""

import pytest

from runner.plan import PRESETS, PlanError, build_levels, check_view, route


def test_original_preset_reproduces_the_study():
    names, levels = build_levels("", "", "", "original")
    assert names == ("users",)
    assert [(lv.concurrency, lv.requests) for lv in levels] == [(5, 400), (80, 300)]
    assert PRESETS["original"].view == "original"


def test_original_view_pairs_asgi_with_async_and_wsgi_with_sync():
    assert route("users", "original", "asgi") == "/async/"
    assert route("users", "original", "wsgi") == "/sync/"
    assert route("io", "original", "asgi") == "/io/async/"
    assert route("plain", "original", "wsgi") == "/plain/sync/"
    assert route("users", "async-wrapped", "wsgi") == "/users/async-wrapped/"


def test_requests_one_per_level_or_one_for_all():
    _, levels = build_levels("users", "5,80", "400,300", "")
    assert [(lv.concurrency, lv.requests) for lv in levels] == [(5, 400), (80, 300)]
    _, levels = build_levels("plain,io", "10", "50", "")
    assert [(lv.scenario, lv.requests) for lv in levels] == [("plain", 50), ("io", 50)]


@pytest.mark.parametrize(
    ("scenario", "concurrency", "requests", "preset", "message"),
    [
        ("nope", "", "", "", "unknown scenario 'nope'"),
        ("users", "0", "", "", "at least 1"),
        ("users", "50", "10", "", "below concurrency 50"),
        ("users", "5,x", "", "", "whole numbers"),
        ("users", "5,10", "1,2,3", "", "3 values for 2 concurrency levels"),
        ("", "", "", "huge", "unknown preset 'huge'"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(
    scenario, concurrency, requests, preset, message
):
    with pytest.raises(PlanError, match=message):
        build_levels(scenario, concurrency, requests, preset)


def test_bad_view_and_wrapped_view_outside_users():
    with pytest.raises(PlanError, match="unknown view"):
        check_view("fast")
    with pytest.raises(PlanError, match="only for scenario users"):
        route("io", "async-wrapped", "asgi")


def test_the_command_line_is_recorded_as_typed():
    from runner.plan import command_line

    fab = ["/work/.venv/bin/fab", "bench", "--preset", "smoke"]
    assert command_line(fab, {}) == "fab bench --preset smoke"
    job = ["/repo/runner/mainjob.py", "--preset", "smoke"]
    assert command_line(job, {"MAKELEVEL": "1"}) == "make bench ARGS='--preset smoke'"
    assert command_line(job[:1], {"MAKELEVEL": "1"}) == "make bench"
    assert command_line(job, {}) == "python -m runner.mainjob --preset smoke"


def test_a_plan_is_checked_before_any_host():
    from runner.plan import PlanOptions, build_plan

    with pytest.raises(PlanError, match="whole numbers"):
        build_plan(PlanOptions(policy="search", concurrency="8,x"))
    with pytest.raises(PlanError, match="unknown load generator 'siege'"):
        build_plan(PlanOptions(load="siege"))
    timed = build_plan(PlanOptions(load="ab", preset="smoke", duration=2))
    assert all(lv.duration_s == 2.0 and lv.requests == 50_000 for lv in timed.levels)
    capped = build_plan(PlanOptions(load="ab", scenario="plain", requests="300", duration=2))
    assert {lv.requests for lv in capped.levels} == {300}
    for bad, words in ((3601, "at most 3600 seconds"), (-1, "above 0"), (2.5, "whole seconds")):
        with pytest.raises(PlanError, match=words) as caught:
            build_plan(PlanOptions(load="ab", duration=bad))
        assert "\n" not in str(caught.value)
    plan = build_plan(PlanOptions(load="wrk", preset="smoke"))
    assert all(lv.duration_s == 5.0 for lv in plan.levels)
    assert build_plan(PlanOptions(command="x")).command == "x"


def test_interleave_and_repeat_auto_are_checked_in_one_line():
    from runner.plan import PlanOptions, build_plan

    plan = build_plan(PlanOptions(preset="smoke", modes="asgi,wsgi", auto_repeat=True, precision=3))
    assert plan.interleave and plan.auto.precision_points == 3 and plan.auto.max_pairs == 20
    assert build_plan(PlanOptions(preset="smoke", interleave=True)).auto is None
    assert not build_plan(PlanOptions(preset="smoke")).interleave
    for opts, words in (
        (PlanOptions(auto_repeat=True, precision=0), "--precision must be above 0"),
        (PlanOptions(auto_repeat=True, max_pairs=2), "cap of pairs must be at least 3"),
        (PlanOptions(interleave=True, modes="asgi"), "needs both modes"),
        (PlanOptions(interleave=True, policy="search"), "not with --search"),
        (
            PlanOptions(interleave=True, project="examples/original-study.toml"),
            "only the built-in app",
        ),
        (PlanOptions(auto_repeat=True, django="5.2,6.1"), "not with --project, --django"),
    ):
        with pytest.raises(PlanError, match=words) as caught:
            build_plan(opts)
        assert "\n" not in str(caught.value)
