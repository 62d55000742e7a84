"""The self-benchmark's pure helpers: wrk's summary, cells of samples, goals, the table."""

from __future__ import annotations

import pytest

from benchmarks.figures import (
    Goal,
    best_cell,
    cells,
    cv_pct,
    diff_pct,
    judge,
    parse_wrk,
    table,
    under_load_share,
)

# Recorded with wrk 4.1.0 (Debian 12) on this machine against a loopback server.
WRK_OK = """Running 1s test @ http://127.0.0.1:18765/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.19ms    3.73ms  29.59ms   82.04%
    Req/Sec   407.00     80.71   550.00     70.00%
  Latency Distribution
     50%    4.01ms
     75%    6.57ms
     90%    9.78ms
     99%   19.26ms
  407 requests in 1.01s, 3.34MB read
Requests/sec:    403.41
Transfer/sec:      3.31MB
"""
WRK_404 = """Running 1s test @ http://127.0.0.1:18765/nope
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.71ms    1.74ms  18.17ms   88.21%
    Req/Sec     1.36k   231.26     1.74k    70.00%
  1355 requests in 1.00s, 688.09KB read
  Non-2xx or 3xx responses: 1355
Requests/sec:   1354.41
Transfer/sec:    687.79KB
"""


def test_parse_wrk_counts_requests_over_its_duration() -> None:
    result = parse_wrk(WRK_OK)
    assert (result.requests, result.seconds) == (407, 1.01)
    assert result.rps == pytest.approx(407 / 1.01)
    assert (result.non_2xx, result.socket_errors) == (0, 0)


def test_parse_wrk_reports_non_2xx_and_socket_errors() -> None:
    text = WRK_404.replace(
        "Requests/sec:", "  Socket errors: connect 0, read 1, write 0, timeout 2\nRequests/sec:"
    )
    result = parse_wrk(text)
    assert result.non_2xx == 1355
    assert result.socket_errors == 3


def test_parse_wrk_refuses_other_output() -> None:
    with pytest.raises(ValueError, match="not a wrk summary"):
        parse_wrk("unable to connect to 198.18.0.10:8000 Connection refused")


def test_cv_and_diff() -> None:
    assert cv_pct([10.0]) is None
    assert cv_pct([9.0, 11.0]) == pytest.approx(14.142, rel=1e-3)
    assert diff_pct(95.0, 100.0) == pytest.approx(-5.0)
    assert diff_pct(1.0, 0.0) is None


def _sample(mode: str, rps: float, **kw: object) -> dict[str, object]:
    base = {
        "mode": mode,
        "scenario": "users",
        "concurrency": 5,
        "requests": 100,
        "keepalive": False,
        "loadgen_hosts": ["lg1"],
        "valid": True,
        "status": "ok",
        "rps": rps,
        "duration_s": 10.0,
        "loadgen_cpu_pct": 20.0,
    }
    return {**base, **kw}


def test_cells_group_by_experiment_and_skip_invalid_and_instrumented() -> None:
    samples = [
        _sample("asgi", 10.0, experiment="precision"),
        _sample("asgi", 12.0, experiment="precision"),
        _sample("asgi", 50.0, experiment="scale"),
        _sample("asgi", 0.0, valid=False, status="invalid", reason="3 failed requests"),
        _sample("asgi", None, kind="instrumented"),
    ]
    got = cells(samples)
    assert set(got) == {
        "precision:asgi/users/c5/n100/lg1",
        "scale:asgi/users/c5/n100/lg1",
        "asgi/users/c5/n100/lg1",
    }
    precision = got["precision:asgi/users/c5/n100/lg1"]
    assert precision["rps_mean"] == 11.0
    assert precision["cv_pct"] == pytest.approx(12.856, rel=1e-3)
    assert got["asgi/users/c5/n100/lg1"]["reasons"] == ["3 failed requests"]
    assert best_cell(got, experiment="scale")["rps_mean"] == 50.0
    assert best_cell(got, mode="wsgi") is None


def test_cells_record_how_far_apart_the_hosts_spans_are() -> None:
    per_host = [{"time_taken_s": 9.0}, {"time_taken_s": 10.0}]
    got = cells([_sample("wsgi", 20.0, loadgen_hosts=["a", "b"], per_host=per_host)])
    assert got["wsgi/users/c5/n100/lg2"]["span_ratio_min"] == 0.9


def test_under_load_share_counts_timed_samples_only() -> None:
    samples = [
        _sample("asgi", 1.0),
        _sample("wsgi", 1.0),
        {"duration_s": 99, "kind": "instrumented"},
    ]
    assert under_load_share(samples, 40.0) == pytest.approx(0.5)
    assert under_load_share(samples, 0) is None


@pytest.mark.parametrize(
    ("value", "goal", "met"),
    [
        (10.0, ">= 10", True),
        (9.9, ">= 10", False),
        (-4.9, "within 5", True),
        (5.1, "within 5%", False),
        (3.0, "<= 3", True),
        (15.0, "< 15", False),
        (50.1, "> 50", True),
        (None, "> 50", None),
    ],
)
def test_judge(value: float | None, goal: str, met: bool | None) -> None:
    assert judge(value, goal) is met


def test_judge_refuses_an_unknown_goal() -> None:
    with pytest.raises(ValueError, match="unknown goal"):
        judge(1.0, "about 3")


def test_table_says_which_goals_were_missed() -> None:
    text = table(
        [
            Goal("1 headroom", "12.0x", ">= 10x", True),
            Goal("3 precision", "CV 4%", "<= 3%", False),
            Goal("4 limit", "80%", "(figure)", None),
        ]
    )
    lines = text.splitlines()
    assert lines[0].startswith("| item")
    assert lines[1].startswith("|---")
    assert "| yes" in lines[2] and "| NO" in lines[3] and "| n/a" in lines[4]


def test_wrk_samples_are_cells_of_their_own_never_the_best_ab_cell() -> None:
    got = cells([_sample("asgi", 10.0), _sample("asgi", 12.0, load="wrk")])
    assert set(got) == {"asgi/users/c5/n100/lg1", "asgi/users/c5/n100/lg1/wrk"}
    assert best_cell(got, load="ab")["rps_mean"] == 10.0
