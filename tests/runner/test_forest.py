"""The forest plot: its geometry on known rows, and a real PNG from matplotlib."""

from __future__ import annotations

import pytest

from runner.report import stats
from runner.report.forest import ForestRow, forest_layout, forest_plot

ROWS = [
    ForestRow("users c=5", 1.008, 0.985, 1.031, stats.NO_DIFFERENCE),
    ForestRow("io c=100", 0.497, 0.481, 0.514, stats.ASGI_SLOWER),
    ForestRow("plain c=10", 1.21, 1.12, 1.31, stats.ASGI_FASTER),
    ForestRow("plain c=50", 1.01, None, None, stats.INCONCLUSIVE),
    ForestRow("users c=20", None, None, None, stats.INCONCLUSIVE),
]


def test_layout_puts_the_first_cell_on_top_and_every_interval_and_1_in_range():
    layout = forest_layout(ROWS, equivalence_pct=5)
    assert layout.ys == [4.0, 3.0, 2.0, 1.0, 0.0]
    assert layout.x_min < 0.481 and layout.x_max > 1.31
    assert layout.x_min < 0.95 and layout.x_max > 1.05
    assert layout.texts[1] == "0.497 [0.481, 0.514]  ASGI slower"
    assert "no interval" in layout.texts[3] and "no ratio" in layout.texts[4]


def test_layout_keeps_1_in_view_when_every_cell_is_far_from_it():
    layout = forest_layout([ForestRow("io", 0.3, 0.28, 0.33, stats.ASGI_SLOWER)])
    assert layout.x_min < 0.28 and layout.x_max > 1.0


def test_layout_of_no_cells_is_refused():
    with pytest.raises(ValueError, match="at least one cell"):
        forest_layout([])


def test_forest_plot_writes_a_png_that_grows_with_the_rows(tmp_path):
    one = forest_plot(ROWS[:1], tmp_path / "one.png")
    many = forest_plot(ROWS * 4, tmp_path / "plots" / "many.png", equivalence_pct=5)
    for path in (one, many):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height = lambda p: int.from_bytes(p.read_bytes()[20:24], "big")  # noqa: E731 -- IHDR height
    assert height(many) > height(one)
