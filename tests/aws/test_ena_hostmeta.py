"""The ENA allowance reader and the host metadata reader, on recorded outputs: the
`ethtool -S` text of an ENA interface (as AWS documents it) before and after a throttled
repetition, a veth's, and an IMDS tree served by the fake IMDS on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner import ena, hostmeta
from runner.inventory import host_from_vars
from runner.model import Sample
from tests.fixtures.hosts import kill_quietly

DATA = Path(__file__).with_name("data")
FAKE_IMDS = Path(__file__).with_name("fake_imds.py")


def _reading(name: str) -> ena.Allowances:
    return ena.parse_reading((DATA / name).read_text())


def test_parse_an_ena_reading() -> None:
    before = _reading("reading-ens5-before.txt")
    assert before.interface == "ens5"
    assert before.exceeded == {
        "bw_in_allowance_exceeded": 0,
        "bw_out_allowance_exceeded": 0,
        "pps_allowance_exceeded": 0,
        "conntrack_allowance_exceeded": 0,
        "linklocal_allowance_exceeded": 0,
    }
    assert before.conntrack_available == 450878


def test_a_throttled_repetition_is_invalid_with_the_counters() -> None:
    before = {"abw-app": _reading("reading-ens5-before.txt")}
    after = {"abw-app": _reading("reading-ens5-after.txt")}
    why, record = ena.judge(before, after)
    assert why == (
        "network allowance exceeded during the repetition: "
        "abw-app conntrack_allowance_exceeded +12 (tracked connections), "
        "abw-app pps_allowance_exceeded +1834 (packets per second)"
    )
    assert record["abw-app"]["grew"] == {
        "pps_allowance_exceeded": 1834,
        "conntrack_allowance_exceeded": 12,
    }
    assert record["abw-app"]["conntrack_available"] == 0


def test_unchanged_counters_and_other_drivers_are_fine() -> None:
    same = {"abw-app": _reading("reading-ens5-after.txt")}
    assert ena.judge(same, same)[0] == ""
    veth = _reading("reading-veth.txt")
    assert veth.interface == "eth0" and veth.exceeded == {} and veth.conntrack_available is None
    assert ena.judge({"h": veth}, {"h": veth}) == (
        "",
        {"h": {"interface": "eth0", "exceeded": {}, "conntrack_available": None, "grew": {}}},
    )


def test_a_reset_counter_counts_from_zero() -> None:
    high = ena.Allowances("ens5", {"pps_allowance_exceeded": 500})
    low = ena.Allowances("ens5", {"pps_allowance_exceeded": 3})
    assert ena.growth(high, low) == {"pps_allowance_exceeded": 3}


def test_the_command_runs_and_sends_nothing() -> None:
    """Run for real here: it names the default route's interface (or none) and exits 0
    whether or not ethtool exists."""
    proc = subprocess.run(
        ["sh", "-c", ena.COMMAND], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("interface: ")
    assert ena.parse_reading(proc.stdout).interface != ""


@pytest.fixture
def imds_url(tmp_path: Path) -> Iterator[str]:
    """The fake IMDS on this machine's loopback, serving the recorded tree."""
    ready = tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_IMDS), "--root", str(DATA / "imds"), "--ready", str(ready)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # bounded: at most ~10 s
            if ready.exists() and ready.read_text():
                break
            time.sleep(0.1)
        else:
            pytest.fail("the fake IMDS did not start")
        yield f"http://127.0.0.1:{ready.read_text()}"
    finally:
        kill_quietly(proc.pid)
        proc.wait(timeout=10)


def test_aws_host_metadata_from_imds_and_proc(imds_url: str) -> None:
    proc = subprocess.run(
        ["sh", "-c", hostmeta.command("aws", imds=imds_url)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    meta = hostmeta.parse(proc.stdout)
    assert meta["instance_id"] == "i-0a1b2c3d4e5f60718"
    assert meta["instance_type"] == "m6i.xlarge"
    assert meta["ami_id"] == "ami-0e1f2a3b4c5d6e7f8"
    assert meta["availability_zone"] == "us-east-1b"
    assert meta["availability_zone_id"] == "use1-az4"
    assert meta["region"] == "us-east-1"
    assert (
        meta["clocksource"]
        == Path("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .read_text()
        .strip()
    )
    assert meta["cpu_model"] and "kernel" in meta


def test_local_hosts_never_ask_imds() -> None:
    text = hostmeta.command("")
    assert "169.254" not in text and "curl" not in text
    meta = hostmeta.parse(
        subprocess.run(["sh", "-c", text], capture_output=True, text=True, check=True).stdout
    )
    assert set(meta) == {"cpu_model", "microcode", "clocksource", "kernel"}


def test_parse_recorded_metadata() -> None:
    text = (
        "cpu_model= Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\n"
        "microcode= 0xd0003e7\nclocksource=kvm-clock\nkernel=6.1.0-28-cloud-amd64\n"
        "imds.instance-id=\nimds.availability_zone_id=use1-az6\nnoise\n"
    )
    meta = hostmeta.parse(text)
    assert meta["cpu_model"] == "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    assert meta["microcode"] == "0xd0003e7" and meta["clocksource"] == "kvm-clock"
    assert meta["instance-id"] is None and meta["availability_zone_id"] == "use1-az6"


def _sample(status: str = "ok", reason: str = "") -> Sample:
    return Sample(
        run_id="r", mode="asgi", view="original", scenario="io", path="/async/",
        concurrency=80, requests=1000, repeat=1, rps=900.0, status=status, reason=reason,
    )  # fmt: skip


def test_bench_marks_a_throttled_repetition_invalid() -> None:
    """ena.note, as the runner's measure step calls it around each repetition."""
    before = {"abw-app": _reading("reading-ens5-before.txt")}
    after = {"abw-app": _reading("reading-ens5-after.txt")}
    sample = _sample(reason="2 failed requests (timeouts)")
    ena.note(sample, before, after)
    assert sample.status == "invalid" and not sample.valid
    assert sample.reason.startswith("network allowance exceeded during the repetition: ")
    assert sample.reason.endswith("; 2 failed requests (timeouts)")
    assert sample.extra["network_allowances"]["abw-app"]["grew"]["pps_allowance_exceeded"] == 1834


def test_bench_keeps_a_clean_repetition_and_ignores_local_hosts() -> None:
    clean = {"abw-app": _reading("reading-ens5-after.txt")}
    sample = _sample()
    ena.note(sample, clean, clean)
    assert sample.status == "ok" and sample.valid
    assert sample.extra["network_allowances"]["abw-app"]["grew"] == {}
    local = _sample()
    ena.note(local, {}, {})
    assert local.status == "ok" and "network_allowances" not in local.extra


def test_inventory_marks_cloud_hosts() -> None:
    hostvars = {
        "ansible_host": "3.90.1.2",
        "private_address": "10.77.0.10",
        "bench_root": "/opt/asgi-wsgi-bench",
        "bench_cloud": "aws",
        "bench_ssh_agent": True,
    }
    host = host_from_vars("abw-app", hostvars)
    assert host.cloud == "aws" and host.allow_agent
    plain = host_from_vars("l", {k: v for k, v in hostvars.items() if not k.startswith("bench_c")})
    assert plain.cloud == ""
