"""The app host's CPU over exactly a repetition's timed window, and what else used the
machine then.

A sampler (`probe.py sample`) runs detached on the app host for the whole repetition and
writes a reading every 50 ms: the host's cgroup CPU time, the stack's and the machine's
busy and steal time on the host's CPUs, its own CPU. The load generator's wrapper notes
the wall time the tool started (runner/load/execute.py); the timed window is that start
plus the tool's own timed span. Each figure is interpolated at the window's two ends, so
what the host did before the first and after the last request (SSH sessions, the probes'
start-up, ab writing its files) is never counted: reading the CPU around the whole run
was why CPU shares above 100% reached the report. Local hosts share the machine's clock;
cloud hosts rely on NTP (milliseconds against windows of seconds).
"""

from __future__ import annotations

import bisect
import contextlib
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.remote import LocalWriteError, Remote, RemoteError

SAMPLE_FILE = "cpu-window.jsonl"  # beside the repetition's raw files
INTERVAL_S = 0.05
STOP_WAIT_S = 5.0
FIGURES = ("cpu_s", "stack_s", "kernel_s", "busy_s", "steal_s", "procs_s", "self_s")


@dataclass
class Sampler:
    """A sampler running on the app host."""

    remote: Remote
    out: str
    pid: int


@dataclass(frozen=True)
class WindowCpu:
    """What the app host's CPUs did over one timed window (seconds)."""

    window_s: float
    app_cpu_s: float  # the host's cgroup, the sampler's own CPU left out
    procs_cpu_s: float | None  # the same from /proc/PID/stat (when sampled)
    steal_s: float  # hypervisor steal on the host's CPUs
    outside_s: float  # busy time on the host's CPUs outside the stack's cgroups
    cpus: int

    @property
    def app_share(self) -> float:
        """The host's CPU as a fraction of all its CPUs over the window (at most 1 when
        the accounting is right)."""
        return self.app_cpu_s / (self.window_s * max(self.cpus, 1))

    def as_dict(self) -> dict[str, Any]:
        """The figures as stored in a sample's `extra.cpu_window`."""
        return {
            "window_s": round(self.window_s, 4),
            "app_cpu_s": round(self.app_cpu_s, 4),
            "procs_cpu_s": None if self.procs_cpu_s is None else round(self.procs_cpu_s, 4),
            "steal_s": round(self.steal_s, 4),
            "outside_s": round(self.outside_s, 4),
            "cpus": self.cpus,
            "app_share_pct": round(self.app_share * 100, 1),
        }


def start(app: Remote, name: str, bound_s: float, procs: bool = False) -> Sampler | None:
    """Start the sampler on the app host for one repetition (None when it could not
    start: the sample then keeps the CPU read around the run, marked as such)."""
    root = app.host.bench_root
    out = f"{root}/runs/cpu-{name}.jsonl"
    argv = ["python3", f"{root}/probe.py", "sample", out, str(int(bound_s + 60)), str(INTERVAL_S)]
    if procs:
        argv.append("procs")
    # Its first reading must precede the load: wait for it on the host (one round trip,
    # at most 5 s) after printing the pid.
    command = (
        f"mkdir -p {shlex.quote(root)}/runs && "
        f"(setsid {shlex.join(argv)} >/dev/null 2>&1 </dev/null & echo $!) && i=0 && "
        f"while ! test -s {shlex.quote(out)} && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done"
    )
    try:
        pid = int(app.run(command, timeout=30, label="start the CPU sampler").stdout.split()[0])
    except (RemoteError, ValueError, IndexError):
        return None
    return Sampler(app, out, pid)


def stop(sampler: Sampler | None, local: Path) -> list[dict[str, Any]]:
    """Stop the sampler, bring its lines back to `local` and parse them ([] when they
    are missing: the caller falls back to the CPU read around the run)."""
    if sampler is None:
        return []
    remote, pid = sampler.remote, sampler.pid
    sampler.pid = 0
    try:
        remote.stop_and_get(pid, sampler.out, local, STOP_WAIT_S, poll_s=0.1)
    except LocalWriteError:
        raise
    except RemoteError:
        return []
    return parse(local.read_text(encoding="utf-8", errors="replace"))


def abandon(sampler: Sampler | None) -> None:
    """Stop a sampler whose repetition failed (its bound would stop it anyway)."""
    if sampler is None or sampler.pid == 0:
        return
    with contextlib.suppress(RemoteError):
        sampler.remote.signal_stop(sampler.pid)


def parse(text: str) -> list[dict[str, Any]]:
    """The sampler's readings in time order (a cut last line is left out)."""
    out = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            row = json.loads(line)
            if isinstance(row, dict) and isinstance(row.get("t"), int | float):
                out.append(row)
    return sorted(out, key=lambda r: r["t"])


def at(rows: list[dict[str, Any]], t: float, key: str) -> float | None:
    """`key` interpolated linearly at wall time `t` (None outside the readings or when
    a bracketing reading lacks it)."""
    times = [r["t"] for r in rows]
    i = bisect.bisect_left(times, t)
    if i < len(rows) and times[i] == t:
        value = rows[i].get(key)
        return None if value is None else float(value)
    if i == 0 or i == len(rows):
        return None
    lo, hi = rows[i - 1], rows[i]
    if lo.get(key) is None or hi.get(key) is None:
        return None
    frac = (t - lo["t"]) / (hi["t"] - lo["t"])
    return float(lo[key]) + (float(hi[key]) - float(lo[key])) * frac


def over(rows: list[dict[str, Any]], start: float, end: float, cpus: int) -> WindowCpu | None:
    """The figures over [start, end] from the readings, or None when the readings do not
    cover the window (the sampler started late or stopped early)."""
    if end <= start:
        return None
    delta: dict[str, float | None] = {}
    for key in FIGURES:
        a, b = at(rows, start, key), at(rows, end, key)
        delta[key] = None if a is None or b is None else b - a
    if delta["cpu_s"] is None:
        return None
    own = delta["self_s"] or 0.0
    app = max(delta["cpu_s"] - own, 0.0)
    stack = delta["stack_s"] if delta["stack_s"] is not None else delta["cpu_s"]
    # Busy time the stack's cgroups did not account for, less the ksoftirqd threads
    # (the stack's own network traffic): other work on the app host's CPUs.
    outside = max((delta["busy_s"] or 0.0) - stack - (delta["kernel_s"] or 0.0), 0.0)
    procs = None if delta["procs_s"] is None else max(delta["procs_s"] - own, 0.0)
    return WindowCpu(end - start, app, procs, max(delta["steal_s"] or 0.0, 0.0), outside, cpus)
