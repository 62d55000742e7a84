"""wrk 4 behind the LoadGenerator interface: a time-based closed loop whose latency
comes from its own histogram (wrk writes no per-request data). The script wrk.lua
counts non-2xx and wrong lengths per thread and prints, from done(), one JSON line with
the summary and the histogram read at fixed percentiles. Several hosts are merged
from those histogram points (each point carries its share of the host's requests),
never by averaging percentiles."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

from runner.load.base import (
    HostRun,
    LoadGenerator,
    LoadResult,
    LoadSpec,
    LoadSpecError,
    ToolCommand,
)
from runner.load.execute import read_text

SCRIPT = "bench.lua"
STDOUT, STDERR = "wrk.stdout", "wrk.stderr"
MARKER = "WRK_JSON "
SCRIPT_TEXT = (Path(__file__).with_name("wrk.lua")).read_text()


class Wrk(LoadGenerator):
    """wrk: time-based (a request count is not a cap: wrk cannot stop at a count), one
    thread per host (its CPU share is judged against one CPU, as ab's)."""

    name: ClassVar[str] = "wrk"
    binary: ClassVar[str] = "wrk"
    latency_source: ClassVar[str] = "histogram"
    time_based: ClassVar[bool] = True

    def check(self, spec: LoadSpec) -> None:
        """wrk needs a duration of whole seconds and takes no rate."""
        super().check(spec)
        if spec.rate is not None:
            raise LoadSpecError("wrk is a closed-loop tool: it takes no --rate (use k6)")
        if spec.duration_s is None:
            raise LoadSpecError("wrk runs for a duration: pass --duration SECONDS")

    def command(self, spec: LoadSpec) -> ToolCommand:
        """wrk -t1 -cC -dDs --timeout Ts [-H 'Connection: close'] -s bench.lua URL -- LEN."""
        seconds = max(math.ceil(spec.duration_s or self.default_duration_s), 1)
        argv = ["wrk", "-t1", f"-c{spec.concurrency}", f"-d{seconds}s"]
        argv += ["--timeout", f"{spec.timeout_s}s"]
        if not spec.keepalive:  # as ab without -k: a new connection per request
            argv += ["-H", "Connection: close"]
        for name, value in spec.headers:
            argv += ["-H", f"{name}: {value}"]
        argv += ["-s", SCRIPT, spec.url]
        if spec.expected_length is not None:
            argv += ["--", str(spec.expected_length)]
        return ToolCommand(tuple(argv), STDOUT, STDERR)

    def support_files(self, spec: LoadSpec) -> dict[str, str]:
        """The Lua script, beside the run's other files."""
        return {SCRIPT: SCRIPT_TEXT}

    def version_command(self) -> str:
        """`wrk --version` prints its version first (and exits 1)."""
        return "wrk --version 2>&1 | head -1"

    def parse(self, run: HostRun) -> LoadResult:
        """The JSON line of the script's done(), with wrk's own text as the fallback."""
        text = read_text(run.local_dir / STDOUT)
        doc = _json_line(text)
        if doc is None:
            err = read_text(run.local_dir / STDERR).strip().splitlines()
            return LoadResult(
                tool=self.name,
                latency_source=self.latency_source,
                aborted=True,
                abort_reason=(err[-1] if err else "wrk printed no results"),
            )
        return from_json(doc, run.spec.expected_length)

    def merge(self, results: list[LoadResult]) -> LoadResult:
        """Counts add up; the rate is all requests over the longest span; percentiles
        from the hosts' histogram points, each weighted by its share of requests."""
        if len(results) == 1:
            return results[0]
        out = LoadResult(tool=self.name, latency_source=self.latency_source, hosts=len(results))
        for name in ("sent", "completed", "failed", "non_2xx"):
            setattr(out, name, sum(getattr(r, name) for r in results))
        for res in results:
            for kind, n in res.failures.items():
                out.failures[kind] = out.failures.get(kind, 0) + n
        spans = [r.duration_s for r in results if r.duration_s]
        out.duration_s = max(spans) if spans else None
        out.rps = out.completed / out.duration_s if out.duration_s else None
        out.aborted = any(r.aborted for r in results)
        out.abort_reason = "; ".join(
            f"host {i + 1}: {r.abort_reason}" for i, r in enumerate(results) if r.aborted
        )
        lengths = {r.document_length for r in results if r.document_length is not None}
        out.document_length = next(iter(lengths)) if len(lengths) == 1 else None
        out.histogram = [pt for r in results for pt in r.histogram]
        if all(r.histogram for r in results) and out.completed:
            out.latency_ms = latency_from_points(results)
        elif any(r.latency_ms for r in results):
            out.extra["latency_note"] = "merged latency unavailable: a host gave no histogram"
        return out


def _json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.splitlines()):
        if line.startswith(MARKER):
            try:
                return json.loads(line[len(MARKER) :])
            except ValueError:
                return None
    return None


