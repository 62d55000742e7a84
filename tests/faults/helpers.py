"""Helpers of the fault tests: `fab` run in the background, waiting for what it writes,
and what runs inside a host (local hosts share /proc with this machine)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FAB = str(Path(sys.executable).with_name("fab"))
CGROUP_ROOT = Path("/sys/fs/cgroup")


def fab(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`fab ARGS` from the repository root; never raises on exit code."""
    return subprocess.run(
        [FAB, "-r", str(ROOT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@contextlib.contextmanager
def background(argv: list[str], log_dir: Path) -> Iterator[subprocess.Popen]:
    """Start argv in its own session (so a test can signal its whole group, as Ctrl-C
    does) with stdout/stderr in log_dir; kill the group if it still runs at the end."""
    out = open(log_dir / "stdout", "w")  # noqa: SIM115 -- closed in finally
    err = open(log_dir / "stderr", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        out.close()
        err.close()


def wait_for(what: str, check: Callable[[], Any], limit_s: float, every_s: float = 0.5) -> Any:
    """Poll `check` until it returns something true; fail the test after limit_s (a bound
    against hangs, not a timing assertion)."""
    end = time.monotonic() + limit_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what} after {limit_s:.0f}s")
        time.sleep(every_s)


def run_dirs(results: Path) -> list[Path]:
    """The run folders under a results root."""
    return sorted(p for p in results.iterdir() if p.is_dir()) if results.exists() else []


def samples_of(run_dir: Path) -> list[dict[str, Any]]:
    """samples.jsonl, every line parsed (a line that does not parse fails the test)."""
    path = run_dir / "samples.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def timed(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timed samples (not the instrumented pass's records)."""
    return [s for s in samples if s.get("kind", "timed") == "timed"]


def first_sample_stored(results: Path) -> Callable[[], Path | None]:
    """A check for wait_for: the run folder once it holds at least one sample."""

    def check() -> Path | None:
        for run_dir in run_dirs(results):
            if samples_of(run_dir):
                return run_dir
        return None

    return check


def host_processes(prefix: str, host: str) -> list[tuple[int, str]]:
    """(pid, command line) of every process in a local host's cgroup."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cgroups = (proc / "cgroup").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if any(line.endswith(f":/{prefix}/{host}") for line in cgroups.splitlines()):
            found.append((int(proc.name), cmdline))
    return found


def memory_cgroup(prefix: str, host: str) -> Path:
    """A local host's memory cgroup folder."""
    return CGROUP_ROOT / "memory" / prefix / host
