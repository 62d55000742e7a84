"""Bad input the other suites do not already cover (see docs/RELIABILITY.md for the whole
table): `fab bench` with a results folder it cannot write or an inventory without an app
host (a deploy whose database does not connect is tests/deploy/test_deploy_local.py's).
Each: one clear line, non-zero exit, nothing written."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.helpers import fab

INVENTORY = """\
all:
  children:
{app}    loadgen:
      hosts:
        down-lg1:
          ansible_host: 198.19.255.251
          private_address: 198.19.255.251
          bench_root: /nonexistent/lg1
"""
APP = """\
    app:
      hosts:
        down-app:
          ansible_host: 198.19.255.250
          private_address: 198.19.255.250
          bench_root: /nonexistent/app
          app_port: 8000
"""


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@contextlib.contextmanager
def read_only_folder(where: Path) -> Iterator[Path]:
    """A read-only tmpfs (root ignores file modes, so chmod would prove nothing)."""
    where.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.timeout(120)
def test_bench_refuses_a_results_folder_it_cannot_write(tmp_path: Path) -> None:
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() != "0":
        pytest.skip("mounting a read-only tmpfs needs root")
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY.format(app=APP))
    with read_only_folder(tmp_path / "ro") as ro:
        proc = fab("bench", "--inventory", str(inventory), "--results", str(ro / "results"))
        assert proc.returncode != 0
        line = last_line(proc.stderr)
        assert line.startswith(f"fab bench: cannot write {ro / 'results'}: "), proc.stderr
        assert "Read-only file system" in line and "--results" in line
        assert not any(ro.iterdir())


@pytest.mark.timeout(120)
def test_bench_refuses_an_inventory_without_an_app_host(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY.format(app=""))
    results = tmp_path / "results"
    proc = fab("bench", "--inventory", str(inventory), "--results", str(results))
    assert proc.returncode != 0
    assert last_line(proc.stderr) == (
        f"fab bench: inventory {inventory} has no host in group 'app': run terraform apply"
    ), proc.stderr
    assert not results.exists() or not any(results.iterdir())
