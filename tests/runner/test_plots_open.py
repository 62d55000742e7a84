"""The open-loop plots draw from figures alone."""

from __future__ import annotations

from pathlib import Path

from runner.report.plots_open import (
    RatePoint,
    RateSeries,
    Spectrum,
    rate_plot,
    spectrum_plot,
    spectrum_x,
)


def test_spectrum_axis_places_percentiles_by_one_minus_p() -> None:
    assert spectrum_x(50) == 2
    assert round(spectrum_x(99), 6) == 100
    assert round(spectrum_x(99.9), 6) == 1000


def test_draws_the_spectrum_and_the_rate_plot(tmp_path: Path) -> None:
    lines = [
        Spectrum("ASGI", [[50.0, 110.0], [90.0, 130.0], [99.0, 400.0], [100.0, 900.0]], "asgi"),
        Spectrum("WSGI", [[50.0, 105.0], [90.0, 120.0], [99.0, 200.0], [100.0, 300.0]], "wsgi"),
    ]
    png = spectrum_plot(lines, "io", tmp_path / "spectrum.png", target_ms=250)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    series = [
        RateSeries("ASGI", [RatePoint(50, 120), RatePoint(100, 3000, overload=True)], "asgi"),
        RateSeries("WSGI", [RatePoint(50, 110), RatePoint(100, 180)], "wsgi"),
    ]
    png = rate_plot(series, "io p99", tmp_path / "rate.png", 250, "p99 (ms)")
    assert png.stat().st_size > 1000
