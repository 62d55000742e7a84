"""Do the verdicts reproduce? Two runs of the same commit, compared cell by cell.

A cell is scenario x view x concurrency x keep-alive x serving preset. Each run's cells
get their ASGI/WSGI ratio with a 95% interval on the log scale (paired when every
repetition carries its pair number in ``extra.pair``, as an interleaved comparison
records; Welch on the logs otherwise), Holm's adjustment across that run's cells, and a
verdict (runner.report.pairing). Two runs disagree on a cell when one is significant and the
other significant the other way, or when one is significant and its ratio lies outside
the other's interval. Not a test: it prints the figure (how many cells kept the same
verdict; the goal is all) and asserts nothing.

    .venv/bin/python -m benchmarks.reproduce results/RUN_A results/RUN_B
    .venv/bin/python -m benchmarks.reproduce --bench-twice [-- make-bench options]

`--bench-twice` runs the main job (`python -m runner.mainjob`, what `make bench` runs
after `make setup`) twice in a row on this checkout's commit, then compares the two
runs' results (results.json / samples.jsonl) as above; each run's wall time and share
inside timed windows is printed too. Only closed-loop cells are compared: the io
capacity search's open-loop steps pick their rates from the run itself.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.model import Sample
from runner.report import pairing
from runner.report.pairing import Ratio, RatioVerdict
from runner.report.stats import ASGI_FASTER, ASGI_SLOWER
from runner.results import RunStoreError, load_run

ROOT = Path(__file__).resolve().parents[1]
SIGNIFICANT = (ASGI_FASTER, ASGI_SLOWER)
CellKey = tuple[str, str, int, bool, str]


def cell_key(sample: Sample) -> CellKey:
    """Where a sample belongs, its mode aside."""
    preset = str(sample.serving.get("preset") or "none")
    return (sample.scenario, sample.view, sample.concurrency, sample.keepalive, preset)


def cell_label(key: CellKey) -> str:
    """'users /sync/ c=5' style text for a cell."""
    scenario, view, concurrency, keepalive, preset = key
    extra = (" keep-alive" if keepalive else "") + ("" if preset == "none" else f" {preset}")
    return f"{scenario} {view} c={concurrency}{extra}"


def cell_ratios(samples: Iterable[Sample]) -> dict[CellKey, Ratio]:
    """Each cell's ratio from its valid timed repetitions: paired when every one of them
    has a pair number and each pair has one repetition per mode, unpaired otherwise."""
    by_cell: dict[CellKey, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.kind == "timed" and s.status == "ok" and s.rps and s.offered_rate is None:
            by_cell[cell_key(s)].append(s)
    ratios: dict[CellKey, Ratio] = {}
    for key, cell in sorted(by_cell.items()):
        modes = {s.mode for s in cell}
        if modes != {"asgi", "wsgi"}:
            continue
        pairs = _pairs(cell)
        if pairs is not None:
            ratios[key] = pairing.paired_ratio(pairs)
        else:
            asgi = [float(s.rps) for s in cell if s.mode == "asgi" and s.rps]
            wsgi = [float(s.rps) for s in cell if s.mode == "wsgi" and s.rps]
            ratios[key] = pairing.unpaired_ratio(asgi, wsgi)
    return ratios


def _pairs(cell: list[Sample]) -> list[tuple[float, float]] | None:
    if any("pair" not in s.extra for s in cell):
        return None
    by_pair: dict[Any, dict[str, float]] = defaultdict(dict)
    for s in cell:
        by_pair[s.extra["pair"]][s.mode] = float(s.rps or 0)
    complete = [p for p in by_pair.values() if set(p) == {"asgi", "wsgi"}]
    return [(p["asgi"], p["wsgi"]) for p in complete]


def verdicts(samples: Iterable[Sample], method: str = pairing.HOLM) -> dict[CellKey, RatioVerdict]:
    """Each cell's verdict, adjusted across the run's cells."""
    ratios = cell_ratios(samples)
    adjusted = pairing.adjust(list(ratios.values()), method)
    return {key: pairing.judge(r) for key, r in zip(ratios, adjusted, strict=True)}


@dataclass(frozen=True)
class CellAgreement:
    """One cell in both runs: same verdict or not, and a contradiction if any."""

    key: CellKey
    first: RatioVerdict | None
    second: RatioVerdict | None
    contradiction: str

    @property
    def same_verdict(self) -> bool:
        """Both runs measured the cell and said the same words."""
        return bool(self.first and self.second and self.first.verdict == self.second.verdict)


def _outside(v: RatioVerdict, other: RatioVerdict) -> bool:
    r, o = v.ratio, other.ratio
    if r.ratio is None or o.ci_low is None or o.ci_high is None:
        return False
    return not o.ci_low <= r.ratio <= o.ci_high


def contradiction(first: RatioVerdict, second: RatioVerdict) -> str:
    """Why two verdicts of one cell contradict each other ('' when they do not)."""
    a, b = first.verdict, second.verdict
    if a in SIGNIFICANT and b in SIGNIFICANT and a != b:
        return f"significant both ways ({a} / {b})"
    for one, other, which in ((first, second, "first"), (second, first, "second")):
        if one.verdict in SIGNIFICANT and _outside(one, other):
            return f"the {which} run is significant and its ratio is outside the other's CI"
    return ""


def agreement(
    first: dict[CellKey, RatioVerdict], second: dict[CellKey, RatioVerdict]
) -> list[CellAgreement]:
    """Every cell of either run, compared."""
    rows = []
    for key in sorted(set(first) | set(second)):
        a, b = first.get(key), second.get(key)
        why = contradiction(a, b) if a and b else "measured in one run only"
        rows.append(CellAgreement(key, a, b, why))
    return rows


def _fmt(v: RatioVerdict | None) -> str:
    if v is None:
        return "-"
    r = v.ratio
    if r.ratio is None:
        return v.verdict
    ci = "" if r.ci_low is None else f" [{r.ci_low:.3f}, {r.ci_high:.3f}]"
    return f"{r.ratio:.3f}{ci} {v.verdict}"


def render(rows: list[CellAgreement]) -> str:
    """The comparison as a Markdown table and a one-line figure."""
    lines = ["| cell | first run | second run | same verdict | contradiction |"]
    lines.append("|---|---|---|---|---|")
    for row in rows:
        lines.append(
            f"| {cell_label(row.key)} | {_fmt(row.first)} | {_fmt(row.second)} | "
            f"{'yes' if row.same_verdict else 'no'} | {row.contradiction or '-'} |"
        )
    same = sum(row.same_verdict for row in rows)
    bad = sum(bool(row.contradiction) for row in rows)
    lines.append("")
    lines.append(
        f"{same} of {len(rows)} cells kept the same verdict; {bad} contradiction(s) "
        "(goal: all the same, none contradicting; Holm across each run's cells)"
    )
    return "\n".join(lines)


def _run_dirs(results: Path) -> set[Path]:
    return {p for p in results.iterdir() if p.is_dir()} if results.is_dir() else set()


def _bench_twice(results: Path, bench_args: list[str]) -> tuple[Path, Path]:
    """`make bench` twice on this commit; the two new run folders."""
    made = []
    for i in range(2):
        before = _run_dirs(results)
        argv = [sys.executable, "-m", "runner.mainjob", "--results", str(results), *bench_args]
        print("$ " + " ".join(argv), flush=True)
        started = time.monotonic()
        done = subprocess.run(argv, cwd=ROOT, check=False)
        new = sorted(_run_dirs(results) - before)
        if done.returncode != 0 or not new:
            raise SystemExit(f"make bench failed (exit {done.returncode}): nothing to compare")
        wall = time.monotonic() - started
        print(f"run {i + 1}: {new[-1].name}, {wall:.0f} s wall", flush=True)
        made.append(new[-1])
    return made[0], made[1]


def commits_note(first: Iterable[Sample], second: Iterable[Sample]) -> str:
    """'' when both runs measured one and the same commit, else a line saying so."""
    a = sorted({s.commit for s in first})
    b = sorted({s.commit for s in second})
    if a == b and len(a) == 1:
        return ""
    return (
        f"note: the runs are not of one commit ({', '.join(a) or '?'} / {', '.join(b) or '?'}): "
        "a disagreement may be a change of the code, not noise"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: compare two run folders, or run `make bench` twice and compare."""
    parser = argparse.ArgumentParser(prog="benchmarks.reproduce", description=__doc__)
    parser.add_argument("runs", nargs="*", help="two results/<run-id> folders")
    parser.add_argument("--bench-twice", action="store_true", help="run make bench twice first")
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--json", help="also write the comparison here")
    args, rest = parser.parse_known_args(argv)
    rest = [a for a in rest if a != "--"]
    if args.bench_twice:
        first_dir, second_dir = _bench_twice(Path(args.results), rest)
    elif len(args.runs) == 2 and not rest:
        first_dir, second_dir = map(Path, args.runs)
    else:
        parser.error("give two run folders, or --bench-twice")
    try:
        first, second = load_run(first_dir), load_run(second_dir)
    except RunStoreError as exc:
        print(f"reproduce: {exc}", file=sys.stderr)
        return 2
    rows = agreement(verdicts(first.samples), verdicts(second.samples))
    print(f"first: {first_dir}\nsecond: {second_dir}\n")
    if note := commits_note(first.samples, second.samples):
        print(note + "\n")
    print(render(rows))
    if args.json:
        doc = [
            {
                "cell": cell_label(r.key),
                "first": r.first.to_dict() if r.first else None,
                "second": r.second.to_dict() if r.second else None,
                "same_verdict": r.same_verdict,
                "contradiction": r.contradiction,
            }
            for r in rows
        ]
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
