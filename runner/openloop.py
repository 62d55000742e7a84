"""The open-loop side of a run (`--load open`), kept pure: the rate list, the verdict of
one open-loop sample (ok, invalid, or overload), what it keeps beside its figures and the
terminal's table (the report's section: runner/report/openloop.py). An overload sample is
stored and shown, never averaged into a valid figure."""

from __future__ import annotations

from typing import Any

from runner.load.base import LoadResult, LoadSpecError
from runner.load.k6 import MIN_REQUESTS, open_loop_reasons

SATURATED_PCT = 90.0  # k6's CPU over this share of the load generator's CPUs: its limit
OVERLOAD = "overload"


def parse_rates(text: str, duration_s: float | None = None) -> list[float]:
    """`--rate 50,100,200` -> [50.0, 100.0, 200.0]; one clear line for a rate that is not
    a number, not above 0, a list that does not increase, or a duration too short for
    the lowest rate to make MIN_REQUESTS requests."""
    rates: list[float] = []
    for word in text.split(","):
        try:
            rate = float(word.strip())
        except ValueError:
            raise LoadSpecError(
                f"--rate {text!r}: {word.strip()!r} is not a number; give requests/s, "
                "e.g. --rate 50,100,200"
            ) from None
        if not rate > 0:
            raise LoadSpecError(f"--rate {text!r}: every rate must be above 0, not {rate:g}")
        if rates and rate <= rates[-1]:
            raise LoadSpecError(
                f"--rate {text!r}: rates must increase ({rate:g} after {rates[-1]:g}); "
                "list them from low to high"
            )
        rates.append(rate)
    if duration_s is not None and rates and rates[0] * duration_s < MIN_REQUESTS:
        need = -(-MIN_REQUESTS // rates[0])
        raise LoadSpecError(
            f"--duration {duration_s:g} s at {rates[0]:g} req/s makes "
            f"{rates[0] * duration_s:.0f} requests, fewer than {MIN_REQUESTS}: raise "
            f"--duration to at least {need:.0f} s"
        )
    return rates


def verdict(result: LoadResult, loadgen_cpus: int) -> tuple[str, list[str]]:
    """(status, reasons) of one merged open-loop result. Errors, a wrong length or a
    saturated k6 make it invalid (k6 is multi-threaded: saturated at SATURATED_PCT of
    the host's CPUs); otherwise a load not carried makes it overload."""
    invalid: list[str] = []
    if result.aborted:
        invalid.append(f"k6 aborted: {result.abort_reason}")
    if result.failed:
        invalid.append(f"{result.failed} failed requests ({result.failure_breakdown()})")
    if result.non_2xx:
        invalid.append(f"{result.non_2xx} non-2xx responses")
    pct = result.tool_cpu_pct or 0.0
    if pct >= SATURATED_PCT * max(loadgen_cpus, 1):
        invalid.append(
            f"k6 used {pct:.0f}% of a CPU on a {loadgen_cpus}-CPU load generator: the load "
            "generator limited the run"
        )
    overload = open_loop_reasons(result)
    if result.aborted:
        return "aborted", invalid + overload
    if invalid:
        return "invalid", invalid + overload
    if overload:
        return OVERLOAD, overload
    return "ok", []


def open_extra(result: LoadResult) -> dict[str, Any]:
    """What an open-loop sample keeps beside its figures: requests sent, the VUs, the
    refused percentiles, the spectrum and the per-second timeline, the overload reasons."""
    keys = ("vus", "graceful_stop_s", "refused_percentiles", "spectrum", "timeline", "overload")
    return {"sent": result.sent, **{k: result.extra[k] for k in keys if k in result.extra}}


def _fmt(value: Any, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def summary_text(samples: list[Any]) -> str:
    """The terminal's table of open-loop samples ('' when there are none)."""
    rows = sorted(
        (s for s in samples if s.kind == "openloop"),
        key=lambda s: (s.scenario, s.mode, s.offered_rate or 0, s.repeat),
    )
    if not rows:
        return ""
    head = f"{'scenario':<9} {'mode':<5} {'offered':>8} {'achieved':>9} {'p50 ms':>8} "
    head += f"{'p90 ms':>8} {'p99 ms':>8} status"
    out = [head, "-" * len(head)]
    for s in rows:
        lat = s.latency_ms.to_dict() if s.latency_ms else {}
        out.append(
            f"{s.scenario:<9} {s.mode:<5} {_fmt(s.offered_rate, 1):>8} {_fmt(s.rps, 1):>9} "
            f"{_fmt(lat.get('p50')):>8} {_fmt(lat.get('p90')):>8} {_fmt(lat.get('p99')):>8} "
            f"{s.status}{': ' + s.reason if s.reason else ''}"
        )
    return "\n".join(out)
