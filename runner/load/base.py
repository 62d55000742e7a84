"""The LoadGenerator interface: what one load tool must do for the runner.

A load generator turns a `LoadSpec` (what to send, tool-neutral) into a shell command for
one load-generator host, and turns the raw files that command left behind into a
`LoadResult` (what happened, tool-neutral). The runner (runner/load/execute.py) does the
rest for every tool alike: it splits the spec across the hosts (`split`), runs each
host's command under the watchdog and the outer time bound, records the tool's own CPU
time (the shell's `times`), pulls every file back, then calls `parse` per host and
`merge` once. Nothing outside a tool's own module knows its file names or its output.

Adding a tool is one module with a subclass and one line in runner/load/__init__.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

LATENCY_SOURCES = ("raw", "histogram")


class LoadSpecError(ValueError):
    """A load the tool cannot send (the message names the option and how to fix it)."""


@dataclass(frozen=True)
class LoadSpec:
    """What to send, for any tool.

    `urls`: the URLs measured (the first is the one a single-URL tool uses).
    `concurrency`: concurrent clients (closed loop) or the pool of virtual users (open).
    `requests`: the request count of a count-based run; with `duration_s` it is a cap.
    `duration_s`: a time-based run (None: count-based, then `requests` is required).
    `rate`: offered requests/s for an open-loop tool (None: closed loop).
    `headers`: extra request headers as (name, value) pairs.
    `expected_length`: the body length every response must have; None = no length check.
    `timeout_s`: the per-request timeout.
    `host`: the app host's address the URLs point at (checked as a lab address).
    """

    urls: tuple[str, ...]
    concurrency: int
    requests: int | None = None
    duration_s: float | None = None
    rate: float | None = None
    keepalive: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    expected_length: int | None = None
    timeout_s: int = 30
    host: str = ""

    @property
    def url(self) -> str:
        """The first (for most tools, the only) URL."""
        return self.urls[0]

    @property
    def length_check(self) -> bool:
        """Whether responses are checked against `expected_length`."""
        return self.expected_length is not None

    def bound_s(self) -> int:
        """An outer wall-time bound for one run of this spec (the watchdog's `timeout`):
        the duration plus slack, or one timeout per closed-loop round of requests."""
        if self.duration_s is not None:
            return int(min(self.duration_s * 2 + self.timeout_s + 30, 3600))
        rounds = (self.requests or 1) / max(self.concurrency, 1)
        return int(min(self.timeout_s * (rounds + 2) + 30, 3600))

    def check(self) -> None:
        """Refuse a spec that no tool can run."""
        if not self.urls:
            raise LoadSpecError("a load needs at least one URL")
        if self.concurrency < 1:
            raise LoadSpecError(f"--concurrency must be at least 1, not {self.concurrency}")
        if self.requests is None and self.duration_s is None:
            raise LoadSpecError("a load needs a request count or a duration")
        if self.requests is not None and self.requests < 1:
            raise LoadSpecError(f"--requests must be at least 1, not {self.requests}")
        if self.duration_s is not None and self.duration_s <= 0:
            raise LoadSpecError(f"--duration must be above 0 seconds, not {self.duration_s}")
        if self.rate is not None and self.rate <= 0:
            raise LoadSpecError(f"--rate must be above 0 requests/s, not {self.rate}")
        if self.timeout_s < 1:
            raise LoadSpecError(f"--timeout must be at least 1 second, not {self.timeout_s}")


@dataclass
class LoadResult:
    """What one run of a load tool did, on one host or merged over all of them.

    Counts: `sent` (requests started), `completed` (answered, any status), `failed`
    (errors: connect, read, timeout, wrong length), `non_2xx`. `duration_s` is the load's
    wall span, `rps` the achieved rate (completed / duration). Open-loop tools fill
    `offered_rate`, `dropped` (iterations the tool could not start in time) and
    `in_flight` (still unanswered at the end). Latency in ms: `latency_ms` has p50, p90,
    p99, p99.9, max and mean (keys "p50", "p90", "p99", "p99_9", "max", "mean"), or is
    None when the tool reported none; `latency_source` says whether they come from raw
    per-request data ("raw") or the tool's histogram ("histogram"). `tool_cpu_pct` is
    the tool's own CPU time as a percent of one CPU over its run (the largest over the
    hosts). `aborted`/`abort_reason`: the tool gave up before the end. `failures` breaks
    `failed` down by kind. `document_length` is the body length seen (None: unknown).
    `raw_files`: paths of the raw files, relative to the run folder.
    `samples_ms`: the per-request latencies behind the figures when the tool gives them
    (kept for merging across hosts, never stored in results.json);
    `histogram`: (value_ms, count) pairs when the tool gives a histogram (same use).
    `extra`: tool-specific figures worth storing (JSON-able); `native`: the tool's own
    parsed result, for its `merge` only (never stored).
    """

    tool: str
    sent: int = 0
    completed: int = 0
    failed: int = 0
    non_2xx: int = 0
    duration_s: float | None = None
    rps: float | None = None
    offered_rate: float | None = None
    dropped: int = 0
    in_flight: int = 0
    latency_ms: dict[str, float] | None = None
    latency_source: str = "raw"
    tool_cpu_pct: float | None = None
    aborted: bool = False
    abort_reason: str = ""
    failures: dict[str, int] = field(default_factory=dict)
    document_length: int | None = None
    hosts: int = 1
    raw_files: list[str] = field(default_factory=list)
    samples_ms: list[float] = field(default_factory=list, repr=False)
    histogram: list[tuple[float, int]] = field(default_factory=list, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)
    native: Any = field(default=None, repr=False)

    def failure_breakdown(self) -> str:
        """The failure kinds that are not zero, e.g. 'Length: 45'; '' when none."""
        return ", ".join(f"{k}: {v}" for k, v in self.failures.items() if v)

    def without_raw(self) -> LoadResult:
        """A copy without the per-request data (what is kept after merging)."""
        return replace(self, samples_ms=[], histogram=[], native=None)


@dataclass(frozen=True)
class ToolCommand:
    """One host's command line and where its stdout and stderr go (in its folder)."""

    argv: tuple[str, ...]
    stdout: str
    stderr: str


