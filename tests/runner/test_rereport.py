"""A committed, recorded run (a `make bench --preset smoke` on the local hosts, written by
the runner before the stages restructure: schema 1, its raw ab files and samples) read
again by today's runner: every timed sample's figures re-derived from its raw files must
equal the stored ones, and the report must equal the committed copy. A refactor that
changes a figure shows here; a deliberate fix updates the copy in its own commit
(tests/runner/data/recorded/README.md says how)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.load import get_load_generator
from runner.load.execute import merge_hosts, reparse
from runner.report import build_report
from runner.results import load_run

RECORDED = Path(__file__).parent / "data" / "recorded"
pytestmark = pytest.mark.timeout(120)


def _run_dir() -> Path:
    (run,) = [p for p in RECORDED.iterdir() if p.is_dir()]
    return run


def _normalized(text: str) -> str:
    """The report without the moment it was written."""
    return "\n".join(
        line.split("; written ")[0] if line.startswith("Runs ") else line
        for line in text.splitlines()
    )


def test_figures_re_derived_from_the_raw_files_equal_the_stored_ones():
    run = load_run(_run_dir())
    timed = [s for s in run.samples if s.kind == "timed" and s.raw_files]
    assert timed, "the recorded run has timed samples with raw files"
    for s in timed:
        gen = get_load_generator(s.load)
        merged = merge_hosts(gen, reparse(gen, run.run_dir, s.raw_files))
        where = f"{s.mode} {s.scenario} c={s.concurrency} rep {s.repeat}"
        assert merged.completed == s.completed, where
        assert merged.failed == s.failed and merged.non_2xx == s.non_2xx, where
        assert merged.rps == pytest.approx(s.rps), where
        assert merged.document_length == s.document_length, where
        stored = s.latency_ms.to_dict() if s.latency_ms else None
        got = merged.latency_ms
        if stored is None:
            assert got is None, where
            continue
        for key in ("mean", "p50", "p90", "p99", "max"):
            assert got[key] == pytest.approx(stored[key]), f"{where}: {key}"


def test_the_report_of_the_recorded_run_equals_the_committed_copy(tmp_path):
    run_dir = tmp_path / _run_dir().name
    shutil.copytree(_run_dir(), run_dir, ignore=shutil.ignore_patterns("report*.md", "plots"))
    path = build_report([load_run(run_dir)], run_dir)
    expected = (RECORDED / "report.expected.md").read_text()
    assert _normalized(path.read_text()) == _normalized(expected)
