"""The readers of runner/host_resources.py: cgroup v2 and the whole machine against recorded
trees (this machine has cgroup v1 only), cgroup v1 for real on this machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner import host_resources as hr
from runner import probe

DATA = Path(__file__).with_name("data")
V2_ROOT, V2_PROC = DATA / "v2" / "sys" / "fs" / "cgroup", DATA / "v2" / "proc"
VM_PROC = DATA / "vm" / "proc"


def test_cpu_lists_parse_and_format_both_ways() -> None:
    assert hr.parse_cpulist("0-2,5,7-8\n") == {0, 1, 2, 5, 7, 8}
    assert hr.parse_cpulist("") == set()
    assert hr.format_cpulist({5, 0, 1}) == "0,1,5"
    assert hr.count_cpus("0-1,4") == 3


def test_a_v2_host_is_read_from_its_unified_cgroup() -> None:
    res = hr.detect(V2_PROC, V2_ROOT)
    assert isinstance(res, hr.CgroupV2)
    assert (res.cgroup(), res.cpuset(), res.cpus()) == ("/abw/app", "0", 1)
    assert res.memory() == {
        "source": "cgroup v2",
        "cgroup": "/abw/app",
        "limit_mib": 256.0,
        "usage_mib": 180.0,
        "peak_mib": 255.9,
        "limit_hits": 17,
        "oom_kills": 2,
    }
    assert res.cpu_seconds() == pytest.approx(41.234567)
    assert res.throttling() == {"periods": 120, "throttled": 7, "throttled_s": 0.35}
    assert res.cpu_quota() is None  # cpu.max "max 100000": no bandwidth cap


def test_a_v2_cpu_bandwidth_cap_is_read_from_cpu_max(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    shutil.copytree(V2_ROOT, root)
    (root / "abw" / "app" / "cpu.max").write_text("150000 100000\n")
    assert hr.detect(V2_PROC, root).cpu_quota() == 1.5


def test_a_kernel_without_memory_peak_gives_none_not_an_error(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    shutil.copytree(V2_ROOT, root)
    (root / "abw" / "app" / "memory.peak").unlink()  # kernels before 5.19
    assert hr.detect(V2_PROC, root).memory()["peak_mib"] is None


def test_v2_tells_this_hosts_processes_from_other_hosts() -> None:
    res = hr.detect(V2_PROC, V2_ROOT)
    assert res.contains("4242")
    assert not res.contains("4300")  # the load generator's
    assert not res.contains("99999")  # gone


def test_a_vm_is_the_whole_machine_from_proc() -> None:
    res = hr.detect(VM_PROC, V2_ROOT)  # a session cgroup that caps nothing
    assert isinstance(res, hr.Machine)
    assert (res.cgroup(), res.cpuset(), res.cpus()) == (None, "0-3", 4)
    mem = res.memory()
    assert mem["source"] == "machine"
    assert mem["limit_mib"] == pytest.approx(8000000 / 1024, abs=0.1)
    assert mem["usage_mib"] == pytest.approx(2000000 / 1024, abs=0.1)
    assert mem["oom_kills"] == 3  # /proc/vmstat oom_kill
    assert mem["peak_mib"] is None and mem["limit_hits"] is None
    hz = hr.os.sysconf("SC_CLK_TCK")
    assert res.cpu_seconds() == pytest.approx((100000 + 500 + 30000 + 1000) / hz)
    assert res.steal_seconds() == pytest.approx(700 / hz)


def test_the_machine_reader_works_without_any_cgroup() -> None:
    res = hr.Machine(VM_PROC)
    assert res.memory()["source"] == "machine" and res.cpus() == 4


def test_v1_on_this_machine_matches_the_kernels_own_files() -> None:
    if hr.hierarchy() not in ("cgroup v1", "hybrid"):
        pytest.skip("this machine has no cgroup v1 controllers")
    res = hr.detect()
    paths = hr.proc_cgroups()
    memory_dir = hr.CGROUP_ROOT / "memory" / paths["memory"].lstrip("/")
    raw = int((memory_dir / hr.CgroupV1.MEMORY_LIMIT).read_text())
    machine = hr.Machine().memory_limit()
    assert res.memory_limit() == (raw if raw < machine else machine)
    assert res.oom_kills() is not None and res.cpu_seconds() > 0


def test_the_probe_reports_concepts_not_one_hierarchys_file_names() -> None:
    out = probe.memory()
    assert set(out) == {"source", "cgroup", "limit_mib", "usage_mib", "peak_mib"} | {
        "limit_hits",
        "oom_kills",
    }
    assert out["source"] in ("cgroup v1", "cgroup v2", "machine")


def test_the_hierarchy_is_named_for_each_recorded_tree() -> None:
    assert hr.hierarchy(V2_ROOT) == "cgroup v2"
    assert hr.hierarchy(DATA / "none" / "sys" / "fs" / "cgroup") == "none"
    assert hr.hierarchy(DATA / "v2-nocpuset" / "sys" / "fs" / "cgroup") == "cgroup v2"
