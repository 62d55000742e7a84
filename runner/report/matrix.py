"""The report's matrix of verdicts (pure): rows Django x Python, columns scenario x level,
each cell the ASGI/WSGI throughput ratio with its 95% interval.

The ratio is ASGI's mean requests/s over WSGI's; its interval is Welch's interval of the
difference of means (runner.stats.compare) divided by the WSGI mean, plus one. A ratio
above 1 means ASGI served more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runner.matrix import Combination, Skipped, combination_of
from runner.model import Sample
from runner.report import stats
from runner.report.cells import Pair, build_cells, pair_cells
from runner.results import RunData

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


def ratio_text(verdict: stats.Verdict, mark: bool = True) -> str:
    """'0.94 (0.85..1.03) inconclusive' ('0.94 (0.85..1.03)' without the mark)."""
    if verdict.diff_pct is None:
        return f"- ({verdict.reason})" if verdict.reason else "-"
    ratio = 1 + verdict.diff_pct / 100
    word = f" {VERDICT_MARK.get(verdict.verdict, verdict.verdict)}" if mark else ""
    if verdict.ci_low_pct is None or verdict.ci_high_pct is None:
        return f"{ratio:.2f}{word}"
    low, high = 1 + verdict.ci_low_pct / 100, 1 + verdict.ci_high_pct / 100
    return f"{ratio:.2f} ({low:.2f}..{high:.2f}){word}"


def matrix_table(
    verdicts: Mapping[Combination, Mapping[Column, stats.Verdict]],
    skipped: list[Skipped] | None = None,
) -> list[str]:
    """Markdown lines: the table (one row per combination that ran, in the given order),
    then one line per combination skipped up front and why."""
    columns = sorted({col for cells in verdicts.values() for col in cells})
    if not columns:
        return [
            "No combination has both modes measured at any level: no verdict yet.",
            *(f"- skipped up front: {s.combination.label()}: {s.reason}" for s in skipped or []),
        ]
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


# -- from samples ------------------------------------------------------------------------
def by_combination(samples: list[Sample]) -> dict[Combination, list[Sample]]:
    """A matrix run's samples per combination, in the order they were measured (empty
    when no sample names a combination: not a matrix run)."""
    groups: dict[Combination, list[Sample]] = {}
    for sample in samples:
        combo = combination_of(sample.serving)
        if combo is not None:
            groups.setdefault(combo, []).append(sample)
    return groups


def combination_pairs(samples: list[Sample]) -> dict[Combination, list[Pair]]:
    """ASGI-WSGI pairs per combination (never across combinations)."""
    return {
        combo: pair_cells(build_cells(group)) for combo, group in by_combination(samples).items()
    }


def skipped_of(runs: list[RunData]) -> list[Skipped]:
    """The combinations the runs skipped up front (their metadata's matrix.skipped)."""
    out: list[Skipped] = []
    for run in runs:
        for item in (run.metadata.get("matrix") or {}).get("skipped", []):
            skip = Skipped(Combination(item["django"], item["python"]), item["reason"])
            if skip not in out:
                out.append(skip)
    return out


def versions_text(samples: list[Sample]) -> str:
    """'Django 6.1.3, Python 3.12.1, asgiref 3.13.0, Granian 2.8.7' as the samples recorded."""
    names = {"django": "Django", "python": "Python", "asgiref": "asgiref", "granian": "Granian"}
    seen: dict[str, set[str]] = {k: set() for k in names}
    for s in samples:
        for key in names:
            if s.versions.get(key):
                seen[key].add(str(s.versions[key]))
    return ", ".join(f"{names[k]} {'/'.join(sorted(v))}" for k, v in seen.items() if v)


def matrix_section(runs: list[RunData], samples: list[Sample]) -> tuple[list[str], list[Pair]]:
    """The matrix of verdicts and one section per combination (its versions, verdicts),
    and every combination's pairs; nothing for a run that is not a matrix."""
    pairs = combination_pairs(samples)
    if not pairs:
        return [], []
    groups = by_combination(samples)
    verdicts = {
        combo: {Column(p.scenario, p.concurrency): p.verdict for p in combo_pairs}
        for combo, combo_pairs in pairs.items()
    }
    lines = [
        "## The version matrix: Django x Python",
        "",
        *matrix_table(verdicts, skipped_of(runs)),
        "",
    ]
    for combo, combo_pairs in pairs.items():
        lines += [f"### {combo.label()}", "", f"Served by {versions_text(groups[combo])}.", ""]
        if combo_pairs:
            lines += [
                f"- {p.scenario} {p.view} c={p.concurrency}"
                f"{' keep-alive' if p.keepalive else ''}: **{p.verdict.verdict}**, "
                f"ASGI/WSGI {ratio_text(p.verdict, mark=False)} ({p.verdict.reason})"
                for p in combo_pairs
            ]
        else:
            lines.append("No cell has both modes measured: no verdict.")
        lines.append("")
    return lines, [p for combo_pairs in pairs.values() for p in combo_pairs]
