"""report.md from one or more runs: the verdicts, per scenario the table of cells with
its plots and the excluded samples, then the sections (runner.report.sections) and the
original study beside ours (runner.report.original); and the terminal's summary."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from runner.matrix import combination_of
from runner.model import Sample
from runner.report import pairing, stats
from runner.report.cells import Cell, Pair, build_cells, pair_cells, timed_samples
from runner.report.forest import ForestRow, forest_plot
from runner.report.matrix import matrix_section
from runner.report.openloop import report_lines as open_loop_lines
from runner.report.original import original_section
from runner.report.plots import make_plots
from runner.report.repetitions import repetitions_section, seconds_text
from runner.report.sections import ceiling_section, configs_section, hosts_section, why_section
from runner.report.text import fmt, pct, rps_text, table
from runner.report.trust import crosscheck_section, disturbed_section
from runner.results import RunData, RunStore, load_run
from runner.serverreport import server_section
from runner.targets.project import report_lines as project_report_lines

REPORT = "report.md"
FOREST_PNG = "forest.png"


def _cell_rows(cells: list[Cell]) -> list[list[str]]:
    rows = []
    for c in cells:
        counts = c.counts()
        excluded = ", ".join(
            f"{counts[k]} {k}" for k in ("invalid", "aborted", "failed") if counts[k]
        )
        cv = stats.cv(c.rps)
        rows.append(
            [
                str(c.concurrency),
                c.mode.upper(),
                c.view,
                f"`{c.paths}`",
                c.requests if not _timed_cell(c) else f"cap {c.requests}",
                seconds_text(c.samples),
                f"{len(c.valid)}/{len(c.samples)}",
                rps_text(c),
                "-" if cv is None else f"{cv * 100:.1f}%",
                fmt(c.latency("mean")),
                fmt(c.latency("p50")),
                fmt(c.latency("p90")),
                fmt(c.latency("p99")),
                fmt(c.latency("max")),
                str(sum(s.failed for s in c.samples)),
                str(sum(s.non_2xx for s in c.samples)),
                fmt(c.cpu_ms(), 2),
                excluded or "-",
            ]
        )
    return rows


def _timed_cell(cell: Cell) -> bool:
    """Every repetition time-based: its request count is only a cap."""
    return all(s.extra.get("planned_s") for s in cell.samples)


CELL_HEADER = [
    "c",
    "mode",
    "view",
    "path",
    "requests",
    "timed s per rep",
    "valid reps",
    "req/s (mean ± 95% CI)",
    "CV",
    "mean ms",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "failed",
    "non-2xx",
    "CPU ms/req",
    "excluded",
]


def _verdict_rows(pairs: list[Pair]) -> list[list[str]]:
    rows = []
    for p in pairs:
        v = p.verdict
        r = v.ratio
        ratio = "-" if r.ratio is None else f"{r.ratio:.3f}"
        ci = "-" if r.ci_low is None else f"{r.ci_low:.3f} .. {r.ci_high:.3f}"
        half = r.half_width_points
        rows.append(
            [
                p.scenario,
                p.view,
                str(p.concurrency),
                "yes" if p.keepalive else "no",
                rps_text(p.asgi),
                rps_text(p.wsgi),
                ratio,
                ci if half is None else f"{ci} (±{half:.1f} pts)",
                "paired" if r.test == pairing.PAIRED_TEST else "unpaired",
                "-" if v.p_value is None else f"{v.p_value:.3g}",
                f"{v.n_asgi}/{v.n_wsgi}",
                f"**{v.verdict}**",
            ]
        )
    return rows


VERDICT_HEADER = [
    "scenario",
    "view",
    "c",
    "keep-alive",
    "ASGI req/s",
    "WSGI req/s",
    "ASGI/WSGI",
    "95% CI of the ratio",
    "pairs",
    "p (adjusted)",
    "n (ASGI/WSGI)",
    "verdict",
]


def forest_rows(pairs: list[Pair]) -> list[ForestRow]:
    """One forest-plot row per verdict, in the verdict table's order."""
    rows = []
    for p in pairs:
        r = p.verdict.ratio
        label = f"{p.scenario} {p.view} c={p.concurrency}{' keep-alive' if p.keepalive else ''}"
        rows.append(ForestRow(label, r.ratio, r.ci_low, r.ci_high, p.verdict.verdict))
    return rows


