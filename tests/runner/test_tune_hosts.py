"""fab tune and fab compare --search on the local hosts, with tiny budgets and counts:
they measure, stop when the budget is spent and say so, and write results like any run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAB = str(Path(sys.executable).with_name("fab"))

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(600)]


def fab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FAB, "-r", str(ROOT), *args], cwd=ROOT, capture_output=True, text=True, timeout=540
    )


def only_run(results: Path) -> Path:
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    return run_dir


def test_tune_stops_when_its_budget_is_spent(deployer, local_stack, tmp_path):
    # A 1-second budget: the deploy's default config is measured, then the budget is gone.
    proc = fab(
        "tune", "--inventory", str(local_stack.inventory_path), "--modes", "wsgi",
        "--scenario", "io", "--concurrency", "4", "--requests", "20", "--budget", "1",
        "--results", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "budget spent" in proc.stdout
    run_dir = only_run(tmp_path)
    doc = json.loads((run_dir / "results.json").read_text())
    tune = doc["metadata"]["tune"]["wsgi"]
    assert tune["exhausted"] is True
    assert [t["label"] for t in tune["tried"]] == ["default"]
    assert tune["best"] == {} and tune["best_rps"] > 0
    timed = [s for s in doc["samples"] if s["kind"] == "timed"]
    assert len(timed) == 1 and timed[0]["concurrency"] == 4 and timed[0]["mode"] == "wsgi"
    report = (run_dir / "report.md").read_text()
    assert "## Tuning" in report and "budget of" in report


def test_concurrency_search_measures_both_modes_within_budget(deployer, local_stack, tmp_path):
    proc = fab(
        "compare", "--search", "--inventory", str(local_stack.inventory_path),
        "--scenario", "io", "--concurrency", "2,8", "--budget", "120",
        "--results", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = only_run(tmp_path)
    doc = json.loads((run_dir / "results.json").read_text())
    search = doc["metadata"]["search"]
    assert search["scenario"] == "io" and search["modes"] == ["asgi", "wsgi"]
    assert set(search["points"]["asgi"]) >= {"2"}
    measured = {(s["mode"], s["concurrency"]) for s in doc["samples"]}
    for mode, points in search["points"].items():
        assert {(mode, int(c)) for c in points} <= measured
        best = search["best"][mode]
        if best is not None:
            assert points[str(best["concurrency"])] == max(v for v in points.values() if v)
    report = (run_dir / "report.md").read_text()
    assert "## Concurrency search" in report
    assert ("crossover of `io`" in report) or ("no crossover" in report)


def test_bad_search_and_sweep_options_are_refused(local_stack, tmp_path):
    inv = str(local_stack.inventory_path)
    for args, message in (
        (("compare", "--middleware", "fancy"), "--middleware value 'fancy' is unknown"),
        (("compare", "--search", "--concurrency", "8"), "--concurrency START,CAP"),
        (("compare", "--search", "--tuned"), "separate runs"),
        (("tune", "--scenario", "io,users"), "one --scenario"),
    ):
        proc = fab(*args, "--inventory", inv, "--results", str(tmp_path))
        assert proc.returncode == 1, args
        assert message in proc.stderr, proc.stderr
    assert not list(tmp_path.iterdir())
