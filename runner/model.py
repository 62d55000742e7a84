"""The records that cross a boundary: one latency summary and one measured sample.

A sample is one repetition of one load level (or one failed stage), exactly as it is
written to `samples.jsonl` and `results.json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# overload: an open-loop sample that did not carry its offered rate (docs/OPENLOOP.md):
# stored and shown, never averaged into a valid figure.
STATUSES = ("ok", "invalid", "aborted", "failed", "overload")
# What a record is (docs/RESULTS.md): a timed repetition, the instrumented (counting)
# pass, a warm-up kept for the record, a cross-check by a second tool, an open-loop sample.
KINDS = ("timed", "instrumented", "warmup", "crosscheck", "openloop")
STAGES = ("", "validate", "warmup", "load", "pullback")

# What makes two samples "the same measurement" for --resume.
IDENTITY_KEYS = (
    "mode",
    "view",
    "scenario",
    "concurrency",
    "requests",
    "repeat",
    "keepalive",
    "serving",
    "commit",
)


@dataclass(frozen=True)
class Latency:
    """Per-request latency of one sample, in milliseconds. An open-loop sample leaves out
    (None) a percentile that rests on fewer than 10 requests."""

    mean: float
    p50: float | None
    p90: float | None
    p99: float | None
    max: float
    p99_9: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """The JSON form: {"mean", "p50", "p90", "p99", "p99_9", "max"}."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Latency | None:
        """Rebuild from the JSON form; None stays None."""
        if data is None:
            return None
        out = {k: float(data[k]) for k in ("mean", "max")}
        for key in ("p50", "p90", "p99", "p99_9"):
            value = data.get(key)
            out[key] = float(value) if value is not None else None
        return cls(**out)


def canonical_serving(serving: dict[str, Any] | None) -> str:
    """A stable text form of a serving config: sorted keys, no None values, scalars as
    text (so 4 and "4" from two sources compare equal)."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): norm(v) for k, v in sorted(value.items()) if v is not None}
        if isinstance(value, list | tuple):
            return [norm(v) for v in value]
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)

    return json.dumps(norm(serving or {}), sort_keys=True, separators=(",", ":"))


@dataclass
class Sample:
    """One record of a run: a repetition at one level (or a stage that failed) with its
    verdict, or another `kind` of record (docs/RESULTS.md); consumers read `kind`.

    `status`: ok (valid figures), invalid (measured, but a request failed, timed out, got a
    non-2xx, the length changed or the load generator saturated: `reason` says which),
    aborted (the load tool gave up; `completed` is what it finished), failed (a stage of
    the harness failed: `stage` and `error` say which and why). `load` names the load
    generator and `latency_source` where its percentiles come from ("raw" per-request
    data or the tool's "histogram").
    """

    run_id: str
    mode: str
    view: str
    scenario: str
    path: str
    concurrency: int
    requests: int
    repeat: int
    keepalive: bool = False
    serving: dict[str, Any] = field(default_factory=dict)
    commit: str = "unknown"
    rps: float | None = None
    latency_ms: Latency | None = None
    failed: int = 0
    non_2xx: int = 0
    completed: int = 0
    duration_s: float | None = None
    server_cpu_s_per_request: float | None = None
    server_rss_mib: float | None = None
    loadgen_cpu_pct: float | None = None
    steal_s: float | None = None
    status: str = "ok"
    valid: bool = True
    reason: str = ""
    stage: str = ""
    error: str = ""
    document_length: int | None = None
    loadgen_hosts: list[str] = field(default_factory=list)
    raw_files: list[str] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""
    hops_per_request: float | None = None
    cpu_ms_per_request: float | None = None
    kind: str = "timed"
    load: str = "ab"
    latency_source: str = "raw"
    offered_rate: float | None = None
    dropped: int = 0
    in_flight: int = 0
    # What served it, as the app's health page names it: django, python, asgiref, granian.
    versions: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"sample status {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.kind not in KINDS:
            raise ValueError(f"sample kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if isinstance(self.latency_ms, dict):
            self.latency_ms = Latency.from_dict(self.latency_ms)
        self.valid = self.status == "ok"  # one source of truth: the status

    @staticmethod
    def identity_of(  # size: the resume key's fields, each by name
        *,
        mode: str,
        view: str,
        scenario: str,
        concurrency: int,
        requests: int,
        repeat: int,
        keepalive: bool,
        serving: dict[str, Any] | None,
        commit: str,
        instrumented: bool = False,
        load: str = "ab",
    ) -> str:
        """The key --resume uses to know whether a measurement already exists.
        The instrumented (counting) pass has keys of its own, never a timed run's; so
        has a load generator other than ab (ab's keys are those of schema 1)."""
        key: list[Any] = [
            mode,
            view,
            scenario,
            int(concurrency),
            int(requests),
            int(repeat),
            bool(keepalive),
            canonical_serving(serving),
            commit,
        ]
        if instrumented:
            key.append("instrumented")
        if load != "ab":
            key.append(f"load={load}")
        return json.dumps(key, separators=(",", ":"))

    def identity(self) -> str:
        """This sample's resume key (see `identity_of`)."""
        return self.identity_of(
            **{k: getattr(self, k) for k in IDENTITY_KEYS},
            instrumented=self.kind == "instrumented",
            load=self.load,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to samples.jsonl and results.json."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["latency_ms"] = self.latency_ms.to_dict() if self.latency_ms else None
        out["serving"] = dict(self.serving)
        out["loadgen_hosts"] = list(self.loadgen_hosts)
        out["raw_files"] = list(self.raw_files)
        out["versions"] = dict(self.versions)
        out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sample:
        """Rebuild from the JSON form; keys this version does not know go to `extra`.
        A schema-1 record (no `kind`) is a timed repetition unless its extra says it was
        the instrumented pass."""
        if "kind" not in data:
            extra = data.get("extra") or {}
            data = {**data, "kind": "instrumented" if extra.get("instrumented") else "timed"}
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        unknown = {k: v for k, v in data.items() if k not in known}
        if unknown:
            kwargs["extra"] = {**(kwargs.get("extra") or {}), **unknown}
        kwargs["latency_ms"] = Latency.from_dict(data.get("latency_ms"))
        return cls(**kwargs)
