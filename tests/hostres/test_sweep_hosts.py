"""`make clean-hosts` sweeps a killed run's leftover host cgroups in every hierarchy this
machine mounts (cgroup v1 and, here in systemd's hybrid mode, the unified v2 tree), for
real: processes in them are killed and the folders removed, in one line."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from runner import host_resources as hr
from tests.fixtures.hosts import SCRIPTS

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(120)]
PREFIX = "abwh"  # this test's own prefix (cgroups only: no namespace, no address)


@pytest.fixture
def leftovers() -> list[Path]:
    """Host cgroups of PREFIX as a SIGKILLed create leaves them, each with a process in it."""
    if os.geteuid() != 0:
        pytest.skip("cgroups need root")
    trees = hr.every_host_cgroups()
    folders = []
    for tree in trees:
        if isinstance(tree, hr.V1Hosts):
            folders.append(tree.root / "memory" / PREFIX / "app")
        else:
            folders.append(tree.root / PREFIX / "app")
    procs = []
    for folder in folders:
        folder.mkdir(parents=True)
        proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
        (folder / "cgroup.procs").write_text(str(proc.pid))
        procs.append(proc)
    yield folders
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=10)
    for folder in folders:
        for path in (folder, folder.parent):
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def test_clean_hosts_sweeps_leftover_cgroups_in_every_hierarchy(leftovers: list[Path]) -> None:
    assert all((f / "cgroup.procs").read_text().split() for f in leftovers)
    proc = subprocess.run(
        [str(SCRIPTS / "clean-hosts.sh"), PREFIX], capture_output=True, text=True, timeout=90
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"clean-hosts: no host of prefix {PREFIX} is left"
    assert [f for f in leftovers if f.parent.exists()] == []
