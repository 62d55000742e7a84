"""The open-loop verdicts, the rate list and the report section, on recorded k6 output."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from runner.capacity import Capacity, Step
from runner.load.base import HostRun, LoadSpec, LoadSpecError
from runner.load.k6 import K6
from runner.openloop import parse_rates, verdict
from runner.report.openloop import capacity_lines, pictures, section, table
from runner.slo import parse_slo

DATA = Path(__file__).parent / "data" / "k6"


def _result(name: str, rate: float, duration: float, vus: int, cpu_s: float = 0.2):
    spec = LoadSpec(urls=("http://x/",), concurrency=vus, duration_s=duration, rate=rate)
    run = HostRun(host=name, spec=spec, remote_dir="/x", local_dir=DATA / name, cpu_s=cpu_s)
    gen = K6()
    return gen.merge([gen.parse(run)])


def test_parses_an_increasing_rate_list() -> None:
    assert parse_rates("50, 100,200", duration_s=20) == [50, 100, 200]


@pytest.mark.parametrize(
    ("text", "duration", "message"),
    [
        ("0,10", 20, "above 0"),
        ("-5", 20, "above 0"),
        ("100,50", 20, "must increase"),
        ("50,50", 20, "must increase"),
        ("fast", 20, "not a number"),
        ("5,10", 10, "fewer than 100: raise --duration to at least 20 s"),
    ],
)
def test_refuses_bad_rate_lists_in_one_line(text: str, duration: float, message: str) -> None:
    with pytest.raises(LoadSpecError, match=message) as err:
        parse_rates(text, duration)
    assert "\n" not in str(err.value)


def test_verdicts_ok_overload_and_a_saturated_k6() -> None:
    carried = _result("carried", 50, 3, 50)
    assert verdict(carried, loadgen_cpus=1) == ("ok", [])
    status, reasons = verdict(_result("overload", 40, 3, 20), loadgen_cpus=1)
    assert status == "overload" and len(reasons) == 3
    busy = replace(carried, tool_cpu_pct=95.0)
    status, reasons = verdict(busy, loadgen_cpus=1)
    assert status == "invalid" and "limited the run" in reasons[0]
    assert verdict(busy, loadgen_cpus=2)[0] == "ok"  # 95% of one CPU out of two


def _sample(mode: str, name: str, rate: float, duration: float, vus: int) -> dict:
    result = _result(name, rate, duration, vus)
    status, reasons = verdict(result, 1)
    return {
        "mode": mode,
        "status": status,
        "reason": "; ".join(reasons),
        "offered_rate": result.offered_rate,
        "rps": result.rps,
        "completed": result.completed,
        "dropped": result.dropped,
        "in_flight": result.in_flight,
        "latency_ms": result.latency_ms,
        "extra": {**result.extra, "sent": result.sent},
    }


def test_the_section_shows_overload_samples_apart_and_draws_both_pictures(tmp_path) -> None:
    samples = [
        _sample("asgi", "carried", 50, 3, 50),
        _sample("asgi", "overload", 40, 3, 20),
        _sample("wsgi", "carried", 50, 3, 50),
    ]
    text = table(samples)
    assert text.count("\n| ASGI |") == 2 and "**overload**: achieved" in text
    slo = parse_slo("p90=250ms")
    paths = pictures(samples, slo, tmp_path, "io")
    assert [p.name for p in paths] == ["spectrum.png", "latency-vs-rate.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    found = {
        "asgi": Capacity(100, 200, [Step(50, True), Step(100, True), Step(200, False)], "x"),
        "wsgi": Capacity(200, 400, [Step(200, True), Step(400, False)], "y"),
    }
    lines = capacity_lines(parse_slo("p99=250ms"), found)
    assert "**ASGI**: 100 req/s, breaks at 200 req/s" in lines
    assert "ASGI / WSGI capacity: 0.50" in lines


def test_the_section_reads_the_capacity_back_from_metadata(tmp_path) -> None:
    samples = [_sample("asgi", "carried", 50, 3, 50), _sample("wsgi", "carried", 50, 3, 50)]
    meta = {
        "slo": "p90=250ms",
        "modes": {
            "asgi": {
                "capacity": 50,
                "breaks_at": None,
                "stopped": "step limit (1) reached",
                "steps": [{"rate": 50, "held": True, "reason": "", "value_ms": 30.0}],
            }
        },
    }
    text = section(samples, meta, {"asgi": (87.1, 10)}, tmp_path / "plots", "io")
    assert "**ASGI**: 50 req/s, did not break" in text
    assert "Closed loop (ab) best of this run for the same page: ASGI 87.1 req/s at c=10" in text
    assert "![spectrum](plots/spectrum.png)" in text
    assert (tmp_path / "plots" / "latency-vs-rate.png").exists()
