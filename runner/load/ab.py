"""ApacheBench 2.3 behind the LoadGenerator interface: its command line (runner.load.abcmd),
its files (report on stdout/stderr, -g per-request rows), their parse
(runner.load.abparse) and the merge of several hosts from the per-request rows."""

from __future__ import annotations

from typing import ClassVar

from runner.load.abcmd import AB_MAX_CONCURRENCY, ab_argv
from runner.load.abparse import (
    AbResult,
    merge_results,
    parse_ab_gnuplot_tsv,
    parse_ab_stdout,
    percentile_at,
    row_times,
)
from runner.load.base import (
    HostRun,
    LoadGenerator,
    LoadResult,
    LoadSpec,
    LoadSpecError,
    ToolCommand,
)
from runner.load.execute import read_text

STDOUT, STDERR, ROWS = "ab.stdout", "ab.stderr", "requests.tsv"


class ApacheBench(LoadGenerator):
    """ab: closed loop, count- or time-based (-t, the count then a cap), single-threaded;
    latency from its per-request rows."""

    name: ClassVar[str] = "ab"
    binary: ClassVar[str] = "ab"
    latency_source: ClassVar[str] = "raw"

    def check(self, spec: LoadSpec) -> None:
        """ab sends a request count (or runs whole seconds, the count a cap), no rate, of
        at least as many requests as the concurrency."""
        super().check(spec)
        if spec.rate is not None:
            raise LoadSpecError("ab is a closed-loop tool: it takes no --rate (use k6)")
        if spec.duration_s is not None and (
            spec.duration_s < 1 or spec.duration_s != int(spec.duration_s)
        ):
            raise LoadSpecError(
                f"ab's -t takes whole seconds of at least 1, not --duration {spec.duration_s:g}"
            )
        if spec.concurrency > AB_MAX_CONCURRENCY:
            raise LoadSpecError(
                f"concurrency {spec.concurrency} is above ab's limit of {AB_MAX_CONCURRENCY}"
            )
        if (spec.requests or 0) < spec.concurrency:
            raise LoadSpecError(
                f"--requests {spec.requests} is below concurrency {spec.concurrency}: ab needs "
                "at least as many requests as concurrent clients"
            )
        if spec.headers:
            raise LoadSpecError("extra headers are not supported with ab here")

    def command(self, spec: LoadSpec) -> ToolCommand:
        """ab [-t D] -n N -r -s T -c C [-k] -g requests.tsv URL."""
        argv = ab_argv(
            spec.url,
            int(spec.requests or 0),
            spec.concurrency,
            keepalive=spec.keepalive,
            timeout_s=spec.timeout_s,
            gnuplot_tsv=ROWS,
            duration_s=None if spec.duration_s is None else int(spec.duration_s),
            variable_length=not spec.length_check,
        )
        return ToolCommand(tuple(argv), STDOUT, STDERR)

    def version_command(self) -> str:
        """`ab -V` names ApacheBench's version on its first line."""
        return "ab -V | head -1"

    def parse(self, run: HostRun) -> LoadResult:
        """ab's report (stdout with stderr appended) and its -g rows."""
        res = parse_ab_stdout(
            read_text(run.local_dir / STDOUT) + "\n" + read_text(run.local_dir / STDERR)
        )
        rows_file = run.local_dir / ROWS
        try:
            rows = parse_ab_gnuplot_tsv(read_text(rows_file)) if rows_file.exists() else []
        except ValueError:  # not an ab -g file (cut short): percentiles from ab's table
            rows = []
        out = to_load_result(res, row_times(rows))
        # Time-based, the count is only a cap: ab sent what it completed or failed.
        timed = run.spec.duration_s is not None
        out.sent = res.complete_requests + res.failed_requests if timed else run.spec.requests or 0
        return out

    def merge(self, results: list[LoadResult]) -> LoadResult:
        """Counts add up; latency from all hosts' rows (see abparse.merge_results)."""
        merged = merge_results([r.native for r in results], [r.samples_ms for r in results])
        out = to_load_result(merged, [ms for r in results for ms in r.samples_ms])
        out.sent = sum(r.sent for r in results)
        if len(results) > 1 and not all(r.samples_ms for r in results):
            out.extra["latency_note"] = (
                "merged latency unavailable: a host wrote no per-request rows"
            )
        return out


def to_load_result(res: AbResult, samples_ms: list[float]) -> LoadResult:
    """ab's figures in the tool-neutral form (the AbResult kept as `native`)."""
    latency = res.latency
    out = LoadResult(
        tool="ab",
        completed=res.complete_requests,
        failed=res.failed_requests,
        non_2xx=res.non_2xx,
        duration_s=res.time_taken_s,
        rps=res.requests_per_second,
        aborted=res.aborted,
        abort_reason=res.abort_reason,
        failures={
            "Connect": res.failed_connect,
            "Receive": res.failed_receive,
            "Length": res.failed_length,
            "Exceptions": res.failed_exceptions,
        },
        document_length=res.document_length,
        hosts=res.hosts,
        samples_ms=samples_ms,
        latency_source="raw",
        native=res,
    )
    if latency is not None:
        out.latency_ms = latency.to_dict()
        if samples_ms:
            out.latency_ms["p99_9"] = percentile_at(sorted(samples_ms), 99.9)
    return out
