"""runner.granian_metrics on Granian 2.8.7's exporter output, recorded in both modes
(tests/runner/data/granian: one worker, before and after 20 requests of the users page
plus the health check)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.granian_metrics import (
    MetricsFormatError,
    compare,
    parse,
    summarize_gauge,
    totals,
)

DATA = Path(__file__).parent / "data" / "granian"


def _read(name: str) -> str:
    return (DATA / name).read_text()


def test_parse_reads_every_series_with_its_type_and_worker_label() -> None:
    series, types = parse(_read("wsgi-after-20-users.txt"))
    names = {s.name for s in series}
    assert "granian_py_wait_cumulative" in names
    assert types["granian_blocking_queue"] == "gauge"
    assert types["granian_py_wait_cumulative"] == "counter"
    handled = next(s for s in series if s.name == "granian_requests_handled")
    assert handled.labels == (("worker", "1"),)
    assert handled.value == 21


def test_totals_sum_over_workers() -> None:
    text = (
        'granian_requests_handled{worker="1"} 10\n'
        'granian_requests_handled{worker="2"} 5\n'
        "granian_workers_spawns 2\n"
    )
    found = totals(text)
    assert found["requests_handled"] == 15
    assert found["workers"] == 2
    assert found["workers_spawns"] == 2


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
def test_compare_gives_gil_wait_per_request_in_ms(mode: str) -> None:
    before = totals(_read(f"{mode}-before.txt"))
    after = totals(_read(f"{mode}-after-20-users.txt"))
    diff = compare(before, after)
    assert diff.error is None
    assert diff.requests == 21 - int(before["requests_handled"])
    wait_us = after["py_wait_cumulative"] - before["py_wait_cumulative"]
    assert diff.gil_wait_ms_per_request == pytest.approx(wait_us / 1000 / diff.requests)
    assert 0 < diff.blocking_busy_share < 1


def test_asgi_blocking_thread_is_nearly_idle_and_wsgi_threads_run_the_app() -> None:
    # Under ASGI the one blocking thread only hands work to the event loop; under WSGI
    # the blocking threads run the views (about 100 ms of CPU per users page).
    asgi = compare(totals(_read("asgi-before.txt")), totals(_read("asgi-after-20-users.txt")))
    wsgi = compare(totals(_read("wsgi-before.txt")), totals(_read("wsgi-after-20-users.txt")))
    assert asgi.blocking_busy_ms_per_request < 5 < wsgi.blocking_busy_ms_per_request


def test_a_restarted_worker_gives_no_figure_but_the_reason() -> None:
    before = totals(_read("wsgi-after-20-users.txt"))
    after = totals(_read("wsgi-before.txt"))
    diff = compare(before, after)
    assert diff.gil_wait_ms_per_request is None
    assert "worker restarted" in diff.error
    assert "requests_handled" in diff.error


def test_no_requests_means_no_per_request_figure() -> None:
    reading = totals(_read("asgi-before.txt"))
    diff = compare(reading, reading)
    assert diff.requests == 0
    assert diff.gil_wait_ms_per_request is None


def test_not_granians_exporter_is_an_error() -> None:
    with pytest.raises(MetricsFormatError, match="no granian_ metric"):
        totals("# TYPE up gauge\nup 1\n")
    with pytest.raises(MetricsFormatError, match="line 1"):
        parse("<html>not metrics</html>")


def test_gauge_summary_peak_and_mean() -> None:
    summary = summarize_gauge([0, 3, 9, float("nan"), 0])
    assert (summary.samples, summary.peak, summary.mean) == (4, 9, 3)
    assert summarize_gauge([]).peak is None
