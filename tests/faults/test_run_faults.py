"""Faults during a `fab bench` run on the session's stack: Granian killed, the load
generator cut off, the app host out of memory, the results disk full. Each: what had
completed stays on disk, the run stops with a non-zero exit and a clear line, and the
stack is left healthy for the next test (the app redeployed, the link up, limits back)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.host_resources import CgroupV1
from tests.faults.helpers import (
    FAB,
    ROOT,
    background,
    fab,
    first_sample_stored,
    host_processes,
    memory_cgroup,
    samples_of,
    timed,
    wait_for,
)
from tests.fixtures.deploy import Deployer
from tests.fixtures.hosts import TerraformStack

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(420)]


def bench_argv(stack: TerraformStack, results: Path, *args: str) -> list[str]:
    """fab bench on the session's stack into `results`, without the instrumented pass."""
    return [
        FAB,
        "-r",
        str(ROOT),
        "bench",
        "--inventory",
        str(stack.inventory_path),
        "--results",
        str(results),
        "--no-instrument",
        *args,
    ]


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_granian_killed_mid_run_stops_it_and_resume_measures_only_the_rest(
    app: Deployer, tmp_path: Path
) -> None:
    stack = app.stack
    results = tmp_path / "results"
    args = ("--scenario", "io", "--concurrency", "5,10", "--requests", "150,100", "--repeat", "2")
    with background(bench_argv(stack, results, *args), tmp_path) as proc:
        run_dir = wait_for("the first sample", first_sample_stored(results), 120)
        granian = [pid for pid, cmd in host_processes(stack.prefix, "app") if "granian" in cmd]
        assert granian, host_processes(stack.prefix, "app")
        for pid in granian:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        rc = proc.wait(timeout=180)
    err = (tmp_path / "stderr").read_text()
    assert rc != 0
    assert last_line(err).startswith("fab bench: health re-check failed"), err[-2000:]
    assert f"--resume {run_dir.name}" in last_line(err)
    before = (run_dir / "samples.jsonl").read_text()
    samples = timed(samples_of(run_dir))
    assert samples[0]["status"] in ("ok", "invalid"), samples[0]["reason"]  # measured, kept
    hit = samples[1:]
    assert hit, "the repetition under way when Granian died was not stored"
    assert all(s["status"] in ("invalid", "aborted") and s["reason"] for s in hit), hit
    doc = json.loads((run_dir / "results.json").read_text())
    assert "health re-check failed" in doc["metadata"]["stopped"]["reason"]
    assert len(doc["samples"]) == len(samples_of(run_dir))

    redeployed = app.deploy("asgi")
    assert redeployed.returncode == 0, redeployed.stdout[-3000:]
    resumed = fab(*bench_argv(stack, results, *args, "--resume", run_dir.name)[3:], timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = (run_dir / "samples.jsonl").read_text()
    assert after.startswith(before), "resume rewrote samples it had"
    new = timed([json.loads(line) for line in after[len(before) :].splitlines()])
    measured = {(s["concurrency"], s["repeat"]) for s in samples}
    expected = {(c, r) for c in (5, 10) for r in (1, 2)} - measured
    assert {(s["concurrency"], s["repeat"]) for s in new} == expected
    assert all(s["status"] in ("ok", "invalid") and s["completed"] == s["requests"] for s in new), (
        new
    )


def test_load_generator_cut_off_is_an_error_in_seconds_and_leaves_no_process(
    app: Deployer, tmp_path: Path
) -> None:
    stack = app.stack
    lg = stack.loadgens[0]
    link = lg.name  # the host side of its veth pair is named like the host
    results = tmp_path / "results"
    args = ("--scenario", "io", "--concurrency", "5", "--requests", "300", "--repeat", "3")
    try:
        with background(bench_argv(stack, results, *args), tmp_path) as proc:
            run_dir = wait_for("the first sample", first_sample_stored(results), 120)
            time.sleep(1)  # into the next repetition's ab
            subprocess.run(["ip", "link", "set", link, "down"], check=True)
            cut = time.monotonic()
            rc = proc.wait(timeout=240)
            print(f"cut-off load generator reported after {time.monotonic() - cut:.1f}s")
    finally:
        subprocess.run(["ip", "link", "set", link, "up"], check=True)
    err = (tmp_path / "stderr").read_text()
    assert rc != 0
    assert f"{lg.name} ({lg.address}) stopped answering" in last_line(err), err[-2000:]
    samples = timed(samples_of(run_dir))
    assert samples[0]["status"] in ("ok", "invalid"), samples[0]["reason"]  # measured, kept
    failed = [s for s in samples if s["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["stage"] in ("load", "pullback"), samples
    assert "stopped answering" in failed[0]["error"]

    def no_ab_left() -> bool:
        procs = host_processes(stack.prefix, lg.name.rsplit("-", 1)[1])
        procs += host_processes(stack.prefix, "app")
        return not [cmd for _, cmd in procs if " ab " in f" {cmd} " or run_dir.name in cmd]

    # ab ends once sshd drops the dead session (at the latest after ClientAliveInterval x
    # ClientAliveCountMax); a bound against a leak, not a timing assertion.
    wait_for("ab and its shell to end on the cut-off host", no_ab_left, 120)
    assert stack.ssh(lg, "true").returncode == 0, "the load generator is not back"


def test_app_host_out_of_memory_is_reported_as_such(app: Deployer, tmp_path: Path) -> None:
    stack = app.stack
    cgroup = memory_cgroup(stack.prefix, "app")
    limit_file = cgroup / CgroupV1.MEMORY_LIMIT
    original = limit_file.read_text().strip()
    results = tmp_path / "results"
    args = ("--scenario", "users", "--concurrency", "20", "--requests", "200", "--repeat", "2")
    try:
        with background(bench_argv(stack, results, *args), tmp_path) as proc:
            wait_for("rep 1", lambda: "rep 1/2" in (tmp_path / "stderr").read_text(), 120)
            squeeze_until_oom(cgroup, proc)
            rc = proc.wait(timeout=240)
    finally:
        limit_file.write_text(original)
    err = (tmp_path / "stderr").read_text()
    assert rc != 0
    assert "app host ran out of memory: " in last_line(err), err[-2000:]
    assert "OOM kill" in last_line(err)
    (run_dir,) = [p for p in results.iterdir() if p.is_dir()]
    samples = timed(samples_of(run_dir))
    assert any("app host ran out of memory" in s["reason"] for s in samples), samples
    assert all(not s["valid"] for s in samples if "ran out of memory" in s["reason"])


def oom_kills(cgroup: Path) -> int:
    """The OOM killer's count in a memory cgroup (v1 memory.oom_control)."""
    for line in (cgroup / "memory.oom_control").read_text().splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    raise AssertionError(f"{cgroup} has no oom_kill count: kernel too old for this test")


def squeeze_until_oom(cgroup: Path, proc: subprocess.Popen) -> None:
    """Keep the memory limit just above what the host's processes hold now (their page
    cache goes first) until the OOM killer acts or the run ends: a request under load
    then needs more than is left. The kernel refuses (EBUSY) a limit it cannot reclaim
    down to; the next try is a moment later."""
    start = oom_kills(cgroup)
    while proc.poll() is None and oom_kills(cgroup) == start:
        usage = int((cgroup / "memory.usage_in_bytes").read_text())
        stat = dict(line.split() for line in (cgroup / "memory.stat").read_text().splitlines())
        with contextlib.suppress(OSError):
            limit = usage - int(stat["total_cache"]) + 2 * 2**20
            (cgroup / CgroupV1.MEMORY_LIMIT).write_text(str(limit))
        time.sleep(0.2)


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where`, unmounted at the end."""
    where.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_results_disk_full_mid_run_is_a_clear_error_and_keeps_what_was_written(
    app: Deployer, tmp_path: Path
) -> None:
    stack = app.stack
    args = ("--scenario", "io", "--concurrency", "5", "--requests", "100", "--repeat", "3")
    with tmpfs(tmp_path / "small", "4m") as mnt:
        results = mnt / "results"
        with background(bench_argv(stack, results, *args), tmp_path) as proc:
            run_dir = wait_for("the first sample", first_sample_stored(results), 120)
            jsonl_before = (run_dir / "samples.jsonl").read_text()
            with contextlib.suppress(OSError), open(mnt / "filler", "wb") as fh:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            rc = proc.wait(timeout=180)
        err = (tmp_path / "stderr").read_text()
        assert rc != 0
        line = last_line(err)
        assert line.startswith("fab bench: cannot write "), err[-2000:]
        assert "no space left on device" in line and "--results" in line
        jsonl_after = (run_dir / "samples.jsonl").read_text()
        assert jsonl_after.startswith(jsonl_before)
        doc = json.loads((run_dir / "results.json").read_text())
        assert doc["samples"][0] == json.loads(jsonl_before.splitlines()[0])
        assert not list(run_dir.glob(".*.tmp"))
