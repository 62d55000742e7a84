"""The ab parser on real ab 2.3 outputs recorded on this machine (tests/runner/data,
re-recorded by tests/runner/data/record.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.load.abparse import (
    AbResult,
    latency_from_times,
    merge_results,
    parse_ab_gnuplot_tsv,
    parse_ab_stdout,
    row_times,
)

DATA = Path(__file__).parent / "data"


def ab_output(name: str) -> AbResult:
    """Parse a recorded case the way the runner does: stdout with stderr appended."""
    text = (DATA / f"{name}.stdout").read_text() + "\n" + (DATA / f"{name}.stderr").read_text()
    return parse_ab_stdout(text)


def rows(name: str):
    return parse_ab_gnuplot_tsv((DATA / f"{name}.tsv").read_text())


def times(name: str) -> list[float]:
    return row_times(rows(name))


def test_clean_run_figures():
    res = ab_output("clean")
    assert res.complete_requests == 1000
    assert res.failed_requests == 0
    assert res.non_2xx == 0
    assert res.keepalive_requests == 0
    assert res.document_length == 1027
    assert res.document_path == "/ok"
    assert res.concurrency == 4
    assert not res.aborted and res.abort_reason == ""
    assert res.requests_per_second and res.requests_per_second > 0
    assert res.time_taken_s and res.time_taken_s > 0
    # ab's rps is completed / time taken (rounded in its print-out)
    assert res.requests_per_second == pytest.approx(1000 / res.time_taken_s, rel=0.02)
    assert res.time_per_request_ms and res.time_per_request_all_ms
    assert sorted(res.percentiles) == [50, 66, 75, 80, 90, 95, 98, 99, 100]
    assert res.total_ms and set(res.total_ms) == {"min", "mean", "sd", "median", "max"}
    lat = res.latency
    assert lat is not None
    assert lat.p50 <= lat.p90 <= lat.p99 <= lat.max
    assert lat.max == res.percentiles[100] == res.total_ms["max"]
    assert lat.mean == res.total_ms["mean"]


def test_progress_lines_are_not_counts():
    """ab -n 1000 prints 'Completed 100 requests' heartbeats on stderr: not the total."""
    assert "Completed 100 requests" in (DATA / "clean.stderr").read_text()
    assert ab_output("clean").complete_requests == 1000


def test_keepalive_run_counts_reused_connections():
    res = ab_output("keepalive")
    assert res.complete_requests == 200
    assert res.keepalive_requests == 200
    assert not res.aborted


@pytest.mark.parametrize(("case", "non_2xx", "total"), [("notfound", 50, 50), ("flaky", 20, 60)])
def test_non_2xx_responses(case, non_2xx, total):
    res = ab_output(case)
    assert res.complete_requests == total
    assert res.non_2xx == non_2xx
    assert res.failed_requests == 0  # ab does not count a 404/500 as a failed request
    assert not res.aborted


def test_length_failures_when_the_body_changes():
    res = ab_output("vary")
    assert res.failed_requests == 45
    assert (res.failed_length, res.failed_connect, res.failed_receive) == (45, 0, 0)
    assert res.failure_breakdown() == "Length: 45"
    assert not res.aborted


def test_connection_refused_with_r_is_counted_not_fatal():
    res = ab_output("refused")
    assert not res.aborted
    assert res.complete_requests == 20
    assert res.failed_requests == 30
    assert res.failed_receive == 20 and res.failed_exceptions == 10
    assert res.failure_breakdown() == "Receive: 20, Exceptions: 10"
    assert res.successful_requests == 0
    assert res.document_length == 0


def test_timeout_abort_with_nothing_completed():
    assert (DATA / "timeout.rc").read_text().strip() != "0"
    assert not (DATA / "timeout.csv").exists() and not (DATA / "timeout.tsv").exists()
    res = ab_output("timeout")
    assert res.aborted
    assert "apr_pollset_poll" in res.abort_reason and "70007" in res.abort_reason
    assert res.complete_requests == 0
    assert res.requests_per_second is None
    assert res.latency is None


def test_timeout_abort_keeps_the_completed_count():
    res = ab_output("timeout_partial")
    assert res.aborted
    assert res.complete_requests == 20  # from "Total of 20 requests completed"
    assert "timeout specified has expired" in res.abort_reason
    assert res.latency is None


def test_interrupted_run_is_aborted_even_though_ab_printed_figures():
    """`timeout --signal=INT` (the runner's outer bound) makes ab print a normal-looking
    report for what it finished: without 'done'/'Finished' it is an abort."""
    res = ab_output("interrupted")
    assert res.complete_requests == 20
    assert res.aborted
    assert "interrupted after 20 requests" in res.abort_reason


def test_stdout_alone_of_a_short_run_is_complete():
    text = (DATA / "vary.stdout").read_text()
    assert not parse_ab_stdout(text).aborted


def test_garbage_is_an_abort_not_a_crash():
    res = parse_ab_stdout("ab: invalid URL\nUsage: ab [options] [http[s]://]hostname[:port]/path\n")
    assert res.aborted
    assert "invalid URL" in res.abort_reason
    assert parse_ab_stdout("").aborted


def test_gnuplot_tsv_rows():
    got = rows("clean")
    assert len(got) == 1000
    first = got[0]
    assert first.seconds > 1_600_000_000
    assert first.ttime >= 0 and first.ctime >= 0
    assert parse_ab_gnuplot_tsv("") == []
    cut = (DATA / "clean.tsv").read_text()[:-10]  # last row cut short
    assert len(parse_ab_gnuplot_tsv(cut)) == 999
    with pytest.raises(ValueError, match="not an ab -g file"):
        parse_ab_gnuplot_tsv("a\tb\n1\t2\n")


def test_latency_from_times_matches_ab_own_table():
    """ab computes its table from the same per-request totals: same rule, same values."""
    res = ab_output("clean")
    percentiles, total = latency_from_times(times("clean"))
    assert percentiles == res.percentiles
    assert total["max"] == res.total_ms["max"]
    assert total["mean"] == pytest.approx(res.total_ms["mean"], abs=1)


def test_merge_two_load_generators_from_real_runs():
    a, b = ab_output("merge_a"), ab_output("merge_b")
    merged = merge_results([a, b], [times("merge_a"), times("merge_b")])
    assert merged.hosts == 2
    assert merged.complete_requests == 600
    assert merged.concurrency == 6
    assert merged.time_taken_s == max(a.time_taken_s, b.time_taken_s)
    assert merged.requests_per_second == pytest.approx(600 / merged.time_taken_s)
    assert merged.latency_exact
    all_rows = sorted(r.ttime for r in rows("merge_a") + rows("merge_b"))
    assert merged.percentiles[100] == all_rows[-1]
    assert merged.percentiles[50] == all_rows[300]
    assert not merged.aborted


def test_merge_without_every_hosts_rows_has_no_latency():
    """Averaged percentiles are not percentiles: without one host's rows, none."""
    a, b = ab_output("merge_a"), ab_output("merge_b")
    merged = merge_results([a, b], [times("merge_a"), []])
    assert not merged.latency_exact
    assert merged.latency is None and not merged.percentiles
    assert merged.complete_requests == 600  # the counts and the rate still merge


def test_merge_carries_aborts_and_failures():
    merged = merge_results(
        [ab_output("clean"), ab_output("timeout_partial"), ab_output("vary")], [[], [], []]
    )
    assert merged.aborted
    assert merged.abort_reason.startswith("host 2: apr_pollset_poll")
    assert merged.complete_requests == 1000 + 20 + 60
    assert merged.failed_length >= 45
    # clean and vary saw different document lengths: one more length failure
    assert merged.failed_requests == 45 + 1


def test_merge_of_one_host_is_that_host():
    res = ab_output("clean")
    merged = merge_results([res], [times("clean")])
    assert merged.latency == res.latency
    assert merged.requests_per_second == res.requests_per_second
    with pytest.raises(ValueError):
        merge_results([], [])


def test_unresolvable_host_is_an_abort():
    """As ab prints it (the error lands after the dots when stdout and stderr share a tty)."""
    text = (
        "Benchmarking nohost.invalid (be patient)..."
        "apr_sockaddr_info_get() for nohost.invalid: Name or service not known (670002)\n"
    )
    res = parse_ab_stdout(text)
    assert res.aborted and res.complete_requests == 0
    assert res.abort_reason == (
        "apr_sockaddr_info_get() for nohost.invalid: Name or service not known (670002)"
    )
