"""benchmarks/record.py: a run's figures merged into latest.json beside what is there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks import record

RECORDED = Path(__file__).parents[1] / "runner" / "data" / "recorded" / "20261202T013126Z-9460"


def test_a_run_is_recorded_beside_the_self_benchmarks_figures(tmp_path: Path) -> None:
    run = tmp_path / RECORDED.name
    shutil.copytree(RECORDED, run)
    latest = tmp_path / "latest.json"
    latest.write_text(json.dumps({"schema": 1, "figures": {"limit": {"asgi": 1}}}))
    assert record.main(["quiet", str(run), "--out", str(latest)]) == 0
    doc = json.loads(latest.read_text())
    assert doc["figures"] == {"limit": {"asgi": 1}}  # the self-benchmark's untouched
    quiet = doc["recorded"]["quiet"]
    assert quiet["run"] == RECORDED.name
    assert quiet["timed"] > 0 and "disturbed" in quiet


def test_reproduce_compares_two_runs_cell_by_cell(tmp_path: Path) -> None:
    latest = tmp_path / "latest.json"
    args = ["reproduce", str(RECORDED), str(RECORDED), "--out", str(latest)]
    assert record.main(args) == 0
    figures = json.loads(latest.read_text())["recorded"]["reproduce"]
    assert figures["cells"] > 0
    assert figures["same_verdict"] == figures["cells"] and figures["contradictions"] == []


def test_reproduce_needs_two_runs(tmp_path: Path, capsys) -> None:
    assert record.main(["reproduce", str(RECORDED), "--out", str(tmp_path / "l.json")]) == 2
    assert "takes 2 run folder(s)" in capsys.readouterr().err
    assert not (tmp_path / "l.json").exists()
