"""Open-loop samples through the judge into a report, on recorded k6 output (no hosts)."""

from __future__ import annotations

from pathlib import Path

from runner.judge import CpuAround, judge
from runner.load.base import HostRun, LoadSpec
from runner.load.k6 import K6
from runner.model import Sample
from runner.report.markdown import build_report
from runner.results import RunData

DATA = Path(__file__).parent / "data" / "k6"


def _sample(mode: str, name: str, rate: float, duration: float, vus: int) -> Sample:
    spec = LoadSpec(urls=("http://x/",), concurrency=vus, duration_s=duration, rate=rate)
    gen = K6()
    result = gen.merge([gen.parse(HostRun(name, spec, "", DATA / name, cpu_s=0.3))])
    base = {
        "run_id": "r1",
        "mode": mode,
        "view": "original",
        "scenario": "io",
        "path": "/io/sync/",
        "concurrency": vus,
        "requests": int(rate * duration),
        "repeat": 1,
        "load": "k6",
    }
    probe = {"cpu_s": 1.0, "cpus": 1}
    cpu = CpuAround(duration, probe, {"cpu_s": 2.0, "cpus": 1}, [probe], [{**probe, "cpu_s": 1.5}])
    return judge(base, result, None, cpu)


def test_the_judge_marks_open_loop_samples_ok_or_overload() -> None:
    ok = _sample("asgi", "carried", 50, 3, 50)
    assert (ok.kind, ok.status, ok.valid, ok.offered_rate) == ("openloop", "ok", True, 50)
    assert ok.latency_ms is not None and ok.latency_ms.p99 is None  # 151 requests: refused
    assert ok.extra["sent"] == 151 and ok.extra["spectrum"]
    over = _sample("wsgi", "overload", 40, 3, 20)
    assert (over.status, over.valid) == ("overload", False)
    assert over.dropped > 0 and over.in_flight > 0 and "in flight" in over.reason
    back = Sample.from_dict(over.to_dict())
    assert back.status == "overload" and back.latency_ms == over.latency_ms


def test_the_report_shows_the_open_loop_section(tmp_path: Path) -> None:
    samples = [_sample("asgi", "carried", 50, 3, 50), _sample("wsgi", "overload", 40, 3, 20)]
    meta = {"capacity": {"slo": "p90=250ms", "scenario": "io", "modes": {}}}
    run = RunData("r1", tmp_path, meta, samples)
    report = build_report([run], tmp_path / "out").read_text()
    assert "## Open loop (io, k6 constant-arrival-rate)" in report
    assert "| WSGI | 40.0 |" in report and "**overload**" in report
    assert (tmp_path / "out" / "openloop-io" / "spectrum.png").exists()
