"""upstream_port reaches the roles: the real ansible-playbook evaluates the app and loadgen
role defaults against an inventory like infra/aws writes (no host is contacted: local
connection, nothing but debug tasks)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.aws.awshelp import ROOT

ROLES = ROOT / "playbooks" / "roles"
PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"


def _evaluate(tmp_path: Path, loadgen_vars: dict[str, object]) -> dict[str, str]:
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "bench_root": "/opt/x"},
            "children": {
                "app": {"hosts": {"a": {"private_address": "10.77.0.10", "app_port": 8000}}},
                "loadgen": {"hosts": {"l": {"private_address": "10.77.0.20", **loadgen_vars}}},
            },
        }
    }
    (tmp_path / "inv.json").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(
        f"""- hosts: a,l
  gather_facts: false
  tasks:
    - ansible.builtin.include_vars: {ROLES}/app/defaults/main.yml
    - ansible.builtin.include_vars: {ROLES}/loadgen/defaults/main.yml
    - ansible.builtin.debug:
        msg: "{{{{ app_upstream_url | trim }}}} {{{{ loadgen_upstream_port }}}}"
"""
    )
    proc = subprocess.run(
        [str(PLAYBOOK), "-i", str(tmp_path / "inv.json"), str(tmp_path / "play.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ANSIBLE_STDOUT_CALLBACK": "json",
            "ANSIBLE_LOCALHOST_WARNING": "0",
        },
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    return {host: r["msg"] for host, r in tasks[-1]["hosts"].items()}


@pytest.mark.parametrize(
    ("loadgen_vars", "url", "port"),
    [
        ({"upstream_port": 8123}, "http://10.77.0.20:8123/", "8123"),
        ({}, "http://10.77.0.20:8001/", "8001"),
    ],
)
def test_the_roles_use_the_inventorys_upstream_port(
    tmp_path: Path, loadgen_vars: dict[str, object], url: str, port: str
) -> None:
    msgs = _evaluate(tmp_path, loadgen_vars)
    assert msgs["a"].split()[0] == url
    assert msgs["l"].split()[1] == port
