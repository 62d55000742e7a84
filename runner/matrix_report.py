"""The report's matrix of verdicts (pure): rows Django x Python, columns scenario x level,
each cell the ASGI/WSGI throughput ratio with its 95% interval.

The ratio is ASGI's mean requests/s over WSGI's; its interval is Welch's interval of the
difference of means (runner.stats.compare) divided by the WSGI mean, plus one. A ratio
above 1 means ASGI served more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runner import stats
from runner.matrix import Combination, Skipped

VERDICT_MARK = {
    stats.ASGI_FASTER: "ASGI faster",
    stats.ASGI_SLOWER: "ASGI slower",
    stats.NO_DIFFERENCE: "no difference",
    stats.INCONCLUSIVE: "inconclusive",
}


@dataclass(frozen=True, order=True)
class Column:
    """One scenario at one level (concurrency)."""

    scenario: str
    concurrency: int

    def label(self) -> str:
        """users c=5."""
        return f"{self.scenario} c={self.concurrency}"


def ratio_text(verdict: stats.Verdict) -> str:
    """'0.94 (0.85..1.03) inconclusive'; '-' when there is no ratio."""
    if verdict.diff_pct is None:
        return f"- ({verdict.reason})" if verdict.reason else "-"
    ratio = 1 + verdict.diff_pct / 100
    mark = VERDICT_MARK.get(verdict.verdict, verdict.verdict)
    if verdict.ci_low_pct is None or verdict.ci_high_pct is None:
        return f"{ratio:.2f} {mark}"
    low, high = 1 + verdict.ci_low_pct / 100, 1 + verdict.ci_high_pct / 100
    return f"{ratio:.2f} ({low:.2f}..{high:.2f}) {mark}"


def matrix_table(
    verdicts: Mapping[Combination, Mapping[Column, stats.Verdict]],
    skipped: list[Skipped] | None = None,
) -> list[str]:
    """Markdown lines: the table (one row per combination that ran, in the given order),
    then one line per combination skipped up front and why."""
    columns = sorted({col for cells in verdicts.values() for col in cells})
    lines = [
        "| Django | Python | " + " | ".join(col.label() for col in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for combo, cells in verdicts.items():
        row = [combo.django, combo.python]
        row += [ratio_text(cells[col]) if col in cells else "not measured" for col in columns]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append(
        "Each cell: ASGI requests/s over WSGI requests/s (above 1: ASGI served more), "
        "95% interval in brackets, then the verdict (Welch's t-test)."
    )
    for skip in skipped or []:
        lines.append(f"- skipped up front: {skip.combination.label()}: {skip.reason}")
    return lines
