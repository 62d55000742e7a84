"""inventory/aws_ec2.yml read by the real `ansible-inventory` (amazon.aws.aws_ec2, boto3)
against moto's server: fake instances group into app and loadgen with the contract's
variables. AWS_ENDPOINT_URL and fake credentials are set, so nothing reaches AWS.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from runner.inventory import untag
from tests.aws.awshelp import ROOT, run_instance

INVENTORY = ROOT / "inventory" / "aws_ec2.yml"
ANSIBLE_INVENTORY = str(ROOT / ".venv" / "bin" / "ansible-inventory")
CONTRACT = {
    "ansible_host",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "private_address",
    "bench_root",
    "machine_class",
}


def _tags(name: str, role: str, itype_cpus: int, memory: int, **extra: str) -> dict[str, str]:
    return {
        "Name": name,
        "project": "asgi-wsgi-bench",
        "role": role,
        "bench_root": "/opt/asgi-wsgi-bench",
        "ansible_user": "admin",
        "machine_cpus": str(itype_cpus),
        "machine_memory_mib": str(memory),
        **extra,
    }


@pytest.fixture
def stack(server_ec2: Any) -> dict[str, str]:
    """What infra/aws makes, as moto instances: an app host and two load generators, plus
    a host of another project and a stopped project host that must not appear."""
    ids = {
        "abw-app": run_instance(
            server_ec2, _tags("abw-app", "app", 4, 16384, app_port="8000"), "m5.xlarge"
        ),
        "abw-lg1": run_instance(server_ec2, _tags("abw-lg1", "loadgen", 8, 16384), "c5.2xlarge"),
        "abw-lg2": run_instance(server_ec2, _tags("abw-lg2", "loadgen", 8, 16384), "c5.2xlarge"),
    }
    other = _tags("other-app", "app", 4, 16384)
    other["project"] = "someone-else"
    run_instance(server_ec2, other)
    stopped = run_instance(server_ec2, _tags("abw-old", "loadgen", 8, 16384), "c5.2xlarge")
    server_ec2.stop_instances(InstanceIds=[stopped])
    return ids


def _inventory_list(env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [ANSIBLE_INVENTORY, "-i", str(INVENTORY), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        # A source that fails to parse is an error, not a warning and an empty inventory.
        env={**env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1", "BENCH_SSH_KEY": "/keys/bench"},
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return untag(json.loads(proc.stdout))


def test_instances_group_into_app_and_loadgen(
    moto_env: dict[str, str], server_ec2: Any, stack: dict[str, str]
) -> None:
    data = _inventory_list(moto_env)
    assert data["app"]["hosts"] == ["abw-app"]
    assert sorted(data["loadgen"]["hosts"]) == ["abw-lg1", "abw-lg2"]
    assert set(data["_meta"]["hostvars"]) == {"abw-app", "abw-lg1", "abw-lg2"}


def test_hosts_carry_the_contract_variables(
    moto_env: dict[str, str], server_ec2: Any, stack: dict[str, str]
) -> None:
    hostvars = _inventory_list(moto_env)["_meta"]["hostvars"]
    described = server_ec2.describe_instances(InstanceIds=list(stack.values()))
    truth = {i["InstanceId"]: i for r in described["Reservations"] for i in r["Instances"]}
    for name, instance_id in stack.items():
        hv, inst = hostvars[name], truth[instance_id]
        assert set(hv) >= CONTRACT, f"{name} lacks {CONTRACT - set(hv)}"
        assert hv["ansible_host"] == inst["PublicIpAddress"]
        assert hv["private_address"] == inst["PrivateIpAddress"]
        assert hv["ansible_user"] == "admin"
        assert hv["ansible_ssh_private_key_file"] == "/keys/bench"
        assert hv["bench_root"] == "/opt/asgi-wsgi-bench"
        assert hv["ansible_python_interpreter"] == "/usr/bin/python3"
        assert hv["machine_class"]["name"] == inst["InstanceType"]
        assert hv["machine_class"]["memory_mib"] == 16384
    assert hostvars["abw-app"]["machine_class"]["cpus"] == 4
    assert hostvars["abw-lg1"]["machine_class"]["cpus"] == 8
    assert hostvars["abw-app"]["app_port"] == 8000
    assert "app_port" not in hostvars["abw-lg1"]


def test_project_tag_comes_from_the_environment(
    moto_env: dict[str, str], server_ec2: Any, stack: dict[str, str]
) -> None:
    data = _inventory_list({**moto_env, "BENCH_AWS_PROJECT": "someone-else"})
    assert data["app"]["hosts"] == ["other-app"]
    assert "loadgen" not in data or not data["loadgen"].get("hosts")


def test_runner_reads_the_dynamic_inventory(
    moto_env: dict[str, str], server_ec2: Any, stack: dict[str, str]
) -> None:
    from runner.inventory import parse_inventory_json

    proc = subprocess.run(
        [ANSIBLE_INVENTORY, "-i", str(INVENTORY), "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**moto_env, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"},
        cwd=ROOT,
        check=True,
    )
    inventory = parse_inventory_json(json.loads(proc.stdout), str(INVENTORY))
    assert inventory.app.name == "abw-app" and len(inventory.loadgens) == 2
    assert inventory.app.address.count(".") == 3, inventory.app.address
    assert inventory.app.machine_class["name"] == "m5.xlarge"
