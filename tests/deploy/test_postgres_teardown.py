"""terraform destroy leaves no PostgreSQL server, data directory or shared memory behind.

A stack of its own (prefix abwpg, 198.19.15.0/24): PostgreSQL deployed on its app host,
then destroyed while it runs, as a user's `make bench` does at its end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.deploy import Deployer
from tests.fixtures.hosts import hosts_unavailable, leftovers, stack_session

# The first deploy builds the venv; on a loaded 2-CPU machine that can pass 480 s.
SLOW_DEPLOY_S = 1200

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(1800)]

PREFIX, SUBNET = "abwpg", "198.19.15.0/24"


def _shm_ids() -> set[str]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {line.split()[1] for line in lines}


def _processes_using(path: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if proc.name.isdigit() and path in cmdline:
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


def test_destroy_stops_postgresql_and_removes_its_data() -> None:
    if reason := hosts_unavailable():
        pytest.skip(reason)
    with stack_session(PREFIX, SUBNET) as stack:
        deployer = Deployer(stack)
        try:
            proc = deployer.deploy("asgi", SLOW_DEPLOY_S, database="postgresql", instrument="false")
            assert proc.returncode == 0, proc.stdout[-4000:]
            assert deployer.health()["database"] == "postgresql"
        finally:
            deployer.close_ssh_masters()
        data_root = Path(stack.app.vars["data_root"])
        pidfile = (data_root / "postgres" / "data" / "postmaster.pid").read_text().splitlines()
        postmaster, shm_id = int(pidfile[0]), pidfile[6].split()[1]
        assert Path(f"/proc/{postmaster}").exists() and shm_id in _shm_ids()

        destroyed = stack.destroy()
        assert destroyed.returncode == 0, destroyed.stderr

        assert not Path(f"/proc/{postmaster}").exists()
        assert shm_id not in _shm_ids()
        assert not data_root.exists() and not data_root.parent.exists()
        assert _processes_using(str(data_root)) == []
        assert leftovers(PREFIX) == []
