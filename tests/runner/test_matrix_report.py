"""The report's matrix of verdicts (runner/report/matrix.py)."""

from __future__ import annotations

from runner.matrix import Combination, Skipped
from runner.report import stats
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


def test_a_matrix_run_s_report_pairs_within_each_combination(tmp_path) -> None:
    import json

    from runner.report.markdown import build_report
    from runner.results import RunData
    from tests.runner.helpers import make_sample

    samples = []
    figures = {("5.2", "3.11"): (10.0, 12.0), ("6.1", "3.12"): (20.0, 15.0)}
    for (django, python), (asgi, wsgi) in figures.items():
        versions = {"django": f"{django}.9", "python": f"{python}.1", "asgiref": "3.13.0"}
        for mode, rps in (("asgi", asgi), ("wsgi", wsgi)):
            serving = {"mode": mode, "workers": 1, "django": django, "python": python}
            for rep, delta in enumerate((-0.1, 0.0, 0.1), 1):
                samples.append(
                    make_sample(
                        mode=mode, serving=serving, rps=rps + delta, repeat=rep, versions=versions
                    )
                )
    meta = {"matrix": {"skipped": [{"django": "6.1", "python": "3.11", "reason": "needs >=3.12"}]}}
    run = RunData(run_id="run1", run_dir=tmp_path, metadata=meta, samples=samples)
    text = build_report([run], tmp_path).read_text()
    assert "## The version matrix: Django x Python" in text
    assert "| 5.2 | 3.11 | 0.83 (" in text  # 10 / 12
    assert "| 6.1 | 3.12 | 1.33 (" in text  # 20 / 15
    assert "skipped up front: Django 6.1 / Python 3.11: needs >=3.12" in text
    assert "### Django 6.1 / Python 3.12" in text
    assert "Served by Django 6.1.9, Python 3.12.1, asgiref 3.13.0." in text
    verdicts = json.loads((tmp_path / "verdicts.json").read_text())
    assert [(v["django"], v["python"], v["verdict"]) for v in verdicts] == [
        ("5.2", "3.11", "ASGI slower"),
        ("6.1", "3.12", "ASGI faster"),
    ]


def test_a_matrix_with_no_pair_yet_says_so() -> None:
    table = matrix_table({Combination("6.1", "3.12"): {}})
    assert table == ["No combination has both modes measured at any level: no verdict yet."]
