"""The session's one local stack, checked for real: SSH with the stack's key into every
host, each host's address, CPU set and memory cap as the host itself sees them, the load
generator reaching the app host, the inventory, and apply being idempotent."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from runner.host_resources import CgroupV1
from tests.fixtures.hosts import ROOT, SCRIPTS, TerraformStack

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(180)]

CONTRACT_VARS = {
    "ansible_host",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "private_address",
    "bench_root",
    "machine_class",
}
# Cgroup paths as the host reads them from /proc/self/cgroup, then the caps there.
READ_CAPS = r"""
cs=$(awk -F: '$2=="cpuset"{print $3}' /proc/self/cgroup)
mem=$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup)
echo "cpuset_path=$cs"
echo "memory_path=$mem"
echo "cpus=$(cat /sys/fs/cgroup/cpuset$cs/cpuset.cpus)"
echo "memory_limit=$(cat /sys/fs/cgroup/memory$mem/LIMIT_FILE)"
""".replace("LIMIT_FILE", CgroupV1.MEMORY_LIMIT)


def _pairs(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_every_host_answers_ssh_with_the_stack_key_and_sees_its_own_address(
    local_stack: TerraformStack,
) -> None:
    assert len(local_stack.hosts) == 2
    for host in local_stack.hosts.values():
        proc = local_stack.ssh(host, "ip -4 -o addr show dev eth0; ip -4 route show")
        assert proc.returncode == 0, proc.stderr
        assert f"inet {host.address}/" in proc.stdout
        assert "default" not in proc.stdout  # no way out of the subnet


def test_ssh_refuses_a_host_key_the_stack_did_not_generate(local_stack: TerraformStack) -> None:
    """Host keys are pinned: the same address with an empty known_hosts is refused."""
    empty = local_stack.workdir / "empty_known_hosts"
    empty.write_text("")
    argv = [
        arg.replace(str(local_stack.known_hosts_file), str(empty))
        for arg in local_stack.ssh_argv(local_stack.app)
    ]
    proc = subprocess.run(
        [*argv, "true"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert proc.returncode != 0
    assert "Host key verification failed" in proc.stderr


def test_each_host_sees_its_cpuset_and_memory_cap_through_its_cgroup(
    local_stack: TerraformStack,
) -> None:
    expected_cpus = {"app": "0", "lg1": "1"}  # the default machine class on this machine
    for host in local_stack.hosts.values():
        short = host.name.removeprefix(f"{local_stack.prefix}-")
        proc = local_stack.ssh(host, READ_CAPS)
        assert proc.returncode == 0, proc.stderr
        caps = _pairs(proc.stdout)
        assert caps["cpuset_path"] == f"/{local_stack.prefix}/{short}"
        assert caps["memory_path"] == f"/{local_stack.prefix}/{short}"
        assert caps["cpus"] == expected_cpus[short]
        memory_mib = host.vars["machine_class"]["memory_mib"]
        assert int(caps["memory_limit"]) == memory_mib * 1024 * 1024
        assert host.vars["machine_class"]["cpus"] == len(caps["cpus"].split(","))


def test_app_and_loadgen_cpus_are_disjoint(local_stack: TerraformStack) -> None:
    cpus = {}
    for host in local_stack.hosts.values():
        cpus[host.name] = _pairs(local_stack.ssh(host, READ_CAPS).stdout)["cpus"]
    app_cpus = set(cpus.pop(local_stack.app.name).split(","))
    for other in cpus.values():
        assert app_cpus.isdisjoint(other.split(","))


def test_loadgen_reaches_the_app_host(local_stack: TerraformStack) -> None:
    app = local_stack.app
    probe = (
        "python3 -c 'import socket,sys; s=socket.create_connection((sys.argv[1], 22), 5); "
        f"print(s.recv(64).decode().strip())' {app.vars['private_address']}"
    )
    for lg in local_stack.loadgens:
        proc = local_stack.ssh(lg, probe)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("SSH-2.0-")


def test_hosts_have_no_route_off_the_subnet(local_stack: TerraformStack) -> None:
    """Route lookups only: no packet is sent anywhere."""
    proc = local_stack.ssh(local_stack.loadgens[0], "ip route get 192.0.2.1 2>&1; true")
    assert "unreachable" in proc.stdout.lower()


def test_processes_started_over_ssh_inherit_the_host_cgroups(local_stack: TerraformStack) -> None:
    proc = local_stack.ssh(local_stack.app, "cat /proc/self/cgroup")
    lines = dict(line.split(":", 2)[1:] for line in proc.stdout.splitlines())
    for controller in CgroupV1.CONTROLLERS:
        key = next(k for k in lines if controller in k.split(","))
        assert lines[key] == f"/{local_stack.prefix}/app", (controller, lines)


def test_bench_root_is_the_hosts_own_writable_folder(local_stack: TerraformStack) -> None:
    roots = {h.bench_root for h in local_stack.hosts.values()}
    assert len(roots) == len(local_stack.hosts)
    for host in local_stack.hosts.values():
        proc = local_stack.ssh(host, f"touch {host.bench_root}/probe && rm {host.bench_root}/probe")
        assert proc.returncode == 0, proc.stderr
        assert host.bench_root.startswith(str(local_stack.state_dir))


def test_inventory_parses_with_ansible_inventory_and_holds_the_contract(
    local_stack: TerraformStack,
) -> None:
    proc = subprocess.run(
        [
            str(ROOT / ".venv/bin/ansible-inventory"),
            "-i",
            str(local_stack.inventory_path),
            "--list",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["app"]["hosts"] == [f"{local_stack.prefix}-app"]
    assert data["loadgen"]["hosts"] == [f"{local_stack.prefix}-lg1"]
    hostvars = data["_meta"]["hostvars"]
    for name, hv in hostvars.items():
        assert hv.keys() >= CONTRACT_VARS, name
        assert hv["ansible_user"] == "root"
        assert hv["ansible_host"] == hv["private_address"]
        assert set(hv["machine_class"]) == {"name", "cpus", "memory_mib"}
        assert f"UserKnownHostsFile={local_stack.known_hosts_file}" in hv["ansible_ssh_common_args"]
        assert hv["ansible_python_interpreter"] == "/usr/bin/python3"
    assert hostvars[f"{local_stack.prefix}-app"]["app_port"] == 8000
    assert "app_port" not in hostvars[f"{local_stack.prefix}-lg1"]


def test_outputs_match_the_written_inventory(local_stack: TerraformStack) -> None:
    groups = local_stack.inventory["all"]["children"]
    assert local_stack.outputs["app_hosts"] == groups["app"]["hosts"]
    assert local_stack.outputs["loadgen_hosts"] == groups["loadgen"]["hosts"]
    assert local_stack.outputs["inventory_path"] == str(local_stack.inventory_path)
    assert local_stack.outputs["inventory"] == local_stack.inventory


def test_ansible_reaches_every_host_with_the_inventory(local_stack: TerraformStack) -> None:
    proc = subprocess.run(
        [
            str(ROOT / ".venv/bin/ansible"),
            "all",
            "-i",
            str(local_stack.inventory_path),
            "-m",
            "ansible.builtin.ping",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_HOST_KEY_CHECKING": "True"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(local_stack.hosts)


def test_keys_are_private_and_never_in_git(local_stack: TerraformStack) -> None:
    ssh_dir = local_stack.key_file.parent
    assert stat.S_IMODE(ssh_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(local_stack.key_file.stat().st_mode) == 0o600
    for key in (ssh_dir / "host_keys").glob("*_key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    default_key = ROOT / "infra/local/.state/ssh/id_ed25519"
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", str(default_key)], check=False
    )
    assert ignored.returncode == 0, "the default stack's key folder must be git-ignored"


def test_apply_twice_changes_nothing(local_stack: TerraformStack) -> None:
    assert not local_stack.plan_has_changes()
    proc = local_stack.apply()
    assert proc.returncode == 0, proc.stderr
    assert "0 added, 0 changed, 0 destroyed" in proc.stdout
    # and the hosts are the same ones: sshd still answers with the pinned key
    assert local_stack.ssh(local_stack.app, "true").returncode == 0


def test_route_check_accepts_a_host_and_refuses_an_address_without_one(
    local_stack: TerraformStack,
) -> None:
    check = str(SCRIPTS / "localhosts.py")
    ok = subprocess.run(
        [check, "check", local_stack.app.address], capture_output=True, text=True, timeout=30
    )
    assert ok.returncode == 0, ok.stderr
    assert f"{local_stack.prefix}-br" in ok.stdout
    for address, why in (("198.18.255.254", "no network namespace"), ("192.0.2.1", "outside")):
        bad = subprocess.run([check, "check", address], capture_output=True, text=True, timeout=30)
        assert bad.returncode == 1
        assert len(bad.stderr.strip().splitlines()) == 1
        assert why in bad.stderr
