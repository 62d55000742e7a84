"""The pure modules chained as the runner chains them, on real recorded ab outputs:
argv -> (ab ran) -> parse -> merge -> Sample -> RunStore -> load -> report."""

from __future__ import annotations

from pathlib import Path

from runner.abcmd import ab_argv, split_load
from runner.abparse import merge_results, parse_ab_gnuplot_tsv, parse_ab_stdout
from runner.model import Sample
from runner.report import build_report, summary_table
from runner.results import RunStore, load_run

DATA = Path(__file__).parent / "data"


def parsed(name: str):
    text = (DATA / f"{name}.stdout").read_text() + "\n" + (DATA / f"{name}.stderr").read_text()
    tsv = DATA / f"{name}.tsv"
    return parse_ab_stdout(text), parse_ab_gnuplot_tsv(tsv.read_text()) if tsv.exists() else []


def sample_from(names: list[str], mode: str, repeat: int) -> Sample:
    results, rows = zip(*(parsed(n) for n in names), strict=True)
    merged = merge_results(list(results), list(rows))
    reasons = []
    if merged.aborted:
        reasons.append(f"ab aborted after {merged.complete_requests}: {merged.abort_reason}")
    if merged.failed_requests:
        reasons.append(f"{merged.failed_requests} failed ({merged.failure_breakdown()})")
    if merged.non_2xx:
        reasons.append(f"{merged.non_2xx} non-2xx responses")
    status = "aborted" if merged.aborted else ("invalid" if reasons else "ok")
    return Sample(
        run_id="pipe",
        mode=mode,
        view="plain-test",
        scenario="plain",
        path="/ok",
        concurrency=merged.concurrency or 6,
        requests=600,
        repeat=repeat,
        rps=merged.requests_per_second,
        latency_ms=merged.latency,
        failed=merged.failed_requests,
        non_2xx=merged.non_2xx,
        completed=merged.complete_requests,
        duration_s=merged.time_taken_s,
        status=status,
        reason="; ".join(reasons),
        document_length=merged.document_length,
        loadgen_hosts=[f"lg{i + 1}" for i in range(len(names))],
    )


def test_recorded_runs_through_store_and_report(tmp_path):
    assert split_load(600, 6, 2) == [(300, 3), (300, 3)]  # what merge_a/merge_b ran
    assert ab_argv("http://127.0.0.1:1/ok", 300, 3, keepalive=False, timeout_s=10)[:2] == [
        "ab",
        "-r",
    ]
    store = RunStore(tmp_path / "results", "pipe")
    store.append(sample_from(["merge_a", "merge_b"], "asgi", 1))
    store.append(sample_from(["merge_b", "merge_a"], "asgi", 2))
    store.append(sample_from(["merge_a", "merge_b"], "wsgi", 1))
    store.append(sample_from(["flaky", "merge_b"], "wsgi", 2))
    store.append(sample_from(["timeout_partial", "merge_a"], "wsgi", 3))
    run = load_run(store.run_dir)
    statuses = [s.status for s in run.samples]
    assert statuses == ["ok", "ok", "ok", "invalid", "aborted"]
    assert run.samples[0].completed == 600 and run.samples[0].latency_ms is not None
    assert run.samples[4].completed == 320
    text = build_report([run], tmp_path).read_text()
    assert "20 non-2xx responses" in text
    assert "ab aborted after 320" in text
    # one valid WSGI repetition: no verdict can be drawn
    assert "**inconclusive**" in text
    assert "(ASGI 2, WSGI 1)" in summary_table([run])
