"""Stacks of their own (other prefixes and subnets than the session's): destroy leaves
nothing, a create failing or interrupted half-way rolls itself back, `make clean-hosts`
removes a stack whose Terraform state is gone, and every refusal is one clear line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.hosts import (
    MODULE,
    ROOT,
    SCRIPTS,
    TerraformStack,
    hosts_unavailable,
    leftovers,
    prefix_lock,
    private_tmpdir,
    stack_session,
)

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(180)]
SCRIPT = str(SCRIPTS / "localhosts.py")


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    reason = hosts_unavailable()
    if reason:
        pytest.skip(reason)


def _start_stray_processes(stack: TerraformStack) -> None:
    """What a deploy leaves running: a detached daemon on every host."""
    for host in stack.hosts.values():
        proc = stack.ssh(host, "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo started")
        assert proc.returncode == 0 and "started" in proc.stdout, proc.stderr


def _stack_processes(state_dir: Path) -> list[str]:
    """Any sshd started from this stack's config files, still running."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if str(state_dir) in line]


def _spec(prefix: str, subnet: str, state_dir: Path, lg_cpus: list[int] | None = None) -> str:
    """The description infra/local passes to the script, for running it directly."""
    base = subnet.split("/")[0].rsplit(".", 1)[0]
    hosts: list[dict[str, Any]] = [
        {"short": "app", "role": "app", "address": f"{base}.10", "cpus": [0], "memory_mib": 256},
        {
            "short": "lg1",
            "role": "loadgen",
            "address": f"{base}.21",
            "cpus": lg_cpus or [1],
            "memory_mib": 256,
        },
    ]
    return json.dumps(
        {
            "name_prefix": prefix,
            "subnet_cidr": subnet,
            "bridge_address": f"{base}.1",
            "state_dir": str(state_dir),
            "hosts": hosts,
        }
    )


