"""`fab compare --interleave` on the test session's one stack: both modes side by side,
ABBA within the level, time-based ab, paired verdicts and the forest plot."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAB = str(Path(sys.executable).with_name("fab"))

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(2400)]


def fab(*args: str, timeout: int = 2000) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FAB, "-r", str(ROOT), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_interleaved_compare_pairs_the_modes_and_reports_paired_ratios(local_stack, tmp_path):
    results = tmp_path / "results"
    proc = fab(
        "compare", "--inventory", str(local_stack.inventory_path), "--preset", "smoke",
        "--scenario", "users", "--concurrency", "2", "--repeat", "2", "--duration", "1",
        "--interleave", "--no-instrument", "--results", str(results),
        # The suite's machine is busy by design: a disturbed pair would add a pair and
        # change the order asserted here (re-measuring is test_trust2's subject).
        "--max-steal", "100", "--max-outside", "100",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    timed = [s for s in samples if s["kind"] == "timed"]
    order = [(s["mode"], s["extra"]["pair"]) for s in timed]
    assert order == [("asgi", 1), ("wsgi", 1), ("wsgi", 2), ("asgi", 2)]
    assert all(s["status"] in ("ok", "invalid") for s in timed)
    ports = {s["mode"]: s["serving"].get("port") for s in timed}
    assert ports["wsgi"] == ports["asgi"] + 1  # both servers side by side
    # ab -t 1: each repetition ran its second, not a request count.
    assert all(s["duration_s"] >= 0.95 for s in timed if s["status"] == "ok")
    report = (run_dir / "report.md").read_text()
    assert report.index("plots/forest.png") < report.index("## Verdicts")
    assert "| paired |" in report
    meta = json.loads((run_dir / "results.json").read_text())["metadata"]
    assert meta["last_switch_s"] > 0
    assert "2 pairs as asked" in json.dumps(meta["interleaved"])


def test_make_bench_pairs_the_modes_and_adds_pairs_only_within_its_wall_budget(
    local_stack, tmp_path
):
    """make bench's own path (runner.mainjob.measure) on the session's stack, not one of
    its own: interleaved, --repeat auto with its minimum of 3 pairs, and a wall budget
    that leaves no room for a 4th pair (it stops at the precision or at the budget,
    never at the cap)."""
    from types import SimpleNamespace

    from runner import mainjob

    results = tmp_path / "results"
    args = mainjob._parser().parse_args(
        ["--preset", "smoke", "--scenario", "users", "--duration", "1", "--repeat", "auto",
         "--max-pairs", "4", "--slo", "", "--results", str(results),
         "--max-steal", "100", "--max-outside", "100"]  # busy machine: no re-measures
    )  # fmt: skip
    plan = mainjob._plan(args, SimpleNamespace(inventory=local_stack.inventory_path))
    assert plan.interleave and plan.auto is not None
    run_dir = mainjob.measure(plan, args.slo, budget_s=5.0)
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    timed = [s for s in samples if s["kind"] == "timed"]
    order = [(s["mode"], s["extra"]["pair"]) for s in timed]
    assert order[:6] == [
        ("asgi", 1), ("wsgi", 1), ("wsgi", 2), ("asgi", 2), ("asgi", 3), ("wsgi", 3),
    ]  # fmt: skip
    assert all(s["extra"]["planned_s"] == 1.0 for s in timed)
    meta = json.loads((run_dir / "results.json").read_text())["metadata"]
    (reason,) = meta["interleaved"].values()
    if len(timed) == 6:
        assert reason.startswith(("precision reached", "wall budget reached after"))
    else:  # never: the budget is spent before a 4th pair
        pytest.fail(f"a 4th pair ran beyond the wall budget: {reason}")
    report = (run_dir / "report.md").read_text()
    assert "## Repetitions" in report and "| timed s per rep |" in report
    assert "inside timed windows" in mainjob.timed_share(run_dir, 60.0)
