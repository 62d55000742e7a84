"""The main job's stages fail in one line naming the stage and the tool's own error, for
real: Terraform's apply failing half-way (infra/local's test hook) and a --stack-dir sshd
would not trust; nothing is left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.hosts import ROOT, hosts_unavailable, leftovers, private_tmpdir

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(300)]
PREFIX, SUBNET = "abwh", "198.19.202.0/24"  # this module's own stack


def main_job(stack_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "runner.mainjob", "--preset", "smoke"]
    argv += ["--name-prefix", PREFIX, "--subnet", SUBNET, "--stack-dir", str(stack_dir)]
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=280, env=env, check=False
    )


def test_a_failed_apply_is_one_line_with_infra_locals_own_error() -> None:
    reason = hosts_unavailable()
    if reason:
        pytest.skip(reason)
    folder = private_tmpdir(PREFIX)
    try:
        env = {**os.environ, "ABW_TEST_FAIL_AT": "app"}
        proc = main_job(folder, env)
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        (line,) = [x for x in proc.stderr.splitlines() if x.startswith("make bench: stage")]
        assert line == (
            "make bench: stage terraform apply failed: infra/local create: "
            "ABW_TEST_FAIL_AT=app: failing on purpose after host app; rolled back"
        )
        assert "CalledProcessError" not in proc.stderr and "returned non-zero" not in proc.stderr
        assert leftovers(PREFIX) == []
    finally:
        subprocess.run([str(ROOT / "infra/local/scripts/clean-hosts.sh"), PREFIX], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_stack_dir_sshd_would_refuse_is_one_line_before_any_work(tmp_path: Path) -> None:
    proc = main_job(tmp_path / "stack")  # below /tmp: world-writable
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"make bench: --stack-dir {tmp_path / 'stack'} cannot hold")
    assert "/tmp is group- or world-writable" in line