def from_json(doc: dict[str, Any], expected_length: int | None) -> LoadResult:
    """One host's result from the script's JSON (times in microseconds)."""
    errors = doc.get("errors") or {}
    failures = {
        "Connect": int(errors.get("connect", 0)),
        "Read": int(errors.get("read", 0)),
        "Write": int(errors.get("write", 0)),
        "Timeout": int(errors.get("timeout", 0)),
        "Length": int(doc.get("length_mismatches", 0)),
    }
    completed = int(doc.get("requests", 0))
    duration = float(doc.get("duration_us", 0)) / 1e6
    counted = bool(doc.get("counted"))
    non_2xx = int(doc["non2xx"]) if counted else int(errors.get("status", 0))
    seen = int(doc.get("seen_length", -1))
    lat = doc.get("latency_us") or {}
    points = [(float(p), float(v) / 1000) for p, v in doc.get("percentiles_us") or [] if p < 100]
    if points:
        points.append((100.0, float(lat.get("max", 0)) / 1000))
    res = LoadResult(
        tool="wrk",
        sent=completed + failures["Connect"] + failures["Write"],
        completed=completed,
        failed=sum(failures.values()),
        non_2xx=non_2xx,
        duration_s=duration or None,
        rps=completed / duration if duration else None,
        latency_source="histogram",
        failures=failures,
        document_length=seen if seen >= 0 else expected_length,
        histogram=_masses(points, completed),
    )
    if completed and points:
        at = dict(points)
        res.latency_ms = {
            "p50": at[50.0],
            "p90": at[90.0],
            "p99": at[99.0],
            "p99_9": at[99.9],
            "max": float(lat.get("max", 0)) / 1000,
            "mean": float(lat.get("mean", 0)) / 1000,
        }
    return res


def _masses(points: list[tuple[float, float]], count: int) -> list[tuple[float, int]]:
    """Histogram points (value_ms, requests at or below it since the previous point)."""
    out, below = [], 0
    for pct, value in points:
        upto = round(count * pct / 100)
        if upto > below:
            out.append((value, upto - below))
            below = upto
    return out


def latency_from_points(results: list[LoadResult]) -> dict[str, float]:
    """p50/p90/p99/p99.9 of the hosts' histogram points together; mean weighted by
    requests; the largest max."""
    points = sorted(pt for r in results for pt in r.histogram)
    total = sum(n for _, n in points)

    def at(pct: float) -> float:
        rank, seen = math.ceil(total * pct / 100), 0
        for value, n in points:
            seen += n
            if seen >= rank:
                return value
        return points[-1][0]

    weights = [(r.latency_ms or {}, r.completed) for r in results]
    mean = sum(lat.get("mean", 0.0) * n for lat, n in weights) / max(sum(n for _, n in weights), 1)
    return {
        "p50": at(50),
        "p90": at(90),
        "p99": at(99),
        "p99_9": at(99.9),
        "max": max((lat.get("max", 0.0) for lat, _ in weights), default=0.0),
        "mean": mean,
    }
