"""How the report writes numbers and tables (Markdown)."""

from __future__ import annotations

from runner.report.cells import Cell


def fmt(value: float | None, digits: int = 1) -> str:
    """A number with thousands separators, or - for none."""
    return "-" if value is None else f"{value:,.{digits}f}"


def rps_text(cell: Cell) -> str:
    """A cell's mean requests/s with its 95% CI half-width."""
    m, h = cell.rps_mean(), cell.rps_half_ci()
    if m is None:
        return "-"
    return f"{m:,.2f} ± {h:,.2f}" if h is not None else f"{m:,.2f} (n=1, no CI)"


def pct(value: float | None) -> str:
    """A signed percentage, or - for none."""
    return "-" if value is None else f"{value:+.1f}%"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table's lines."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out
