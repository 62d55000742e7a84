"""The instrumented pass: after a level's timed repetitions, a few sequential requests
that ask the app to count (``X-Bench-Instrument: 1``) give each mode's thread hops and
CPU time per request, stored beside the level's samples and never inside them.

The app counts only when it runs with ``BENCH_INSTRUMENT=1`` (the deploy's default) and
only for requests sending the header (ab never does), so the timed runs are uncounted.
The pass runs at concurrency 1 because the app's CPU figure is its worker process's CPU
time between a request's arrival and its response start: the request's own cost only
when nothing else runs beside it. The app host's cgroup CPU over the whole pass, less
one probe's own cost, divided by its requests, is recorded too as
``extra["host_cpu_ms_per_request"]`` (it includes Granian's Rust side and the request's
tail after the response start).

Its record is a Sample of ``kind`` "instrumented" (``extra["instrumented"]`` is kept for
schema-1 readers): ``rps`` and latency stay empty, ``hops_per_request`` and
``cpu_ms_per_request`` carry the figures, ``completed`` is the count made, and it has a
resume identity of its own (runner.model.Sample.identity_of). The Session
(runner/session.py) decides when the pass runs.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runner.model import Sample
from runner.remote import Remote, RemoteError

DEFAULT_COUNT = 12


@dataclass
class Counted:
    """What the counted requests of one pass say: figures, or why they cannot be trusted."""

    hops: float | None = None
    cpu_ms: float | None = None
    hops_range: tuple[int, int] | None = None
    cpu_ms_each: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def summarize(requests: list[dict[str, Any]], expected_length: int | None) -> Counted:
    """Turn the probe's per-request answers into hops (mean) and CPU ms (median) per request.

    The median, not the mean, for CPU: one request of the pass may pay for a garbage
    collection or a connection-pool refill that the others do not."""
    out = Counted()
    if not requests:
        out.reasons.append("no counted request was made")
        return out
    errors = [r["error"] for r in requests if "error" in r]
    if errors:
        out.reasons.append(f"{len(errors)} counted requests failed ({errors[0]})")
    answered = [r for r in requests if "error" not in r]
    bad = [r["status"] for r in answered if r["status"] != 200]
    if bad:
        out.reasons.append(f"{len(bad)} counted requests answered non-200 ({bad[0]})")
    if expected_length is not None:
        lengths = {r["length"] for r in answered if r["status"] == 200} - {expected_length}
        if lengths:
            out.reasons.append(f"response length {sorted(lengths)}, expected {expected_length}")
    counted = [r for r in answered if r.get("hops") is not None and r.get("cpu_ms") is not None]
    if answered and not counted:
        out.reasons.append(
            "the app sent no X-Bench-Hops header: deploy it with BENCH_INSTRUMENT on "
            "(the deploy's default; -e instrument=true)"
        )
    if counted:
        hops = [int(r["hops"]) for r in counted]
        out.hops = statistics.fmean(hops)
        out.hops_range = (min(hops), max(hops))
        out.cpu_ms_each = [float(r["cpu_ms"]) for r in counted]
        out.cpu_ms = statistics.median(out.cpu_ms_each)
    return out


def instrumented_pass(
    app: Remote,
    loadgen: Remote,
    url: str,
    base: dict[str, Any],
    expected_length: int | None,
    count: int = DEFAULT_COUNT,
) -> Sample:
    """Send `count` counted requests to `url` one at a time from `loadgen`; return the
    level's instrumented record (kind instrumented; status ok, invalid or failed).
    `base` is the level's record identity (repeat 0)."""
    base = {**base, "started_at": datetime.now(UTC).isoformat(), "kind": "instrumented"}
    extra: dict[str, Any] = {"instrumented": True, "kind": "instrumented", "count": count}
    try:
        before = app.probe("cpu")
        answer = loadgen.probe("counted", url, str(count), timeout=30 * count + 30)
        after = app.probe("cpu")
        # What one probe costs the app host (an SSH exec and a Python start, tens of ms):
        # taken away, so the figure is the app's, not the measuring's.
        overhead = app.probe("cpu")["cpu_s"] - after["cpu_s"]
    except RemoteError as exc:
        return Sample(
            **base,
            status="failed",
            reason=f"instrumented pass failed: {exc}",
            stage="load",
            error=str(exc),
            extra=extra,
            finished_at=datetime.now(UTC).isoformat(),
        )
    requests = answer.get("requests") or []
    counted = summarize(requests, expected_length)
    done = sum(1 for r in requests if "error" not in r)
    if done:
        host_s = max(after["cpu_s"] - before["cpu_s"] - overhead, 0.0)
        extra["host_cpu_ms_per_request"] = round(host_s * 1000 / done, 3)
    extra["cpu_ms_each"] = counted.cpu_ms_each
    if counted.hops_range:
        extra["hops_min"], extra["hops_max"] = counted.hops_range
    return Sample(
        **base,
        completed=done,
        failed=len(requests) - done,
        hops_per_request=counted.hops,
        cpu_ms_per_request=round(counted.cpu_ms, 3) if counted.cpu_ms is not None else None,
        status="invalid" if counted.reasons else "ok",
        reason="; ".join(counted.reasons),
        extra=extra,
        finished_at=datetime.now(UTC).isoformat(),
    )
