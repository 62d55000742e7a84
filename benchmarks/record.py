"""Record a run's figures into benchmarks/latest.json, beside the self-benchmark's.

The self-benchmark writes its own items; the figures of issues #13 and #20 come from
whole `make bench` runs (the checks behind them, the job's wall time, whether two runs
agree). This keeps each under ``recorded`` with its run id, commit and the load average
at the run's start and end, so a figure is never quoted without the machine's state.

    .venv/bin/python -m benchmarks.record quiet results/RUN        # trust figures + wall
    .venv/bin/python -m benchmarks.record loaded results/RUN       # the same, under a burner
    .venv/bin/python -m benchmarks.record procs results/RUN        # any label: one run
    .venv/bin/python -m benchmarks.record reproduce results/A results/B
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import reproduce, trustfigures
from runner.results import RunStoreError, load_run

ROOT = Path(__file__).resolve().parents[1]
LATEST = ROOT / "benchmarks" / "latest.json"


def run_figures(run_dir: Path) -> dict[str, Any]:
    """The trust figures of one run with its job's wall time and timed share."""
    meta = load_run(run_dir).metadata
    job = dict(meta.get("main_job") or {})
    if job.get("wall_s"):
        job["timed_share_pct"] = round(100 * job["timed_s"] / job["wall_s"], 1)
    return {
        "commit": meta.get("commit"),
        "started_at": meta.get("started_at"),
        "main_job": job or None,
        **trustfigures.figures(run_dir),
    }


def reproduce_figures(first: Path, second: Path) -> dict[str, Any]:
    """How many cells of two runs kept their verdict, and the cells that did not."""
    a, b = load_run(first), load_run(second)
    rows = reproduce.agreement(reproduce.verdicts(a.samples), reproduce.verdicts(b.samples))
    return {
        "runs": [a.run_id, b.run_id],
        "commits": [a.metadata.get("commit"), b.metadata.get("commit")],
        "loadavg": [
            [r.metadata.get("loadavg_start"), r.metadata.get("loadavg_end")] for r in (a, b)
        ],
        "cells": len(rows),
        "same_verdict": sum(r.same_verdict for r in rows),
        "contradictions": [
            {"cell": reproduce.cell_label(r.key), "why": r.contradiction}
            for r in rows
            if r.contradiction
        ],
        "table": reproduce.render(rows),
    }


def record(name: str, figures: dict[str, Any], path: Path = LATEST) -> None:
    """Merge `figures` under recorded[name] in `path` (written atomically)."""
    doc = json.loads(path.read_text()) if path.exists() else {"schema": 1}
    figures["recorded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    doc.setdefault("recorded", {})[name] = figures
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module docstring."""
    p = argparse.ArgumentParser(prog="benchmarks.record", description=__doc__.splitlines()[0])
    p.add_argument("name", help="what the figures are: reproduce (two runs), or a label")
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=LATEST)
    args = p.parse_args(argv)
    want = 2 if args.name == "reproduce" else 1
    if len(args.runs) != want:
        print(f"benchmarks.record: {args.name} takes {want} run folder(s)", file=sys.stderr)
        return 2
    try:
        if args.name == "reproduce":
            figures = reproduce_figures(*args.runs)
        else:
            figures = run_figures(args.runs[0])
    except (RunStoreError, OSError, ValueError) as exc:
        print(f"benchmarks.record: {exc}", file=sys.stderr)
        return 1
    record(args.name, figures, args.out)
    print(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
