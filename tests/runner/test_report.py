"""report.md from synthetic runs: tables, verdicts, exclusions, plots, hosts, original."""

from __future__ import annotations

import json

import pytest

from runner.model import Latency
from runner.report import build_cells, build_report, pair_cells, summary_table
from runner.results import RunStore, load_run
from tests.runner.helpers import make_sample

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def serving(mode):
    return {"mode": mode, "workers": 1, "blocking_threads": 1, "preset": "none"}


def lat(p99):
    return Latency(mean=p99 / 2, p50=p99 / 2, p90=p99 * 0.8, p99=p99, max=p99 * 1.1)


@pytest.fixture
def run(tmp_path):
    """One compare run: users at c=5 and c=80, plain at c=10, 3 repetitions per mode."""
    store = RunStore(tmp_path / "results", "20260101T000000Z-abcd")
    rps = {
        ("users", 5, "asgi"): [8.0, 8.1, 7.9],  # equal to WSGI, tight
        ("users", 5, "wsgi"): [8.05, 8.0, 7.95],
        ("users", 80, "asgi"): [7.0, 7.1, 6.9],  # clearly slower
        ("users", 80, "wsgi"): [8.6, 8.7, 8.5],
        ("plain", 10, "asgi"): [500.0, 700.0, 300.0],  # noisy: inconclusive
        ("plain", 10, "wsgi"): [520.0, 480.0, 600.0],
    }
    for (scenario, c, mode), values in rps.items():
        path = (
            ("/async/" if mode == "asgi" else "/sync/")
            if scenario == "users"
            else (f"/plain/{'async' if mode == 'asgi' else 'sync'}/")
        )
        for r, v in enumerate(values, 1):
            store.append(
                make_sample(
                    run_id=store.run_id,
                    mode=mode,
                    scenario=scenario,
                    path=path,
                    concurrency=c,
                    repeat=r,
                    rps=v,
                    serving=serving(mode),
                    latency_ms=lat(100.0 * c / v),
                    server_cpu_s_per_request=0.9 / v,
                )
            )
    # an invalid 4th repetition: shown, not counted
    store.append(
        make_sample(
            run_id=store.run_id,
            mode="asgi",
            path="/async/",
            concurrency=5,
            repeat=4,
            rps=50.0,
            status="invalid",
            reason="12 non-2xx responses",
            non_2xx=12,
            serving=serving("asgi"),
        )
    )
    # a failed stage later re-measured by --resume: not counted as excluded
    store.append(
        make_sample(
            run_id=store.run_id,
            mode="wsgi",
            path="/sync/",
            concurrency=80,
            repeat=3,
            rps=None,
            latency_ms=None,
            status="failed",
            stage="pullback",
            error="ssh lost",
            serving=serving("wsgi"),
        )
    )
    # the instrumented pass (issue 9)
    for mode, hops, cpu in (("asgi", 15.0, 120.0), ("wsgi", 0.0, 110.0)):
        store.append(
            make_sample(
                run_id=store.run_id,
                mode=mode,
                path="/async/" if mode == "asgi" else "/sync/",
                concurrency=1,
                requests=20,
                repeat=1,
                rps=None,
                latency_ms=None,
                hops_per_request=hops,
                cpu_ms_per_request=cpu,
                serving=serving(mode),
                kind="instrumented",
            )
        )
    store.update_metadata(
        "asgi",
        {
            "commit": "abc123",
            "commands": ["fab compare"],
            "machine_class": {"name": "local-1cpu", "cpus": 1, "memory_mib": 2048},
            "hosts": {
                "abw-app": {
                    "cpu_model": "Xeon Test",
                    "cpus": 1,
                    "cpuset": "0",
                    "memory_mib": 2048,
                    "kernel": "6.1.0",
                },
                "abw-lg1": {
                    "cpu_model": "Xeon Test",
                    "cpus": 1,
                    "cpuset": "1",
                    "memory_mib": 1024,
                    "kernel": "6.1.0",
                },
            },
            "versions": {"django": "5.2", "granian": "2.8.0", "ab": "2.3"},
        },
    )
    store.note_deploy("wsgi", 9.5)
    return load_run(store.run_dir)


def verdict_row(report: str, scenario: str, c: int) -> str:
    rows = [ln for ln in report.splitlines() if ln.startswith(f"| {scenario} | original | {c} |")]
    assert len(rows) == 1, rows
    return rows[0]


def test_cells_and_pairs(run):
    cells = build_cells([s for s in run.samples if s.kind == "timed"])
    assert {(c.scenario, c.concurrency, c.mode) for c in cells} >= {("users", 5, "asgi")}
    users5 = next(c for c in cells if (c.scenario, c.concurrency, c.mode) == ("users", 5, "asgi"))
    assert len(users5.samples) == 4 and len(users5.valid) == 3
    assert users5.rps_mean() == pytest.approx(8.0)
    pairs = {(p.scenario, p.concurrency): p for p in pair_cells(cells)}
    assert pairs[("users", 5)].asgi.paths == "/async/"
    assert pairs[("users", 5)].wsgi.paths == "/sync/"
    assert pairs[("users", 5)].verdict.verdict == "no significant difference"
    assert pairs[("users", 80)].verdict.verdict == "ASGI slower"
    assert pairs[("plain", 10)].verdict.verdict == "inconclusive"