def _intro(
    runs: list[RunData],
    samples: list[Sample],
    pairs: list[Pair],
    out_dir: Path,
    matrix: bool = False,
) -> list[str]:
    """The title, the forest plot, what entered the statistics, and the verdicts."""
    counts = Counter(s.status for s in samples)
    ids = ", ".join(f"`{r.run_id}`" for r in runs)
    lines = [
        "# ASGI against WSGI: report",
        "",
        f"Runs {ids}; written {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. "
        f"{len(samples)} samples: "
        + ", ".join(f"{counts[k]} {k}" for k in ("ok", "invalid", "aborted", "failed") if counts[k])
        + ".",
        "",
        *_forest(pairs, out_dir),
        *[line for run in runs for line in project_report_lines(run.metadata)],
        "Only valid repetitions (status `ok`) enter the means, confidence intervals and "
        "verdicts. Invalid samples (a failed request, a non-2xx answer, a changed response "
        "length or a saturated load generator), aborted ab runs and failed stages are shown "
        "in the tables (column *excluded*, and the reasons below) but excluded from the "
        "statistics.",
        "",
        "## Verdicts",
        "",
        "The ratio ASGI/WSGI of requests/s with its 95% confidence interval, computed on "
        f"the log scale (it never passes 0): *paired* = {pairing.PAIRED_TEST} (interleaved "
        "repetitions, each ASGI one with its WSGI neighbour in time), *unpaired* = "
        f"{pairing.UNPAIRED_TEST} (scipy's Welch degrees of freedom). The p-values are "
        f"adjusted across this report's {len(pairs)} cells with "
        f"{pairing.ADJUSTMENTS[pairing.HOLM]}; a verdict is significant at adjusted "
        "p < 0.05. *No significant difference* only when the whole interval lies within "
        "1 ± 0.05; a wider interval is *inconclusive* (more pairs needed), and fewer than 2 "
        "valid repetitions (pairs) is *inconclusive* too.",
        "",
    ]
    if matrix:
        lines.append("A version matrix: the verdicts are per Django x Python combination, below.")
    elif pairs:
        lines += table(VERDICT_HEADER, _verdict_rows(pairs))
    else:
        lines.append("No cell has both modes measured: no verdict.")
    lines.append("")
    return lines


def _forest(pairs: list[Pair], out_dir: Path) -> list[str]:
    """The forest plot (the report's opening picture), when there is a verdict."""
    if not pairs:
        return []
    png = forest_plot(forest_rows(pairs), out_dir / "plots" / FOREST_PNG, equivalence_pct=5)
    return [f"![ASGI/WSGI ratio per cell, 95% CI]({png.relative_to(out_dir).as_posix()})", ""]


def _scenarios(cells: list[Cell], plots: dict[str, list[Path]], out_dir: Path) -> list[str]:
    """Per scenario (and keep-alive): its table of cells, its plots, what was excluded."""
    lines: list[str] = []
    for scenario, keepalive in sorted({(c.scenario, c.keepalive) for c in cells}):
        chosen = [c for c in cells if c.scenario == scenario and c.keepalive == keepalive]
        name = f"{scenario}{'-keepalive' if keepalive else ''}"
        lines += [
            f"## Scenario `{scenario}`{' with keep-alive' if keepalive else ''}",
            "",
            *table(CELL_HEADER, _cell_rows(chosen)),
            "",
        ]
        for png in plots.get(name, []):
            rel = png.relative_to(out_dir).as_posix()
            lines.append(f"![{png.stem}]({rel})")
        lines.append("")
        reasons = [(c, r) for c in chosen for r in c.reasons()]
        if reasons:
            lines.append("Excluded samples:")
            lines += [f"- c={c.concurrency} {c.mode.upper()} {c.view}: {r}" for c, r in reasons]
            lines.append("")
    return lines