@dataclass
class HostRun:
    """One host's part of a load: where its files are (remote and local) and how it ended."""

    host: str
    spec: LoadSpec
    remote_dir: str
    local_dir: Path
    rc: int = 0
    cpu_s: float | None = None  # the tool's own user+sys CPU seconds (shell `times`)
    files: list[str] = field(default_factory=list)


class LoadGenerator(ABC):
    """One load tool. Subclasses set `name` (the --load value), `binary` (checked with
    `command -v` on every load-generator host) and `latency_source`."""

    name: ClassVar[str]
    binary: ClassVar[str]
    latency_source: ClassVar[str] = "raw"
    open_loop: ClassVar[bool] = False
    time_based: ClassVar[bool] = False  # runs for a duration (LoadSpec.duration_s)
    default_duration_s: ClassVar[float] = 5.0  # when a time-based tool is given none
    single_threaded: ClassVar[bool] = True  # its CPU share is judged against one CPU

    def check(self, spec: LoadSpec) -> None:
        """Refuse a spec this tool cannot send (called by the Plan, before any host)."""
        spec.check()

    def split(self, spec: LoadSpec, n_hosts: int) -> list[LoadSpec]:
        """Share `spec` across `n_hosts` hosts that run at once (default: the shared
        proportional split of clients and requests, runner.load.split)."""
        from runner.load.split import split_spec

        return split_spec(spec, n_hosts)

    @abstractmethod
    def command(self, spec: LoadSpec) -> ToolCommand:
        """The command that sends `spec` from one host, run in its own working folder;
        every output goes to files there (its stdout and stderr to the files named)."""

    def support_files(self, spec: LoadSpec) -> dict[str, str]:
        """Files to place in the working folder before `command` runs (name -> text)."""
        return {}

    @abstractmethod
    def parse(self, run: HostRun) -> LoadResult:
        """The result of one host's run, from its pulled-back files in `run.local_dir`."""

    @abstractmethod
    def merge(self, results: list[LoadResult]) -> LoadResult:
        """One result for hosts that ran at once: counts add up, the rate is all
        completed requests over the longest span, percentiles from the merged raw data
        (or histograms); never averaged percentiles."""

    def version_command(self) -> str:
        """A shell command whose first output line names the tool's version."""
        return f"{self.binary} -V 2>&1 | head -1"