def test_report_tables_verdicts_and_plots(run, tmp_path):
    out = tmp_path / "out"
    path = build_report([run], out)
    assert path == out / "report.md"
    text = path.read_text()
    assert "**no significant difference**" in verdict_row(text, "users", 5)
    assert "**ASGI slower**" in verdict_row(text, "users", 80)
    assert "**inconclusive**" in verdict_row(text, "plain", 10)
    # The ratio on the log scale, unpaired here (not interleaved), Holm across 3 cells;
    # the forest plot opens the report, before the verdict table.
    assert "Welch's t on log throughput" in text and "Holm" in text and "3 cells" in text
    assert "| unpaired |" in verdict_row(text, "users", 80)
    forest = text.index("](plots/forest.png)")
    assert (
        forest < text.index("## Verdicts")
        and text.index("![") == text.rindex("\n![", 0, forest + 1) + 1
    )
    assert (out / "plots" / "forest.png").read_bytes()[:8] == PNG_MAGIC
    # the per-cell table: rps mean ± CI, valid reps, the excluded sample and its reason
    asgi5 = next(ln for ln in text.splitlines() if ln.startswith("| 5 | ASGI | original |"))
    assert "| 3/4 |" in asgi5 and "8.00 ± " in asgi5 and "1 invalid" in asgi5
    assert "12 non-2xx responses" in text
    assert "excluded from the statistics" in text
    assert "ssh lost" not in text  # re-measured by a resume
    # CPU per request (ms) from the timed runs
    assert "| 112.51 |" in asgi5  # mean of 900/8.0, 900/8.1, 900/7.9
    # plots exist, are PNGs and are embedded
    for name in ("users-throughput", "users-p99", "plain-throughput", "plain-p99"):
        png = out / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert f"](plots/{name}.png)" in text
    # hosts, versions, deploy time
    assert "Xeon Test" in text and "abw-lg1" in text and "granian 2.8.0" in text
    assert "deploy of wsgi took 9.5 s" in text
    verdicts = json.loads((out / "verdicts.json").read_text())
    assert all(0 < v["ci_low"] <= v["ratio"] <= v["ci_high"] for v in verdicts)
    assert all("Holm" in v["adjustment"] for v in verdicts)
    assert {v["verdict"] for v in verdicts} == {
        "no significant difference",
        "ASGI slower",
        "inconclusive",
    }


def test_why_section(run, tmp_path):
    text = build_report([run], tmp_path).read_text()
    why = text.split("## Why", 1)[1].split("\n## ", 1)[0]
    row = next(ln for ln in why.splitlines() if ln.startswith("| users | original | ASGI |"))
    # CPU 120 ms (no host figure), 15 hops, best 8.00 req/s (c=5), limit 1 CPU / 0.12 s = 8.3 req/s
    assert "| 120.00 | - | 15.0 | 8.00 | 8.3 | 96% |" in row


def test_original_section(run, tmp_path):
    text = build_report([run], tmp_path).read_text()
    section = text.split("## The original study beside ours", 1)[1]
    assert "| ASGI | `/async/` | 5 | 2.27 | 8.00 ± " in section
    assert "x3.52" in section  # 8.0 / 2.27
    assert "timeout problems" in section
    assert "+6.1%" in section  # (2.27 - 2.14) / 2.14
    assert "**no significant difference**" in section


def test_no_why_section_without_instrumented_figures(run, tmp_path):
    run.samples = [s for s in run.samples if s.kind == "timed"]
    assert "## Why" not in build_report([run], tmp_path).read_text()


def test_one_mode_only_has_no_verdict(run, tmp_path):
    run.samples = [s for s in run.samples if s.mode == "asgi"]
    text = build_report([run], tmp_path).read_text()
    assert "No cell has both modes measured" in text


def test_summary_table(run):
    text = summary_table([run])
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["scenario", "c", "mode", "view"]
    assert any(ln.startswith("users") and " 80 " in ln and "wsgi" in ln for ln in lines)
    assert "users original c=80: ASGI slower" in text


def test_cpu_ceiling_section(run, tmp_path):
    text = build_report([run], tmp_path).read_text()
    section = text.split("## CPU ceiling", 1)[1].split("##", 1)[0]
    row = next(ln for ln in section.splitlines() if ln.startswith("| users | original | WSGI |"))
    # WSGI best 8.60 req/s (c=80); CPU = mean of 900/v over both levels' reps
    assert "| 8.60 |" in row and "%" in row


def test_empty_run_still_gives_a_report(tmp_path):
    store = RunStore(tmp_path / "results", "empty")
    store.set_metadata({"commit": "x"})
    text = build_report([load_run(store.run_dir)], tmp_path / "out").read_text()
    assert "No cell has both modes measured" in text
    assert "## The original study beside ours" in text
    assert summary_table([load_run(store.run_dir)]).startswith("scenario")
    with pytest.raises(ValueError):
        build_report([], tmp_path)


def test_aborted_and_invalid_only_cell_has_no_figures(run, tmp_path):
    for s in run.samples:
        if s.scenario == "plain" and s.mode == "asgi":
            s.status = "aborted"
            s.valid = False
            s.reason = "ab aborted after 20 requests: apr_pollset_poll: timeout (70007)"
    text = build_report([run], tmp_path).read_text()
    row = next(ln for ln in text.splitlines() if ln.startswith("| 10 | ASGI | original |"))
    assert "| 0/3 |" in row and "3 aborted" in row
    assert "apr_pollset_poll: timeout (70007) (x3)" in text
    verdict = verdict_row(text, "plain", 10)
    assert "**inconclusive**" in verdict and "| 0/3 |" in verdict
    assert "(ASGI 0, WSGI 3)" in summary_table([run])
