"""Ctrl-C to the main job (`make bench` = python -m runner.mainjob) while it measures: the
samples that completed stay on disk, and its stack is destroyed with nothing left behind
(no namespace, link, process or cgroup). The main job makes a stack of its own here
(prefix abwz1), so the default stack and the session's stack are never touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.helpers import background, first_sample_stored, samples_of, wait_for
from tests.fixtures.hosts import (
    SCRIPTS,
    hosts_unavailable,
    leftovers,
    prefix_lock,
    private_tmpdir,
)

PREFIX, SUBNET = "abwz1", "198.19.41.0/24"

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(600)]


def clean() -> None:
    """The by-name sweep of this test's prefix."""
    subprocess.run(
        [str(SCRIPTS / "clean-hosts.sh"), PREFIX], capture_output=True, timeout=120, check=False
    )


def test_ctrl_c_keeps_completed_samples_and_destroys_the_stack(tmp_path: Path) -> None:
    reason = hosts_unavailable()
    if reason:
        pytest.skip(reason)
    with prefix_lock(PREFIX):
        clean()  # what a crashed earlier run left
        stack_dir = private_tmpdir(PREFIX)
        results = tmp_path / "results"
        argv = [
            sys.executable, "-m", "runner.mainjob",
            "--preset", "smoke", "--scenario", "plain",
            "--name-prefix", PREFIX, "--subnet", SUBNET,
            "--stack-dir", str(stack_dir), "--results", str(results),
            "--max-steal", "100", "--max-outside", "100",  # busy machine: no re-measures
        ]  # fmt: skip
        try:
            with background(argv, tmp_path) as proc:
                run_dir = wait_for("the first sample", first_sample_stored(results), 420)
                kept = samples_of(run_dir)
                # make bench interleaves: both modes side by side, each repetition in a pair
                assert all("pair" in s["extra"] for s in kept), kept
                os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
                rc = proc.wait(timeout=240)
            err = (tmp_path / "stderr").read_text()
            assert rc == 130, err[-3000:]
            assert "make bench: interrupted; completed samples are kept" in err
            after = samples_of(run_dir)
            assert after[: len(kept)] == kept
            assert leftovers(PREFIX) == []
        finally:
            if leftovers(PREFIX):
                clean()
            shutil.rmtree(stack_dir, ignore_errors=True)
