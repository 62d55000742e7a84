"""The report's matrix of verdicts (runner/matrix_report.py)."""

from __future__ import annotations

from runner.report import stats
from runner.matrix import Combination, Skipped
from runner.report.matrix import Column, matrix_table, ratio_text


def test_cells_are_ratios_with_their_interval_and_verdict() -> None:
    slower = stats.compare([90.0, 91.0, 89.0], [100.0, 101.0, 99.0])
    assert slower.verdict == stats.ASGI_SLOWER
    text = ratio_text(slower)
    assert text.startswith("0.90 (") and text.endswith(") ASGI slower")
    low, high = (float(x) for x in text.split("(")[1].split(")")[0].split(".."))
    assert low < 0.90 < high < 1.0


def test_too_few_repetitions_say_why() -> None:
    verdict = stats.compare([90.0], [100.0])
    assert ratio_text(verdict) == "0.90 inconclusive"


def test_rows_are_combinations_and_columns_scenario_levels() -> None:
    v = stats.compare([100.0, 102.0, 98.0], [100.0, 101.0, 99.0])
    faster = stats.compare([120.0, 121.0, 119.0], [100.0, 101.0, 99.0])
    table = matrix_table(
        {
            Combination("5.2", "3.11"): {Column("users", 5): v, Column("io", 10): faster},
            Combination("6.1", "3.12"): {Column("users", 5): v},
        },
        [Skipped(Combination("6.1", "3.11"), "Django 6.1 requires Python >=3.12")],
    )
    assert table[0] == "| Django | Python | io c=10 | users c=5 |"
    assert table[2].startswith("| 5.2 | 3.11 | 1.20 (")
    assert "ASGI faster" in table[2]
    assert table[3].startswith("| 6.1 | 3.12 | not measured | 1.00 (")
    assert table[-1] == (
        "- skipped up front: Django 6.1 / Python 3.11: Django 6.1 requires Python >=3.12"
    )
