"""A load's result and the hosts' CPU around it turned into a sample marked valid or not,
and why: the same rules for every load generator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runner.load.base import LoadResult
from runner.model import Latency, Sample

LOADGEN_SATURATED_PCT = 90.0
# Reason codes kept beside the text (extra["reason_codes"]): consumers such as the tuning
# policy decide on codes, never on the wording.
LOADGEN_CPU = "loadgen_cpu"
TOO_SHORT = "too_short"


@dataclass
class CpuAround:
    """The probes' CPU answers before and after a load (app host, load-generator hosts)
    and the load's wall time as the controller saw it."""

    wall_s: float
    app_before: dict[str, Any]
    app_after: dict[str, Any]
    lg_before: list[dict[str, Any]]
    lg_after: list[dict[str, Any]]


def cpu_delta(before: dict[str, Any], after: dict[str, Any]) -> float:
    """CPU seconds a host spent between two probes, less the second probe's own start-up."""
    return max(after["cpu_s"] - before["cpu_s"] - after.get("self_cpu_s", 0.0), 0.0)


def reasons_for(result: LoadResult, expected_length: int | None) -> list[tuple[str, str]]:
    """(code, text) for every reason the load's figures cannot be trusted."""
    out: list[tuple[str, str]] = []
    tool, done = result.tool, result.completed
    if result.aborted:
        out.append(("aborted", f"{tool} aborted after {done} requests: {result.abort_reason}"))
    if result.failed:
        out.append(("failed", f"{result.failed} failed requests ({result.failure_breakdown()})"))
    if result.non_2xx:
        out.append(("non_2xx", f"{result.non_2xx} non-2xx responses"))
    if result.dropped:
        out.append(("dropped", f"{result.dropped} iterations dropped (offered rate not met)"))
    if expected_length is not None and result.document_length not in (None, expected_length):
        out.append(
            ("length", f"document length {result.document_length}, expected {expected_length}")
        )
    pct = result.tool_cpu_pct or 0.0
    if pct >= LOADGEN_SATURATED_PCT and (result.duration_s or 0) < 1.0:
        out.append(
            (
                TOO_SHORT,
                f"{tool} ran {result.duration_s or 0:.2f} s and used {pct:.0f}% of a CPU: too "
                "short to rule out the load generator as the limit; raise --requests",
            )
        )
    elif pct >= LOADGEN_SATURATED_PCT:
        out.append(
            (LOADGEN_CPU, f"{tool} used {pct:.0f}% of a CPU: the load generator limited the run")
        )
    return out


def _open_loop(
    result: LoadResult, cpu: CpuAround, extra: dict[str, Any]
) -> tuple[str, list[tuple[str, str]]]:
    """An open-loop result's status and reasons (runner.openloop.verdict: a saturated
    multi-threaded tool is judged against the load generator's CPUs); its figures go to
    `extra`."""
    from runner.openloop import open_extra, verdict

    cpus = min((after.get("cpus", 1) for after in cpu.lg_after), default=1)
    status, texts = verdict(result, cpus)
    extra.update(open_extra(result))
    return status, [(status, text) for text in texts]


def judge(
    base: dict[str, Any], result: LoadResult, expected_length: int | None, cpu: CpuAround
) -> Sample:
    """The sample for one measured load: figures, CPU per request, status and reasons.

    The load generator counts as the limit when the tool itself used
    LOADGEN_SATURATED_PCT of a CPU or more; the hosts' whole CPU is kept beside it."""
    completed = result.completed
    server_cpu = cpu_delta(cpu.app_before, cpu.app_after)
    wall = max(cpu.wall_s, 1e-9)
    lg_host_pct = max(
        cpu_delta(before, after) / wall / max(after.get("cpus", 1), 1) * 100
        for before, after in zip(cpu.lg_before, cpu.lg_after, strict=True)
    )
    reasons = reasons_for(result, expected_length)
    status = "aborted" if result.aborted else ("invalid" if reasons else "ok")
    extra: dict[str, Any] = {"loadgen_host_cpu_pct": round(lg_host_pct, 1)}
    kind = base.get("kind", "timed")
    if result.offered_rate is not None:  # open loop: ok, invalid or overload
        status, reasons = _open_loop(result, cpu, extra)
        kind = "openloop"
    if reasons:
        extra["reason_codes"] = [code for code, _ in reasons]
    if "latency_note" in result.extra:
        extra["latency_note"] = result.extra["latency_note"]
    figures: dict[str, Any] = {
        "rps": result.rps,
        "latency_ms": Latency.from_dict(result.latency_ms),
        "failed": result.failed,
        "non_2xx": result.non_2xx,
        "completed": completed,
        "duration_s": result.duration_s,
        "server_cpu_s_per_request": server_cpu / completed if completed else None,
        "loadgen_cpu_pct": round(result.tool_cpu_pct or 0.0, 1),
        "status": status,
        "reason": "; ".join(text for _, text in reasons),
        "document_length": result.document_length,
        "raw_files": list(result.raw_files),
        "steal_s": cpu.app_after.get("steal_s", 0) - cpu.app_before.get("steal_s", 0),
        "finished_at": datetime.now(UTC).isoformat(),
        "load": result.tool,
        "latency_source": result.latency_source,
        "offered_rate": result.offered_rate,
        "dropped": result.dropped,
        "in_flight": result.in_flight,
        "extra": extra,
    }
    return Sample(**{**base, **figures, "kind": kind})
