"""The checks behind a run's figures, printed (issue #13's figures from a recorded run):

- the largest CPU share of the app host over a timed window, and how many are suspect;
- the cgroup against /proc/<pid>/stat over the same windows (runs made with
  ABW_CPU_PROCS=1), the largest gap in percent;
- the disturbed repetitions and the pairs measured again, with why;
- ab against wrk at the cross-checked levels (the report's side by side).

    .venv/bin/python -m benchmarks.trustfigures results/<run-id> [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from runner.report.cells import build_cells, timed_samples
from runner.report.trust import cross_rows
from runner.results import RunStoreError, load_run


def figures(run_dir: Path) -> dict[str, Any]:
    """The figures of one run folder."""
    run = load_run(run_dir)
    timed = [s for s in run.samples if s.kind == "timed"]
    windows = [s.extra["cpu_window"] for s in timed if s.extra.get("cpu_window")]
    gaps = [
        abs(w["procs_cpu_s"] - w["app_cpu_s"]) / w["app_cpu_s"] * 100
        for w in windows
        if w.get("procs_cpu_s") is not None and w.get("app_cpu_s")
    ]
    disturbed = [s for s in timed if s.extra.get("disturbed")]
    cells = build_cells(timed_samples([run]))
    return {
        "run": run.run_id,
        "loadavg": [run.metadata.get("loadavg_start"), run.metadata.get("loadavg_end")],
        "timed": len(timed),
        "with_window": len(windows),
        "max_app_share_pct": max((w["app_share_pct"] for w in windows), default=None),
        "suspect": sum(1 for s in timed if s.extra.get("cpu_suspect")),
        "cgroup_vs_proc_max_gap_pct": round(max(gaps), 2) if gaps else None,
        "cgroup_vs_proc_windows": len(gaps),
        "disturbed": len(disturbed),
        "disturbed_why": sorted({t for s in disturbed for t in s.extra["disturbed"]}),
        "remeasured": run.metadata.get("remeasured") or {},
        "crosscheck": cross_rows([run], cells),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures of each run folder given."""
    p = argparse.ArgumentParser(prog="trustfigures", description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        out = [figures(run) for run in args.runs]
    except (RunStoreError, OSError, ValueError) as exc:
        print(f"trustfigures: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    for f in out:
        print(f"run {f['run']}: {f['timed']} timed repetitions, {f['with_window']} with windows")
        print(f"  load average (1, 5, 15 min) at the start and the end: {f['loadavg']}")
        print(f"  largest app-host CPU share {f['max_app_share_pct']}%, suspect {f['suspect']}")
        print(
            f"  cgroup vs /proc: largest gap {f['cgroup_vs_proc_max_gap_pct']}% "
            f"over {f['cgroup_vs_proc_windows']} windows"
        )
        print(f"  disturbed {f['disturbed']}: {'; '.join(f['disturbed_why']) or '-'}")
        print(f"  pairs measured again: {json.dumps(f['remeasured']) or '-'}")
        for row in f["crosscheck"]:
            print("  ab vs wrk: " + " | ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
