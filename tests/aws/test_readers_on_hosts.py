"""The metadata and ENA commands run for real over SSH on a namespace host (what
runner/bench.py runs on every host): they exit 0, and their output parses. A local
host has no ENA interface and is never asked for IMDS."""

from __future__ import annotations

from runner import ena, hostmeta
from tests.fixtures.hosts import TerraformStack


def test_host_metadata_on_a_local_host(local_stack: TerraformStack) -> None:
    proc = local_stack.ssh(local_stack.app, hostmeta.command(""), timeout=60)
    assert proc.returncode == 0, proc.stderr
    meta = hostmeta.parse(proc.stdout)
    assert set(meta) == {"cpu_model", "microcode", "clocksource", "kernel"}
    assert meta["cpu_model"] and meta["clocksource"] and meta["kernel"]


def test_allowances_on_a_local_host(local_stack: TerraformStack) -> None:
    proc = local_stack.ssh(local_stack.app, ena.COMMAND, timeout=60)
    assert proc.returncode == 0, proc.stderr
    reading = ena.parse_reading(proc.stdout)
    # Local hosts have no default route (network safety), so no interface is read and
    # nothing can make a repetition invalid there.
    assert proc.stdout.startswith("interface: none"), proc.stdout
    assert reading.interface == "none" and reading.exceeded == {}
