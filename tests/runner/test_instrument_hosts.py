"""The instrumented pass on the local hosts: after a level's timed repetitions, counted
requests from the load generator give hops and CPU per request, checked against views
with a known number of bridges (the `async` middleware stack adds none), and the timed
samples stay uncounted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAB = str(Path(sys.executable).with_name("fab"))

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(600)]

# Bridges per request with the async middleware stack: the ASGI handler sends
# request_started through sync_to_async (1) and runs a sync view in a thread (1); WSGI runs
# an async view through async_to_sync (1); QuerySet.__aiter__ adds one (tests/app).
EXPECTED_HOPS = {
    ("asgi", "plain", "sync"): 2,
    ("asgi", "plain", "async"): 1,
    ("asgi", "users", "async"): 2,
    ("wsgi", "plain", "sync"): 0,
    ("wsgi", "plain", "async"): 1,
}


def bench(inventory: Path, results: Path, scenario: str, view: str, *flags: str) -> list[dict]:
    """One tiny `fab bench`; its samples."""
    results.mkdir(parents=True, exist_ok=True)
    before = set(results.iterdir())
    proc = subprocess.run(
        [FAB, "-r", str(ROOT), "bench", "--inventory", str(inventory), "--scenario", scenario,
         "--view", view, "--concurrency", "2", "--requests", "10", "--repeat", "1",
         "--results", str(results), *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = set(results.iterdir()) - before
    return json.loads((run_dir / "results.json").read_text())["samples"]


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_counted_pass_matches_known_bridges(deployer, local_stack, tmp_path, mode):
    deployed = deployer.deploy(mode, middleware="async")
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    health = deployer.health()
    assert health["instrument"] is True  # the deploy's default
    cpu: dict[tuple[str, str], float] = {}
    for (m, scenario, view), hops in EXPECTED_HOPS.items():
        if m != mode:
            continue
        samples = bench(local_stack.inventory_path, tmp_path / f"{scenario}-{view}", scenario, view)
        timed = [s for s in samples if s["kind"] == "timed"]
        (counted,) = [s for s in samples if s["kind"] == "instrumented"]
        assert counted["status"] == "ok", counted["reason"]
        assert counted["hops_per_request"] == hops, (scenario, view)
        assert counted["extra"]["hops_min"] == counted["extra"]["hops_max"] == hops
        assert counted["cpu_ms_per_request"] > 0
        cpu[(scenario, view)] = counted["cpu_ms_per_request"]
        assert counted["extra"]["host_cpu_ms_per_request"] >= 0
        assert counted["serving"]["middleware"] == "async"
        assert counted["rps"] is None and counted["completed"] == counted["extra"]["count"]
        # the timed samples carry none of it, and were not counted by the app
        assert timed and all(s["hops_per_request"] is None for s in timed)
        assert all(s["cpu_ms_per_request"] is None for s in timed)
    if mode == "asgi":
        # the users page (1000 rows through a template) really costs more than the floor
        assert cpu[("users", "async")] > 5 * cpu[("plain", "async")], cpu


def test_no_instrument_skips_the_pass(deployer, local_stack, tmp_path):
    samples = bench(local_stack.inventory_path, tmp_path / "r", "plain", "sync", "--no-instrument")
    assert samples and not [s for s in samples if s["kind"] == "instrumented"]
