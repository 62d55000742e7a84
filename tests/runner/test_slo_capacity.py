"""The SLO parser and judge, and the capacity search as a policy (no hosts)."""

from __future__ import annotations

import pytest

from runner.capacity import Step, search_capacity
from runner.slo import SloError, judge, parse_slo


@pytest.mark.parametrize(
    ("text", "key", "limit_ms"),
    [("p99=250ms", "p99", 250), ("p99.9=1s", "p99_9", 1000), ("p50=0.5s", "p50", 500)],
)
def test_parses_valid_slos(text: str, key: str, limit_ms: float) -> None:
    slo = parse_slo(text)
    assert (slo.key, slo.limit_ms) == (key, limit_ms)


@pytest.mark.parametrize(
    "text", ["p99<250ms", "p99=250", "99=250ms", "p99=ms", "p97=1s", "p99=0ms"]
)
def test_refuses_slos_that_do_not_parse_in_one_line(text: str) -> None:
    with pytest.raises(SloError) as err:
        parse_slo(text)
    assert "\n" not in str(err.value) and "--slo" in str(err.value)


def test_judges_a_sample() -> None:
    slo = parse_slo("p99=250ms")
    assert judge(slo, "ok", {"p99": 200.0}, 2000) == ""
    assert "300 ms > 250 ms" in judge(slo, "ok", {"p99": 300.0}, 2000)
    assert judge(slo, "overload", {"p99": 10.0}, 2000) == "sample is overload"
    assert "fewer than 10" in judge(slo, "ok", {"p50": 1.0}, 999)


def _server(capacity: float) -> tuple[list[float], object]:
    tried: list[float] = []

    def measure(rate: float) -> Step:
        tried.append(rate)
        return Step(rate, rate <= capacity, "" if rate <= capacity else "p99 over")

    return tried, measure


def test_doubles_until_it_fails_then_bisects_within_ten_percent() -> None:
    tried, measure = _server(330)
    result = search_capacity(50, measure, lambda: True)
    assert tried[:4] == [50, 100, 200, 400]
    assert result.capacity is not None and result.breaks_at is not None
    assert result.capacity <= 330 < result.breaks_at
    assert result.bracket is not None and result.bracket <= 0.10
    assert result.stopped == "bracket within 10%"


def test_halves_when_the_start_already_fails() -> None:
    tried, measure = _server(30)
    result = search_capacity(100, measure, lambda: True)
    assert tried[:3] == [100, 50, 25]
    assert result.capacity is not None and result.capacity <= 30 < (result.breaks_at or 0)


def test_a_wide_noise_stops_the_bisection_earlier() -> None:
    tried_tight, measure = _server(330)
    search_capacity(50, measure, lambda: True)
    tried_noisy, measure = _server(330)
    result = search_capacity(50, measure, lambda: True, noise=0.3)
    assert len(tried_noisy) < len(tried_tight)
    assert result.stopped == "bracket within 30%"


def test_stops_at_the_step_limit_or_the_budget_and_says_so() -> None:
    tried, measure = _server(330)
    result = search_capacity(50, measure, lambda: True, max_steps=4)
    assert len(tried) == 4 and result.stopped == "step limit (4) reached"
    assert (result.capacity, result.breaks_at) == (200, 400)
    budget = iter([True, True, False])
    tried, measure = _server(330)
    result = search_capacity(50, measure, lambda: next(budget))
    assert len(tried) == 2 and result.stopped == "time budget spent"
    assert result.breaks_at is None  # never failed: no breaking rate claimed


def test_no_rate_holds() -> None:
    tried, measure = _server(0.1)
    result = search_capacity(8, measure, lambda: True, min_rate=1)
    assert result.capacity is None and "failed even at the lowest rate" in result.stopped
    assert tried == [8, 4, 2, 1]


def test_a_step_measured_again_is_judged_on_its_undisturbed_attempt() -> None:
    """A disturbed attempt is measured again (runner.session): the search must read the
    last undisturbed attempt, not the first (a real run broke at a rate that held)."""
    from types import SimpleNamespace

    from runner.model import Sample
    from runner.policies.capacity import CapacityPolicy

    def attempt(p99: float, disturbed: bool) -> Sample:
        return Sample(
            run_id="r", mode="wsgi", view="sync", scenario="io", path="/io/sync/",
            concurrency=1, requests=2001, repeat=1, kind="openloop", load="k6",
            completed=2001, latency_ms={"mean": 100.0, "max": p99, "p50": 100.0, "p99": p99},
            status="invalid" if disturbed else "ok", valid=not disturbed,
            reason="disturbed: CPU steal 3.2% of the window (above 2%)" if disturbed else "",
            extra={"disturbed": True} if disturbed else {},
        )  # fmt: skip

    policy = SimpleNamespace(slo=parse_slo("p99=250ms"))
    step = CapacityPolicy.held(policy, 100.0, [attempt(104, True), attempt(105, False)])
    assert step.held and step.value_ms == 105
    broke = CapacityPolicy.held(policy, 100.0, [attempt(104, True), attempt(283, False)])
    assert not broke.held and broke.value_ms == 283
    only_disturbed = CapacityPolicy.held(policy, 100.0, [attempt(104, True), attempt(90, True)])
    assert not only_disturbed.held and "disturbed" in only_disturbed.reason
