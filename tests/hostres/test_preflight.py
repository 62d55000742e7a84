"""The preflight: every entry point on a machine without Terraform says so in one line
(PATH without terraform, for real), and each check's line on recorded or faked input."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runner import preflight
from runner.stagelines import ansible_error, terraform_error
from tests.fixtures.hosts import private_tmpdir

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).with_name("data")
FAB = str(ROOT / ".venv" / "bin" / "fab")


@pytest.fixture
def no_terraform(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has everything this machine has except terraform."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = shutil.which("terraform")
    for folder in os.environ["PATH"].split(os.pathsep):
        if real and Path(folder) == Path(real).parent:
            for tool in Path(folder).iterdir():  # keep the folder's other tools
                if tool.name != "terraform" and not (bin_dir / tool.name).exists():
                    (bin_dir / tool.name).symlink_to(tool)
    path = [str(bin_dir)] + [
        f for f in os.environ["PATH"].split(os.pathsep) if not (Path(f) / "terraform").exists()
    ]
    env = {**os.environ, "PATH": os.pathsep.join(path)}
    assert shutil.which("terraform", path=env["PATH"]) is None
    return env


MAKE_SUMMARY = re.compile(r"^make(\[\d+\])?: \*\*\*")


def own_lines(text: str) -> list[str]:
    """Output lines other than make's own `make: ***` (or `make[N]: ***`) summaries."""
    return [line for line in text.splitlines() if line and not MAKE_SUMMARY.match(line)]


def assert_one_terraform_line(proc: subprocess.CompletedProcess, label: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Traceback" not in out
    (line,) = own_lines(out)
    assert line.startswith(f"{label}: ") and "Terraform" in line and "not found" in line
    assert "releases.hashicorp.com/terraform" in line and "SHA256SUMS" in line


def test_make_bench_without_terraform_ends_with_one_line(no_terraform: dict[str, str]) -> None:
    proc = subprocess.run(
        ["make", "--no-print-directory", "bench"],
        cwd=ROOT,
        env=no_terraform,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_one_terraform_line(proc, "make setup")  # before setup's minute of work


def test_the_main_job_without_terraform_ends_with_one_line(no_terraform: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "runner.mainjob", "--preset", "smoke"],
        cwd=ROOT,
        env=no_terraform,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert_one_terraform_line(proc, "make bench")


@pytest.mark.parametrize("task", ["bench", "compare", "tune"])
def test_fab_tasks_without_terraform_or_hosts_say_so_in_one_line(
    task: str, no_terraform: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "inventory.yml"
    proc = subprocess.run(
        [FAB, task, "--inventory", str(missing)],
        cwd=ROOT,
        env=no_terraform,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    (line,) = own_lines(proc.stdout + proc.stderr)
    assert line.startswith(f"fab {task}: inventory {missing} does not exist")
    assert "Terraform (>= 1.4) not found" in line


def test_an_old_terraform_is_named_with_the_version_versions_tf_wants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "terraform"
    fake.write_text('#!/bin/sh\necho \'{"terraform_version": "1.3.9"}\'\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    report = preflight.Report()
    preflight.check_terraform(report)
    (line,) = report.problems
    assert line.startswith("Terraform 1.3.9 is older than infra/local requires (>= 1.4)")


@pytest.mark.parametrize(
    ("version", "constraint", "ok"),
    [
        ("1.11.4", ">= 1.4", True),
        ("1.3.9", ">= 1.4", False),
        ("1.4.0", ">= 1.4", True),
        ("1.5.7", ">= 1.4, < 1.6", True),
        ("1.6.0", ">= 1.4, < 1.6", False),
        ("1.5.7", "~> 1.5", True),
        ("2.0.0", "~> 1.5", False),
    ],
)
def test_terraform_version_constraints(version: str, constraint: str, ok: bool) -> None:
    assert preflight.satisfies(version, constraint) is ok


def test_this_checkouts_versions_tf_is_read() -> None:
    assert preflight.required_terraform() == ">= 1.4"


def test_a_machine_class_pinning_missing_cpus_is_one_line() -> None:
    report = preflight.Report()
    preflight.check_cpus(report, {0, 1}, "original-laptop", {0, 1, 2, 3, 4, 5})
    assert report.problems == [
        "machine class original-laptop pins CPUs 0,1,2,3,4,5 but this machine offers 0,1: "
        "choose a smaller machine_class (infra/local/presets, -var-file)"
    ]


def test_the_default_machine_class_is_read_from_variables_tf() -> None:
    assert preflight.machine_class_cpus() == ("local-1cpu", {0, 1})


def test_a_cgroup_hierarchy_that_cannot_cap_hosts_is_one_line() -> None:
    report = preflight.Report()
    assert preflight.check_cgroups(report, DATA / "v2-nocpuset" / "sys" / "fs" / "cgroup") is None
    (line,) = report.problems
    assert "lacks the cpuset controller" in line
    report = preflight.Report()
    assert preflight.check_cgroups(report, DATA / "v2" / "sys" / "fs" / "cgroup") == {0, 1, 2, 3}
    assert report.problems == [] and "cgroup v2" in report.notes[0]


def test_a_checkout_under_tmp_keeps_its_keys_in_a_private_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout_state = tmp_path / "clone" / "infra" / "local" / ".state"  # below /tmp
    home = private_tmpdir("hho")
    try:
        monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
        folder, note = preflight.state_dir_for("hho", checkout_state)
        assert folder == home / "state" / "asgi-wsgi-bench" / "hho"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert "\n" not in note and str(folder) in note and "sshd would refuse" in note
        # a folder sshd trusts is used as it is, with nothing said
        assert preflight.state_dir_for("hho", home / "ok") == (home / "ok", "")
    finally:
        shutil.rmtree(home)


def test_no_private_folder_either_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # below /tmp too
    with pytest.raises(preflight.PreflightError) as err:
        preflight.state_dir_for("hho", tmp_path / "clone" / ".state")
    assert "\n" not in str(err.value) and "set XDG_STATE_HOME" in str(err.value)


def test_a_failed_terraform_stage_is_its_own_last_error_line() -> None:
    recorded = (DATA / "terraform-apply-refused.txt").read_text()
    assert terraform_error(recorded).startswith("infra/local create: state_dir /tmp/hho-state")
    without_ours = "\n".join(line for line in recorded.splitlines() if "(local-exec)" not in line)
    line = terraform_error(without_ours)
    assert line.startswith("Error: local-exec provisioner error: Error running command")
    assert "\n" not in line and "choose a private folder" in line


def test_a_failed_ansible_stage_is_its_own_last_error_line() -> None:
    output = (
        "TASK [app : Install the wheels] ****\n"
        "ok: [abw-lg1]\n"
        'fatal: [abw-app]: FAILED! => {"changed": false, "cmd": "pip install", '
        '"msg": "stdout: ...\\nERROR: No matching distribution found for granian==9.9"}\n'
        "PLAY RECAP ****\n"
        "abw-app : ok=3 changed=0 unreachable=0 failed=1\n"
    )
    assert ansible_error(output) == (
        "fatal: [abw-app]: FAILED!: ERROR: No matching distribution found for granian==9.9"
    )
