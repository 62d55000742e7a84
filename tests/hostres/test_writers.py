"""infra/local's cgroup writers: v2 creation and removal checked operation by operation on
a fake kernel-like tree laid out from a recorded v2 machine; the refusals for a hierarchy
that cannot cap hosts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner import host_resources as hr
from tests.hostres.fakecgroup import FakeV2

DATA = Path(__file__).with_name("data")
EMPTY_V2 = DATA / "v2" / "sys" / "fs" / "cgroup"
MIB = 1 << 20


@pytest.fixture
def fake(tmp_path: Path) -> FakeV2:
    """The recorded v2 machine without the stack on it (root: cpuset not yet enabled)."""
    files = FakeV2(EMPTY_V2, tmp_path)
    for name in ("abw", "user.slice"):
        shutil.rmtree(files.root / name)
    return files


def make_stack(tree: hr.HostCgroups) -> None:
    tree.create_parent("abw", {0, 1})
    tree.create_host("abw", "app", {0}, 256 * MIB)
    tree.create_host("abw", "lg1", {1}, 128 * MIB)


def test_v2_is_chosen_on_a_v2_machine_and_reads_its_cpus(fake: FakeV2) -> None:
    tree = hr.host_cgroups(fake.root, fake)
    assert isinstance(tree, hr.V2Hosts)
    assert tree.machine_cpus() == {0, 1, 2, 3}


def test_v2_creation_enables_controllers_top_down_then_caps_each_leaf(fake: FakeV2) -> None:
    tree = hr.host_cgroups(fake.root, fake)
    make_stack(tree)
    assert fake.ops == [
        ("write", "cgroup.subtree_control", "+cpuset"),  # cpu and memory were enabled
        ("mkdir", "abw"),
        ("write", "abw/cpuset.cpus", "0,1"),
        ("write", "abw/cpuset.mems", "0"),
        ("write", "abw/cgroup.subtree_control", "+cpuset +cpu +memory"),
        ("mkdir", "abw/app"),
        ("write", "abw/app/cpuset.cpus", "0"),
        ("write", "abw/app/cpuset.mems", "0"),
        ("write", "abw/app/memory.max", str(256 * MIB)),
        ("write", "abw/app/memory.swap.max", "0"),
        ("mkdir", "abw/lg1"),
        ("write", "abw/lg1/cpuset.cpus", "1"),
        ("write", "abw/lg1/cpuset.mems", "0"),
        ("write", "abw/lg1/memory.max", str(128 * MIB)),
        ("write", "abw/lg1/memory.swap.max", "0"),
    ]
    # sshd goes into the leaf only: the parent, having enabled children, may hold none.
    assert tree.procs_files("abw", "app") == [fake.root / "abw" / "app" / "cgroup.procs"]
    fake.write(fake.root / "abw" / "app" / "cgroup.procs", "4242")
    with pytest.raises(OSError, match="no internal processes"):
        fake.write(fake.root / "abw" / "cgroup.procs", "4242")
    # and what was written reads back through the v2 reader as the host's caps
    res = hr.CgroupV2("/abw/app", fake.root, DATA / "v2" / "proc")
    assert (res.cpus(), res.memory_limit()) == (1, 256 * MIB)


def test_v2_removal_empties_leaves_first_and_waits_for_processes(fake: FakeV2) -> None:
    tree = hr.host_cgroups(fake.root, fake)
    make_stack(tree)
    fake.write(fake.root / "abw" / "app" / "cgroup.procs", "4242")
    assert tree.pids("abw") == {4242}
    fake.ops.clear()
    killed: list[str] = []

    def kill() -> None:  # what localhosts does while the kernel refuses: kill, wait
        killed.append("kill")
        (fake.root / "abw" / "app" / "cgroup.procs").write_text("")

    assert tree.remove("abw", kill) == []
    assert killed == ["kill"]
    assert fake.ops == [
        ("rmdir", "abw/app"),  # busy: 4242 still in it
        ("rmdir", "abw/app"),
        ("rmdir", "abw/lg1"),
        ("rmdir", "abw"),
    ]
    assert tree.folders("abw") == []
    assert tree.remove("abw", kill) == []  # twice is harmless


def test_a_sweep_covers_every_hierarchy_mounted(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    for path in ("cpuset/cgroup.procs", "memory/cgroup.procs", "unified/cgroup.controllers"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("")
    kinds = [t.hierarchy for t in hr.every_host_cgroups(root)]
    assert kinds == ["cgroup v1", "cgroup v2"]  # systemd's hybrid: leftovers in either go
    (root / "cpuset" / "abw" / "app").mkdir(parents=True)
    (root / "unified" / "abw" / "app").mkdir(parents=True)
    found = [f for t in hr.every_host_cgroups(root) for f in t.folders("abw")]
    assert found == [root / "cpuset" / "abw", root / "unified" / "abw"]


def test_v2_without_cpuset_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError) as err:
        hr.host_cgroups(DATA / "v2-nocpuset" / "sys" / "fs" / "cgroup")
    line = str(err.value)
    assert "\n" not in line
    assert "lacks the cpuset controller" in line and "unified_cgroup_hierarchy" in line


def test_no_hierarchy_at_all_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^no cgroup hierarchy at .*mount cgroup2"):
        hr.host_cgroups(DATA / "none" / "sys" / "fs" / "cgroup")
