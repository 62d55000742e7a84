"""On the local hosts (the shared stack): the app host's CPU is read over exactly each
repetition's timed window, the cgroup's figure agrees with the sum over the app host's
processes from /proc/<pid>/stat (threads and reaped children included) over the same
window, no share is above the host's CPUs, and `--cross-check one` stores wrk's second
opinion as its own kind, shown beside ab in the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.report import build_report
from runner.results import load_run

ROOT = Path(__file__).resolve().parents[2]
FAB = str(Path(sys.executable).with_name("fab"))

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(600)]


def test_cpu_over_the_window_adds_up_and_wrk_gives_a_second_opinion(
    deployer, local_stack, tmp_path
):
    deployed = deployer.deploy("wsgi")
    assert deployed.returncode == 0, deployed.stdout[-3000:]
    results = tmp_path / "results"
    proc = subprocess.run(
        [FAB, "-r", str(ROOT), "bench", "--inventory", str(local_stack.inventory_path),
         "--scenario", "plain", "--concurrency", "5", "--duration", "2", "--requests",
         "200000", "--repeat", "2", "--keepalive", "--no-instrument", "--cross-check", "one",
         # the accounting is checked here, not the machine's quiet: nothing re-measured
         "--max-steal", "100", "--max-outside", "100",
         "--results", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "ABW_CPU_PROCS": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = results.iterdir()
    samples = json.loads((run_dir / "results.json").read_text())["samples"]
    timed = [s for s in samples if s["kind"] == "timed"]
    assert len(timed) == 2
    for s in timed:
        assert s["status"] in ("ok", "invalid"), s["reason"]
        w = s["extra"]["cpu_window"]
        assert s["extra"]["cpu_source"] == "timed window"
        # the window is ab's own timed span, not the SSH session around it
        assert w["window_s"] == pytest.approx(s["duration_s"], abs=0.06)
        assert w["app_cpu_s"] > 0.1  # the plain page at c=5 for 2 s keeps Granian busy
        # the cgroup and the processes' own accounting agree over the same window
        # (2%, plus /proc's clock ticks: a few processes, 10 ms each)
        assert w["procs_cpu_s"] == pytest.approx(w["app_cpu_s"], rel=0.02, abs=0.05), w
        assert w["app_share_pct"] <= 101.0 and "cpu_suspect" not in s["extra"]
        per_request = w["app_cpu_s"] / s["completed"]  # app_cpu_s is stored rounded
        assert s["server_cpu_s_per_request"] == pytest.approx(per_request, rel=1e-3)
        print("window", s["mode"], s["repeat"], w, s["extra"]["disturbance"])
        assert set(s["extra"]["disturbance"]) == {
            "steal_pct",
            "outside_pct_of_cpu",
            "loadgen_cpu_pct",
        }
    (cross,) = [s for s in samples if s["kind"] == "crosscheck"]
    assert cross["load"] == "wrk" and cross["status"] == "ok", cross["reason"]
    assert cross["rps"] > 0 and cross["duration_s"] == pytest.approx(2.0, abs=0.3)
    text = build_report([load_run(run_dir)], tmp_path / "report").read_text()
    section = text.split("## Second opinion: ab against wrk", 1)[1].split("\n## ", 1)[0]
    assert "| plain | original | 5 | WSGI |" in section
