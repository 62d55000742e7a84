"""The playbooks pass the production lint profile and Ansible's own syntax check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
BIN = Path(sys.executable).parent


@pytest.mark.timeout(300)
def test_ansible_lint_production_profile_passes() -> None:
    proc = subprocess.run(
        [str(BIN / "ansible-lint"), "--offline", "--profile", "production", "--nocolor", "."],
        cwd=PLAYBOOKS,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Profile 'production' was required, and it passed" in proc.stderr + proc.stdout


@pytest.mark.timeout(120)
@pytest.mark.parametrize("playbook", ["deploy.yml", "stop.yml", "facts.yml"])
def test_playbook_syntax_check_passes(playbook: str) -> None:
    proc = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "--syntax-check",
            "-i",
            "localhost,",
            f"playbooks/{playbook}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_role_validates_its_arguments_and_documents_its_defaults() -> None:
    for role in sorted(p for p in (PLAYBOOKS / "roles").iterdir() if p.is_dir()):
        assert (role / "meta" / "argument_specs.yml").is_file(), role.name
        defaults = (role / "defaults" / "main.yml").read_text().splitlines()
        for number, line in enumerate(defaults):
            if line and not line.startswith((" ", "#", "-")):
                assert line.startswith(f"{role.name}_"), f"{role.name}: {line!r} lacks the prefix"
                assert defaults[number - 1].startswith("#"), f"{role.name}: {line!r} has no comment"
