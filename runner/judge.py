"""A load's result and the hosts' CPU around it turned into a sample marked valid or not,
and why: the same rules for every load generator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runner.cpuwindow import WindowCpu
from runner.load.base import LoadResult
from runner.model import Latency, Sample

LOADGEN_SATURATED_PCT = 90.0
# Reason codes kept beside the text (extra["reason_codes"]): consumers such as the tuning
# policy decide on codes, never on the wording.
LOADGEN_CPU = "loadgen_cpu"
TOO_SHORT = "too_short"
DISTURBED = "disturbed"
STEAL_MAX_PCT = 2.0  # of the window (per CPU of the app host)
OUTSIDE_MAX_PCT = 5.0  # of one CPU, on the app host's CPUs
SHARE_SLACK = 1.0  # points above 100% still read as 100% (the sampler's 50 ms steps)


@dataclass
class CpuAround:
    """The probes' CPU answers before and after a load (app host, load-generator hosts)
    and the load's wall time as the controller saw it."""

    wall_s: float
    app_before: dict[str, Any]
    app_after: dict[str, Any]
    lg_before: list[dict[str, Any]]
    lg_after: list[dict[str, Any]]
    window: WindowCpu | None = None  # the app host over exactly the timed window
    steal_max_pct: float = STEAL_MAX_PCT
    outside_max_pct: float = OUTSIDE_MAX_PCT


def disturbances(cpu: CpuAround) -> list[tuple[str, str]]:
    """(code, text) for why the window was disturbed ("steal"; "outside": other work on
    the app host's CPUs), each against its threshold; [] when quiet or unknown."""
    w = cpu.window
    if w is None or w.window_s <= 0:
        return []
    out = []
    steal_pct = w.steal_s / (w.window_s * max(w.cpus, 1)) * 100
    if steal_pct > cpu.steal_max_pct:
        out.append(
            ("steal", f"CPU steal {steal_pct:.1f}% of the window (above {cpu.steal_max_pct:g}%)")
        )
    outside_pct = w.outside_s / w.window_s * 100
    if outside_pct > cpu.outside_max_pct:
        out.append(
            (
                "outside",
                f"other work on the app host's CPUs {outside_pct:.1f}% of one CPU "
                f"(above {cpu.outside_max_pct:g}%)",
            )
        )
    return out


def cpu_figures(cpu: CpuAround, extra: dict[str, Any]) -> float:
    """The app host's CPU seconds for the sample: over the timed window when the
    sampler covered it, else around the whole run (said in `extra.cpu_source`). A share
    of the host's CPUs above 100% cannot be right: it is stored with `cpu_suspect`."""
    if cpu.window is None:
        extra["cpu_source"] = "around the run (no window readings)"
        return cpu_delta(cpu.app_before, cpu.app_after)
    w = cpu.window
    extra["cpu_source"] = "timed window"
    extra["cpu_window"] = w.as_dict()
    extra["disturbance"] = {
        "steal_pct": round(w.steal_s / (w.window_s * max(w.cpus, 1)) * 100, 2),
        "outside_pct_of_cpu": round(w.outside_s / w.window_s * 100, 2),
    }
    if w.app_share * 100 > 100 + SHARE_SLACK:
        extra["cpu_suspect"] = (
            f"the app host used {w.app_share * 100:.0f}% of its {w.cpus} CPU(s) over the "
            "window: the accounting missed or misplaced work"
        )
    return w.app_cpu_s


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


def _disturbed(cpu: CpuAround, extra: dict[str, Any]) -> list[tuple[str, str]]:
    """The window's disturbances as one reason (code DISTURBED), noted in `extra`."""
    found = disturbances(cpu)
    if not found:
        return []
    extra["disturbed"] = [text for _, text in found]
    extra["disturbed_by"] = [code for code, _ in found]
    return [(DISTURBED, "disturbed: " + "; ".join(text for _, text in found))]


def _lg_host_pct(cpu: CpuAround) -> float:
    """The busiest load-generator host's whole CPU over the run, % of its CPUs."""
    wall = max(cpu.wall_s, 1e-9)
    return max(
        cpu_delta(before, after) / wall / max(after.get("cpus", 1), 1) * 100
        for before, after in zip(cpu.lg_before, cpu.lg_after, strict=True)
    )


def _steal_s(cpu: CpuAround) -> float:
    """CPU steal over the timed window (else between the probes)."""
    if cpu.window is not None:
        return cpu.window.steal_s
    return cpu.app_after.get("steal_s", 0) - cpu.app_before.get("steal_s", 0)


def judge(
    base: dict[str, Any], result: LoadResult, expected_length: int | None, cpu: CpuAround
) -> Sample:
    """The sample for one measured load: figures, CPU per request, status and reasons.

    The load generator counts as the limit when the tool itself used
    LOADGEN_SATURATED_PCT of a CPU or more; the hosts' whole CPU is kept beside it."""
    completed = result.completed
    extra: dict[str, Any] = {}
    server_cpu = cpu_figures(cpu, extra)
    reasons = reasons_for(result, expected_length)
    disturbed = _disturbed(cpu, extra)
    reasons += disturbed
    status = "aborted" if result.aborted else ("invalid" if reasons else "ok")
    extra["loadgen_host_cpu_pct"] = round(_lg_host_pct(cpu), 1)
    if "disturbance" in extra:
        extra["disturbance"]["loadgen_cpu_pct"] = round(result.tool_cpu_pct or 0.0, 1)
    kind = base.get("kind", "timed")
    if result.offered_rate is not None:  # open loop: ok, invalid or overload
        status, reasons = _open_loop(result, cpu, extra)
        status = "invalid" if disturbed and status == "ok" else status
        reasons += disturbed
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
        "steal_s": _steal_s(cpu),
        "finished_at": datetime.now(UTC).isoformat(),
        "load": result.tool,
        "latency_source": result.latency_source,
        "offered_rate": result.offered_rate,
        "dropped": result.dropped,
        "in_flight": result.in_flight,
        "extra": extra,
    }
    return Sample(**{**base, **figures, "kind": kind})
