"""k6 as a LoadGenerator, on k6 1.1.0 output recorded against the upstream server on
loopback (tests/runner/data/k6/: a carried load, an overload with a stall past the
graceful stop, and one load split over two hosts)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from runner.load.base import HostRun, LoadResult, LoadSpec, LoadSpecError
from runner.load.k6 import (
    K6,
    graceful_stop_s,
    open_loop_reasons,
    percentiles,
    read_requests,
    spectrum,
    vus_for,
)

DATA = Path(__file__).parent / "data" / "k6"
URL = "http://127.0.0.1:18411/?delay_ms=20"


def _spec(rate: float, duration: float, vus: int) -> LoadSpec:
    return LoadSpec(
        urls=(URL,), concurrency=vus, duration_s=duration, rate=rate, expected_length=12
    )


def _parse(name: str, spec: LoadSpec, cpu_s: float | None = None) -> LoadResult:
    run = HostRun(host=name, spec=spec, remote_dir="/x", local_dir=DATA / name, cpu_s=cpu_s)
    return K6().parse(run)


def test_sizes_vus_and_graceful_stop_from_the_target() -> None:
    assert vus_for(100, 0.25) == 100  # 4 x 250 ms = 1 s of requests
    assert vus_for(100, 1.0) == 400
    assert vus_for(0.5, 0.01) == 1
    assert graceful_stop_s(0.25) == 2.0
    assert graceful_stop_s(1.0) == 4.0


def test_a_carried_load_counts_every_request_and_is_not_overload() -> None:
    result = _parse("carried", _spec(50, 3, 50), cpu_s=0.25)
    assert result.sent == result.completed == 151  # k6 starts one at t=0 and one at t=3 s
    assert (result.failed, result.non_2xx, result.dropped, result.in_flight) == (0, 0, 0, 0)
    assert result.rps == pytest.approx(151 / 3)
    assert result.offered_rate == 50
    assert result.document_length == 12
    assert open_loop_reasons(result) == []
    lat = result.latency_ms
    assert lat is not None and 20 <= lat["p50"] <= lat["p90"] <= lat["max"]
    # 151 requests: p99 would rest on 1.5 of them, p99.9 on 0.15
    assert result.extra["refused_percentiles"] == ["p99", "p99_9"]
    assert "p99" not in lat and "p99_9" not in lat
    assert result.tool_cpu_pct is not None and 0 < result.tool_cpu_pct < 100
    assert sum(b[1] for b in result.extra["timeline"]) == 151


def test_an_overload_sample_counts_drops_and_requests_left_in_flight() -> None:
    """The upstream stalled for 4 s from 1.5 s on, past the 2 s graceful stop, with 20
    VUs for 40 req/s: k6 ran out of VUs (dropped) and ended with requests unanswered."""
    result = _parse("overload", _spec(40, 3, 20))
    assert result.dropped > 0
    assert result.in_flight == result.sent - result.completed > 0
    assert result.completed + result.in_flight == result.sent
    reasons = open_loop_reasons(result)
    assert len(reasons) == 3
    assert "achieved" in reasons[0] and "dropped" in reasons[1] and "in flight" in reasons[2]


def test_latency_is_the_iteration_from_its_start_not_http_req_duration() -> None:
    reqs = read_requests(DATA / "carried" / "requests.csv")
    assert len(reqs.latencies_ms) == len(reqs.starts_ms) == 151
    # the iteration contains the request, so it is never shorter than 20 ms of upstream
    assert min(reqs.latencies_ms) >= 20
    # intended starts (end - duration) span the 3 s of the run at 50 req/s
    assert max(reqs.starts_ms) - min(reqs.starts_ms) == pytest.approx(3000, abs=100)


def test_merges_hosts_from_their_raw_latencies() -> None:
    gen = K6()
    spec = _spec(25, 4, 25)
    one, two = _parse("split-lg1", spec), _parse("split-lg2", spec)
    merged = gen.merge([one, two])
    assert merged.hosts == 2
    assert merged.sent == one.sent + two.sent
    assert merged.offered_rate == 50
    assert merged.rps == pytest.approx((one.completed + two.completed) / 4)
    together, _ = percentiles(one.samples_ms + two.samples_ms)
    assert merged.latency_ms == together
    assert sum(b[1] for b in merged.extra["timeline"]) == merged.completed
    assert merged.extra["spectrum"][-1] == [100.0, merged.latency_ms["max"]]
    assert merged.extra["overload"] == []


def test_refuses_a_percentile_on_fewer_than_ten_requests() -> None:
    values = [float(i) for i in range(1, 10_001)]
    got, refused = percentiles(values)
    assert (got["p50"], got["p99"], got["p99_9"], got["max"]) == (5000, 9900, 9990, 10_000)
    assert refused == []
    got, refused = percentiles(values[:9999])
    assert "p99_9" not in got and refused == ["p99_9"]
    got, refused = percentiles(values[:999])
    assert "p99" not in got and refused == ["p99", "p99_9"]
    points = spectrum(values)
    assert all(len(values) * (1 - p / 100) >= 9.999 for p, _ in points[:-1])
    assert points[-2][0] == pytest.approx(99.9)  # 10 requests lie beyond it: the last one
    assert points[-1] == [100.0, 10_000.0]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (LoadSpec(urls=(URL,), concurrency=10, duration_s=10, rate=0), "--rate must be above 0"),
        (LoadSpec(urls=(URL,), concurrency=10, duration_s=10, rate=-5), "--rate must be above 0"),
        (LoadSpec(urls=(URL,), concurrency=10, duration_s=1.5, rate=50), "at least 2 s"),
        (LoadSpec(urls=(URL,), concurrency=10, duration_s=10), "give --rate"),
        (LoadSpec(urls=(URL,), concurrency=10, requests=100, rate=20), "give --duration"),
    ],
)
def test_refuses_bad_specs_in_one_line(spec: LoadSpec, message: str) -> None:
    with pytest.raises(LoadSpecError, match=message) as err:
        K6().check(spec)
    assert "\n" not in str(err.value)


def _shell(gen: K6, spec: LoadSpec) -> str:
    """The command line as the runner's executor writes it."""
    cmd = gen.command(spec)
    return f"{shlex.join(cmd.argv)} > {cmd.stdout} 2> {cmd.stderr}"


def test_the_command_runs_the_script_with_the_share_of_the_rate() -> None:
    gen = K6(target_s=1.0)
    command = _shell(gen, _spec(12.345, 20, 50))
    assert "BENCH_RATE_MILLI=12345" in command
    assert "BENCH_GRACEFUL_S=4" in command
    assert "BENCH_VUS=50" in command
    assert "--no-usage-report" in command and "--out csv=requests.csv" in command
    assert shlex.split(command)  # one valid shell line
    assert "k6_script.js" in gen.support_files(_spec(50, 2, 50))


def test_a_missing_k6_is_one_line_and_exit_127(tmp_path: Path) -> None:
    import subprocess

    gen = K6()
    proc = subprocess.run(
        ["bash", "-c", _shell(gen, _spec(50, 2, 50))], cwd=tmp_path, capture_output=True
    )
    assert proc.returncode == 127
    stderr = (tmp_path / "k6.stderr").read_text().strip()
    assert stderr.startswith("k6 is missing on this load generator") and "\n" not in stderr
    run = HostRun(host="x", spec=_spec(50, 2, 50), remote_dir="/x", local_dir=tmp_path, rc=127)
    result = gen.parse(run)
    assert result.aborted and result.abort_reason == stderr