def _write(out_dir: Path, lines: list[str], pairs: list[Pair]) -> Path:
    """report.md (atomically) and verdicts.json."""
    path = out_dir / REPORT
    tmp = out_dir / f".{REPORT}.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    verdicts = [
        {
            "scenario": p.scenario,
            "view": p.view,
            "concurrency": p.concurrency,
            "keepalive": p.keepalive,
            **_combination_fields(p),
            **p.verdict.to_dict(),
        }
        for p in pairs
    ]
    (out_dir / "verdicts.json").write_text(json.dumps(verdicts, indent=1) + "\n")
    return path


def _combination_fields(pair: Pair) -> dict[str, str]:
    """{"django": "6.1", "python": "3.12"} for a version matrix's pair, else {}."""
    combo = combination_of(pair.asgi.samples[0].serving) if pair.asgi.samples else None
    return {"django": combo.django, "python": combo.python} if combo else {}


def build_report(runs: list[RunData], out_dir: Path) -> Path:
    """Write out_dir/report.md (and out_dir/plots/*.png, verdicts.json); return its path."""
    if not runs:
        raise ValueError("build_report needs at least one run")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = timed_samples(runs)
    cells = build_cells(samples)
    # A version matrix pairs ASGI and WSGI within each combination, never across them.
    matrix_lines, matrix_pairs = matrix_section(runs, samples)
    pairs = matrix_pairs if matrix_lines else pair_cells(cells)
    lines = _intro(runs, samples, pairs, out_dir, matrix=bool(matrix_lines))
    lines += matrix_lines
    lines += _scenarios(cells, make_plots(cells, out_dir), out_dir)
    lines += open_loop_lines(runs, cells, out_dir)
    lines += crosscheck_section(runs, cells) + disturbed_section(runs)
    lines += ceiling_section(runs, cells)
    lines += why_section(runs, cells)
    lines += server_section(s for run in runs for s in run.samples)
    lines += configs_section(runs, cells)
    lines += hosts_section(runs)
    lines += original_section(cells, pairs)
    stops = {k: v for run in runs for k, v in (run.metadata.get("interleaved") or {}).items()}
    lines += repetitions_section(samples, stops)
    return _write(out_dir, lines, pairs)


def summary_table(runs: list[RunData]) -> str:
    """A short plain-text table for the terminal: one line per cell, then the verdicts."""
    cells = build_cells(timed_samples(runs))
    pairs = pair_cells(cells)
    header = f"{'scenario':<9} {'c':>5} {'mode':<5} {'view':<13} {'req/s':>22} {'p99 ms':>9} valid"
    out = [header, "-" * len(header)]
    for c in cells:
        out.append(
            f"{c.scenario:<9} {c.concurrency:>5} {c.mode:<5} {c.view:<13} {rps_text(c):>22} "
            f"{fmt(c.latency('p99')):>9} {len(c.valid)}/{len(c.samples)}"
        )
    if pairs:
        out.append("")
        for p in pairs:
            out.append(
                f"{p.scenario} {p.view} c={p.concurrency}"
                f"{' keep-alive' if p.keepalive else ''}: {p.verdict.verdict} "
                f"(ASGI {pct(p.verdict.diff_pct)} vs WSGI; {p.verdict.reason})"
            )
    return "\n".join(out)


def report_run(store: RunStore) -> RunData | None:
    """Write report.md for a run that stored anything (also after a failure: the runs'
    `finally`); return the run read back, or None when it has no samples yet."""
    if not store.has_samples():
        return None
    run = load_run(store.run_dir)
    build_report([run], store.run_dir)
    return run
