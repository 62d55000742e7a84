"""The report: cells (the data model), stats, plots, Markdown (tables and sections) and
the original study's figures. `build_report(runs, out_dir)` writes report.md."""

from __future__ import annotations

from runner.report.cells import Cell, Pair, build_cells, config_label, pair_cells
from runner.report.markdown import REPORT, build_report, report_run, summary_table
from runner.report.plots import PLOTS

__all__ = [
    "PLOTS",
    "REPORT",
    "Cell",
    "Pair",
    "build_cells",
    "build_report",
    "config_label",
    "pair_cells",
    "report_run",
    "summary_table",
]