def _script(
    *args: str, env: dict[str, str], runas: list[str] | None = None, script: Path | None = None
) -> Any:
    return subprocess.run(
        [*(runas or []), "/usr/bin/python3", script or SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def _one_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0
    assert len(lines) == 1, proc.stderr
    return lines[0]


# -- destroy -----------------------------------------------------------------------------
def test_destroy_removes_everything_started_on_the_hosts_and_twice_is_harmless() -> None:
    with stack_session("abwe", "198.19.3.0/24", loadgen_count=2) as stack:
        assert len(stack.loadgens) == 2
        _start_stray_processes(stack)
        assert leftovers("abwe")  # the stack and the strays are there
        proc = stack.destroy()
        assert proc.returncode == 0, proc.stderr
        assert leftovers("abwe") == []
        assert _stack_processes(stack.state_dir) == []
        assert not stack.inventory_path.exists()
        assert not (stack.state_dir / "ssh").exists()
        again = stack.destroy()
        assert again.returncode == 0, again.stderr


# -- failures half-way -------------------------------------------------------------------
def test_apply_failing_half_way_leaves_nothing_behind() -> None:
    with stack_session("abwf", "198.19.1.0/24", apply=False, loadgen_count=2) as stack:
        proc = stack.apply(env={"ABW_TEST_FAIL_AT": "lg1"})  # app and lg1 up, lg2 not
        assert proc.returncode != 0
        output = proc.stdout + proc.stderr
        assert "failing on purpose after host lg1" in output
        assert "rolled back" in output
        assert leftovers("abwf") == []
        assert _stack_processes(stack.state_dir) == []
        assert not (stack.state_dir / "ssh").exists()
        assert not stack.inventory_path.exists()
        # the tainted resource's destroy skips its provisioner: harmless, nothing to do
        assert stack.destroy().returncode == 0
        # and the next apply works: nothing in the way
        assert stack.apply().returncode == 0
        assert stack.ssh(stack.loadgens[1], "true").returncode == 0


def test_a_signal_during_create_rolls_everything_back() -> None:
    prefix, subnet = "abws", "198.19.4.0/24"
    with prefix_lock(prefix):
        workdir = private_tmpdir(prefix)
        env = {"ABW_SPEC": _spec(prefix, subnet, workdir / "state"), "ABW_TEST_PAUSE_AT": "app"}
        proc = subprocess.Popen(
            ["/usr/bin/python3", SCRIPT, "create"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("paused after host app")
            assert any(item.startswith("process") for item in leftovers(prefix))  # sshd is up
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode != 0
            assert "interrupted by SIGTERM" in err and "rolled back" in err
            assert leftovers(prefix) == []
            assert not (workdir / "state" / "ssh").exists()
        finally:
            if proc.poll() is None:
                proc.kill()
            _script("clean", prefix, env={})
            subprocess.run(["rm", "-rf", str(workdir)], check=False)


# -- clean-hosts -------------------------------------------------------------------------
def test_make_clean_hosts_removes_a_stack_whose_terraform_state_was_deleted() -> None:
    with stack_session("abwc", "198.19.2.0/24") as stack:
        _start_stray_processes(stack)
        (stack.workdir / "terraform.tfstate").unlink()
        proc = subprocess.run(
            ["make", "-s", "clean-hosts"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "ABW_PREFIX": "abwc"},  # never the default prefix here
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert leftovers("abwc") == []
        assert _stack_processes(stack.state_dir) == []
        assert not (stack.state_dir / "ssh").exists()  # the keys went too
        again = stack.clean()
        assert again.returncode == 0, again.stderr


def test_clean_hosts_touches_only_its_own_prefix() -> None:
    """Sweeping prefix abwo must leave a stack named abwox alone (and never the default)."""
    with (
        stack_session("abwox", "198.19.13.0/24") as longer,
        stack_session("abwo", "198.19.14.0/24") as shorter,
    ):
        proc = shorter.clean()
        assert proc.returncode == 0, proc.stderr
        assert leftovers("abwo") == []
        assert leftovers("abwox")
        assert longer.ssh(longer.app, "true").returncode == 0
    assert _script("clean", "../x", env={}).returncode == 1


# -- refusals ----------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing")
def test_refuses_when_not_root() -> None:
    env = {"ABW_SPEC": _spec("abwn", "198.19.6.0/24", Path("/nonexistent/state"))}
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    # The checkout may sit where nobody cannot read (e.g. under /root): run a readable copy.
    readable = Path(tempfile.mkdtemp(prefix="abwn-"))
    try:
        readable.chmod(0o755)
        copy = Path(shutil.copy(SCRIPT, readable / "localhosts.py"))
        shutil.copy(SCRIPTS / "host_resources.py", readable / "host_resources.py")
        copy.chmod(0o755)
        line = _one_line(_script("create", env=env, runas=nobody, script=copy))
    finally:
        shutil.rmtree(readable)
    assert "must run as root" in line
    assert leftovers("abwn") == []


def test_refuses_when_sshd_is_missing() -> None:
    env = {
        "ABW_SPEC": _spec("abwn", "198.19.6.0/24", Path("/nonexistent/state")),
        "ABW_SSHD": "/nonexistent/sshd",
    }
    assert "sshd not found" in _one_line(_script("create", env=env))
    assert leftovers("abwn") == []


def test_refuses_more_cpus_than_the_machine_has() -> None:
    cpus = os.cpu_count() or 1
    with stack_session(
        "abwm",
        "198.19.7.0/24",
        apply=False,
        machine_class={
            "name": "too-big",
            "app_cpus": [0],
            "loadgen_cpus": [cpus + 3],
            "app_memory_mib": 256,
            "loadgen_memory_mib": 256,
        },
    ) as stack:
        proc = stack.apply()
        assert proc.returncode != 0
        assert f"asks for CPUs {cpus + 3} but this machine has" in proc.stdout + proc.stderr
        assert leftovers("abwm") == []
        env = {"ABW_SPEC": _spec("abwm", "198.19.7.0/24", stack.state_dir, lg_cpus=[cpus + 3])}
        assert "choose a smaller machine_class" in _one_line(_script("create", env=env))


def test_refuses_a_subnet_already_in_use(local_stack: TerraformStack) -> None:
    with stack_session("abwu", "198.19.0.0/16", apply=False) as stack:
        proc = stack.apply()  # overlaps the session stack's 198.19.0.0/24
        assert proc.returncode != 0
        assert "already in use on this machine" in proc.stdout + proc.stderr
        assert leftovers("abwu") == []
    env = {"ABW_SPEC": _spec("abwu", local_stack.subnet, Path("/nonexistent/state"))}
    assert "choose another subnet_cidr" in _one_line(_script("create", env=env))
    assert local_stack.ssh(local_stack.app, "true").returncode == 0  # untouched


def test_refuses_a_name_prefix_already_in_use(local_stack: TerraformStack) -> None:
    env = {"ABW_SPEC": _spec(local_stack.prefix, "198.19.8.0/24", Path("/nonexistent/state"))}
    line = _one_line(_script("create", env=env))
    assert f"a stack named {local_stack.prefix} already exists" in line
    assert local_stack.ssh(local_stack.app, "true").returncode == 0  # untouched


def test_refuses_a_state_dir_sshd_would_not_trust() -> None:
    env = {"ABW_SPEC": _spec("abwn", "198.19.6.0/24", Path("/tmp/abw-state-under-tmp"))}
    assert "StrictModes" in _one_line(_script("create", env=env))


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"name_prefix": "ABW!"}, "name_prefix must be"),
        ({"subnet_cidr": "10.0.0.0/24"}, "inside 198.18.0.0/15"),
        ({"subnet_cidr": "198.18.0.5/24"}, "network address"),
        ({"loadgen_count": 0}, "loadgen_count must be"),
        (
            {
                "machine_class": {
                    "name": "shared",
                    "app_cpus": [0],
                    "loadgen_cpus": [0],
                    "app_memory_mib": 256,
                    "loadgen_memory_mib": 256,
                }
            },
            "must be disjoint",
        ),
        ({"app_port": 8001}, "app_port must be"),
    ],
)
def test_terraform_refuses_bad_variables(variables: dict[str, Any], message: str) -> None:
    with stack_session("abwv", "198.19.9.0/24", apply=False) as stack:
        stack.variables.update(variables)
        proc = stack.terraform("plan", "-input=false", *stack.var_args())
        assert proc.returncode != 0
        assert message in " ".join((proc.stdout + proc.stderr).split())


def test_interrupting_terraform_apply_half_way_leaves_nothing_behind() -> None:
    """Terraform SIGKILLs the provisioner's shell on interrupt; the script must notice."""
    with stack_session("abwk", "198.19.11.0/24", apply=False) as stack:
        proc = subprocess.Popen(
            ["terraform", f"-chdir={MODULE}", "apply", "-auto-approve", "-no-color",
             "-state", str(stack.workdir / "terraform.tfstate"), *stack.var_args()],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=stack.env({"ABW_TEST_PAUSE_AT": "app"}),
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            seen = []
            for line in proc.stdout:  # bounded by the test's timeout
                seen.append(line)
                if "paused after host app" in line:
                    break
            assert any("paused after host app" in line for line in seen), "".join(seen)
            proc.send_signal(signal.SIGINT)  # to terraform alone, as a supervisor would
            proc.communicate(timeout=90)
            assert proc.returncode != 0
            assert _eventually_empty("abwk") == []
            assert not (stack.state_dir / "ssh").exists()
        finally:
            if proc.poll() is None:
                proc.kill()


def _eventually_empty(prefix: str, within_s: float = 30) -> list[str]:
    """leftovers(prefix) once the rollback has had time to finish (bounded wait)."""
    end = time.monotonic() + within_s
    while (left := leftovers(prefix)) and time.monotonic() < end:
        time.sleep(0.5)
    return left
