"""Checks before any instance exists: the SSH key (the same script Terraform's pre-flight
runs), the TTL against the planned run, the region and its instance types; and
`fab compare --stacks` saying each in one line with nothing created."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner import awspreflight
from runner.awspreflight import PreflightError, check_key, check_types
from tests.aws.awshelp import ROOT

FAB = [str(ROOT / ".venv" / "bin" / "fab")]


def _keygen(path: Path, passphrase: str = "") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "t", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An ssh-agent of this test only (its socket in tmp_path); killed after."""
    sock = tmp_path / "agent.sock"
    out = subprocess.run(
        ["ssh-agent", "-s", "-a", str(sock)], capture_output=True, text=True, check=True
    )
    pid = int(out.stdout.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        yield {**os.environ, "SSH_AUTH_SOCK": str(sock)}
    finally:
        os.kill(pid, signal.SIGTERM)


def test_an_unencrypted_key_passes(tmp_path: Path) -> None:
    check_key(str(_keygen(tmp_path / "k")), agent=False)


def test_an_encrypted_key_without_agent_is_one_line(tmp_path: Path) -> None:
    key = _keygen(tmp_path / "k", "secret words")
    with pytest.raises(PreflightError) as info:
        check_key(str(key), agent=False)
    assert str(info.value) == (
        f"{key} is encrypted (passphrase) and ssh_agent is false: run ssh-add {key} and set "
        "ssh_agent = true, or use a key without a passphrase"
    )


def test_an_encrypted_key_must_be_in_the_agent(tmp_path: Path, agent: dict[str, str]) -> None:
    key = _keygen(tmp_path / "k", "secret words")
    with pytest.raises(PreflightError, match="not loaded in the SSH agent: run ssh-add"):
        check_key(str(key), agent=True, env=agent)
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho 'secret words'\n")
    askpass.chmod(0o700)
    subprocess.run(
        ["ssh-add", str(key)],
        env={**agent, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
        timeout=30,
    )
    check_key(str(key), agent=True, env=agent)


def test_a_missing_key_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PreflightError, match=r"does not exist or is unreadable: make one"):
        check_key(str(tmp_path / "nope"), agent=False)


def test_types_and_region(ec2: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    check_types(ec2, "us-east-1", ["m6i.xlarge", "c6i.2xlarge"])
    with pytest.raises(PreflightError, match=r"EC2 does not know instance type\(s\) \[m6i\.huge\]"):
        check_types(ec2, "us-east-1", ["m6i.huge", "c6i.2xlarge"])
    offered = {"m6i.xlarge": ["us-east-1a"], "c6i.2xlarge": ["us-east-1b"], "m7i.xlarge": []}
    monkeypatch.setattr(awspreflight, "zones_offering", lambda _c, t: offered[t])
    with pytest.raises(PreflightError, match=r"region us-east-1 does not offer m7i\.xlarge"):
        check_types(ec2, "us-east-1", ["m7i.xlarge", "c6i.2xlarge"])
    with pytest.raises(PreflightError, match="no zone of us-east-1 offers all of"):
        check_types(ec2, "us-east-1", ["m6i.xlarge", "c6i.2xlarge"])


def _stacks(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*FAB, "compare", "--results", str(tmp_path / "results"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "tf_vars", "message"),
    [
        (
            ["--stacks", "2", "--ttl-minutes", "60"],
            {},
            "ttl_minutes 60 is shorter than the planned",
        ),
        (["--stacks", "2"], {"ssh_private_key_path": "ENCRYPTED"}, "is encrypted (passphrase)"),
        (["--stacks", "2"], {"app_instance_type": "m6i.nonsense"}, "EC2 does not know instance"),
        (["--stacks", "21"], {}, "--stacks must be a whole number from 1 to 20"),
    ],
)
def test_fab_compare_stacks_refuses_bad_input_before_anything_exists(
    moto_env: dict[str, str],
    tmp_path: Path,
    args: list[str],
    tf_vars: dict[str, str],
    message: str,
) -> None:
    good = _keygen(tmp_path / "good")
    encrypted = _keygen(tmp_path / "enc", "pass phrase")
    env = {**moto_env, "TF_VAR_ssh_private_key_path": str(good)}
    env.pop("SSH_AUTH_SOCK", None)
    for name, value in tf_vars.items():
        env[f"TF_VAR_{name}"] = str(encrypted) if value == "ENCRYPTED" else value
    proc = _stacks(env, tmp_path, *args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert lines[0].startswith("fab compare --stacks: ")
    assert not (tmp_path / "results").exists(), "nothing may be created"


def test_fab_compare_help_documents_the_stack_options(moto_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [*FAB, "--help", "compare"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**moto_env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    options = proc.stdout.split("Options:", 1)[1]
    for option in ("--stacks", "--stack-minutes", "--ttl-minutes", "--prefix"):
        line = next(ln for ln in options.splitlines() if option in ln)
        assert len(line.split(option, 1)[1].strip()) > 10, f"{option} lacks help"
