"""The metadata and ENA commands run for real over SSH on a namespace host (what
the runner's Session runs on every host): they exit 0, and their output parses. A local
host has no ENA interface and is never asked for IMDS."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from runner import ena, hostmeta
from runner.inventory import load_inventory
from runner.plan import PlanOptions, build_plan
from runner.results import RunStore
from runner.session import Session
from runner.targets.base import Deployed
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


def test_bench_reads_allowances_only_on_cloud_hosts(
    local_stack: TerraformStack, tmp_path: Path
) -> None:
    """The Session's reader over its real SSH connections: nothing for local hosts; a
    host marked bench_cloud: aws is read (a veth here: no counters, never invalid)."""
    inventory = load_inventory(local_stack.inventory_path)
    plan = build_plan(PlanOptions(preset="smoke", inventory=str(local_stack.inventory_path)))
    bench = Session(plan, inventory, RunStore(tmp_path, "r1"))
    bench.open()
    try:
        bench._record_metadata(Deployed("asgi", {}, {"versions": {}}))
        meta = json.loads((tmp_path / "r1" / "results.json").read_text())["metadata"]
        machine = meta["hosts"][inventory.app.name]["machine"]
        assert set(machine) == {"cpu_model", "microcode", "clocksource", "kernel"}
        assert machine["clocksource"] and machine["kernel"]
        assert bench._allowances() == {}
        assert bench.app is not None
        bench.app.host = replace(bench.app.host, cloud="aws")
        readings = bench._allowances()
        assert set(readings) == {inventory.app.name}
        assert readings[inventory.app.name].exceeded == {}
    finally:
        bench.close()
