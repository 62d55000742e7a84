"""The pure parts of fab tune / compare sweeps / the concurrency search: no hosts."""

from __future__ import annotations

import pytest

from runner.plan import PlanError
from runner.policies.search import (
    Tried,
    best_concurrency,
    config_key,
    coordinate_search,
    crossover,
    doubling,
    refine,
)
from runner.policies.sweep import Sweep, deployments, parse_sweep
from runner.policies.tune import tune_dims

pytestmark = pytest.mark.timeout(30)


def _scorer(table: dict[str, float | None]):
    calls: list[str] = []

    def evaluate(config):
        key = config_key(config)
        calls.append(key)
        return Tried(config, table.get(key, 1.0))

    return evaluate, calls


def test_coordinate_search_keeps_a_value_only_when_it_wins():
    dims = [("workers", [1, 2]), ("backpressure", [64, 256])]
    evaluate, calls = _scorer(
        {
            "default": 10.0,
            "workers=1": 9.0,
            "workers=2": 20.0,
            "backpressure=64 workers=2": None,  # errors: rejected
            "backpressure=256 workers=2": 25.0,
        }
    )
    result = coordinate_search(dims, evaluate, lambda: True, start={})
    assert result.best == {"workers": 2, "backpressure": 256}
    assert result.best_rps == 25.0
    assert not result.exhausted
    assert calls == [
        "default",
        "workers=1",
        "workers=2",
        "backpressure=64 workers=2",
        "backpressure=256 workers=2",
    ]
    assert result.rps_of({}) == 10.0


def test_coordinate_search_never_measures_a_config_twice_and_tries_the_original():
    dims = [("workers", [None, 2])]
    evaluate, calls = _scorer({"serving_preset=original": 50.0, "workers=2": 40.0})
    result = coordinate_search(
        dims, evaluate, lambda: True, start={}, extra_candidates=[{"serving_preset": "original"}]
    )
    assert calls == ["default", "serving_preset=original", "workers=2"]  # None = the start
    assert result.best == {"serving_preset": "original"}


def test_coordinate_search_stops_when_the_budget_is_spent():
    budget = iter([True, True, False])
    evaluate, calls = _scorer({})
    result = coordinate_search([("workers", [1, 2, 4])], evaluate, lambda: next(budget), start={})
    assert result.exhausted
    assert len(calls) == len(result.tried) == 2


def test_doubling_refine_and_best():
    assert doubling(8, 100) == [8, 16, 32, 64, 100]
    assert doubling(4, 4) == [4]
    with pytest.raises(ValueError):
        doubling(0, 4)
    assert refine(64, 128) == [81, 102]
    assert refine(7, 8) == []
    assert all(100 < c < 200 for c in refine(100, 200, 5))
    assert best_concurrency({8: 10.0, 16: 30.0, 32: None, 64: 30.0}) == (16, 30.0)
    assert best_concurrency({8: None}) is None


def test_crossover_finds_the_first_sign_change_over_common_levels():
    wsgi = {8: 100.0, 16: 180.0, 32: 300.0, 64: 310.0, 128: 200.0}
    asgi = {8: 50.0, 16: 90.0, 32: 150.0, 64: 320.0, 128: 330.0}
    assert crossover(asgi, wsgi) == (32, 64)
    assert crossover(wsgi, asgi) == (32, 64)
    # errors at a level take it out; no change at all: no crossover
    assert crossover({8: 1.0, 16: None, 32: 5.0}, {8: 2.0, 16: 9.0, 32: 3.0}) == (8, 32)
    assert crossover({8: 1.0, 16: 2.0}, {8: 2.0, 16: 3.0}) is None


def test_sweep_expands_per_mode_with_granian_rules():
    sweep = parse_sweep("stock,minimal", "asyncio,uvloop", "1", "1,8", "")
    plan, notes = deployments(["asgi", "wsgi"], sweep, {"serving_preset": "none"})
    asgi = [extra for mode, extra in plan if mode == "asgi"]
    wsgi = [extra for mode, extra in plan if mode == "wsgi"]
    assert len(asgi) == 2 * 2 * 1  # middleware x loop; blocking threads 8 dropped
    assert all(e["blocking_threads"] == 1 for e in asgi)
    assert {e["event_loop"] for e in asgi} == {"asyncio", "uvloop"}
    assert len(wsgi) == 2 * 2  # middleware x blocking threads; no loop
    assert all("event_loop" not in e for e in wsgi)
    assert all(e["serving_preset"] == "none" and e["workers"] == 1 for _, e in plan)
    assert any("ASGI" in n for n in notes) and any("event loop" in n for n in notes)


def test_an_empty_sweep_is_one_deploy_per_mode():
    plan, notes = deployments(["asgi", "wsgi"], Sweep(), None)
    assert plan == [("asgi", {}), ("wsgi", {})] and not notes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"middleware": "stock,fancy"}, "--middleware value 'fancy' is unknown"),
        ({"loop": "trio"}, "--loop value 'trio'"),
        ({"workers": "0"}, "--workers must be at least 1"),
        ({"backpressure": "x"}, "--backpressure takes whole numbers"),
    ],
)
def test_bad_sweep_values_are_refused_clearly(kwargs, message):
    with pytest.raises(PlanError, match=message):
        parse_sweep(**kwargs)
    with pytest.raises(PlanError, match="unknown mode"):
        deployments(["http2"], Sweep())


def test_tune_grid_follows_the_interfaces():
    asgi = dict(tune_dims("asgi", 1))
    wsgi = dict(tune_dims("wsgi", 2))
    assert "blocking_threads" not in asgi and asgi["event_loop"] == ["asyncio", "uvloop"]
    assert "event_loop" not in wsgi and wsgi["workers"] == [2, 4, 8]
