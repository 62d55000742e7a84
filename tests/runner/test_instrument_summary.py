"""runner.instrument.summarize: the counted pass's answers turned into figures or reasons."""

from __future__ import annotations

import pytest

from runner.instrument import summarize

pytestmark = pytest.mark.timeout(30)


def _ok(hops: int, cpu: float, length: int = 9) -> dict:
    return {"status": 200, "length": length, "hops": hops, "cpu_ms": cpu}


def test_hops_are_averaged_and_cpu_is_the_median():
    counted = summarize([_ok(14, 2.0), _ok(14, 2.2), _ok(15, 40.0)], expected_length=9)
    assert counted.reasons == []
    assert counted.hops == pytest.approx(14.333, abs=1e-3)
    assert counted.hops_range == (14, 15)
    assert counted.cpu_ms == 2.2  # one slow request (a GC) does not move the figure


def test_an_uninstrumented_app_is_said_not_guessed():
    counted = summarize([{"status": 200, "length": 9, "hops": None, "cpu_ms": None}], 9)
    assert counted.hops is None and counted.cpu_ms is None
    assert "BENCH_INSTRUMENT" in counted.reasons[0]


def test_errors_wrong_status_and_length_make_it_untrusted():
    counted = summarize(
        [{"error": "connection refused"}, {**_ok(1, 1.0), "status": 502}, _ok(1, 1.0, 10)], 9
    )
    text = "; ".join(counted.reasons)
    assert "1 counted requests failed (connection refused)" in text
    assert "non-200 (502)" in text
    assert "response length [10], expected 9" in text
    assert summarize([], 9).reasons == ["no counted request was made"]
