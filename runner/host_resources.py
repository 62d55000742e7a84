#!/usr/bin/env python3
"""A host's resources on any Linux: CPUs, memory limit, usage and peak, CPU time, OOM
kills and throttling, read from cgroup v1, cgroup v2 or (a VM) the whole machine's /proc.

Standard library only, one file: the runner imports it as `runner.host_resources`, the
probe is copied to each host together with it, and `playbooks/files/host_resources.py` and
`infra/local/scripts/host_resources.py` are symlinks to this file (one implementation,
nothing to drift; tests/runner/test_host_resources_copies.py checks it).

Readers (what a process on a host sees), picked by `detect()`:
  CgroupV1   the host is a set of v1 cgroups (infra/local on a v1 machine)
  CgroupV2   the host is one cgroup of the unified hierarchy (infra/local on a v2 machine)
  Machine    the host is the whole machine (a cloud VM, or a process in no capped cgroup)
Writers (how infra/local caps its hosts): `V1Hosts` and `V2Hosts`, picked by `host_cgroups()`.
Every hierarchy's own file names live in its class only; callers speak of concepts.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

# The benchmarking range (RFC 2544, never routed on the internet): local hosts live here only.
LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")
MIB = 1 << 20
NO_LIMIT = 1 << 60  # cgroup v1 reports "no limit" as a huge page-aligned number
HOST_CONTROLLERS = ("cpuset", "cpu", "memory")  # what a host's caps need, by concept


# -- CPU lists ----------------------------------------------------------------------------
def parse_cpulist(text: str) -> set[int]:
    """'0-2,5' -> {0, 1, 2, 5} (the kernel's list format; empty text is no CPU)."""
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def format_cpulist(cpus) -> str:
    """{0, 1, 5} -> '0,1,5' (the kernel accepts a plain comma list)."""
    return ",".join(str(c) for c in sorted(cpus))


def count_cpus(text: str) -> int:
    """How many CPUs a list such as '0-1,4' names."""
    return len(parse_cpulist(text))


# -- small readers ------------------------------------------------------------------------
def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


def _keyed(text: str | None) -> dict[str, int]:
    """'key value' lines (memory.events, cpu.stat, /proc/vmstat) as a dict of ints."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _mib(value: int | None) -> float | None:
    return round(value / MIB, 1) if value is not None else None


def proc_cgroups(proc: Path = PROC, pid: str = "self") -> dict[str, str]:
    """/proc/PID/cgroup as {controller: path}; the unified hierarchy's line is key ''."""
    paths: dict[str, str] = {}
    for line in (_read(proc / pid / "cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(","):
            paths[controller] = path
    return paths


# -- readers ------------------------------------------------------------------------------
class Resources:
    """What a host has and has used; subclasses read one kind of host. Values are None
    where that kind of host has no such figure."""

    source = "machine"

    def __init__(self, proc: Path = PROC) -> None:
        self.proc = proc

    def cgroup_cpuset(self) -> str | None:
        """The CPUs the host's cgroup allows (None outside a cpuset cgroup)."""
        return None

    def cpuset(self) -> str | None:
        """The CPUs the host may use, as a kernel CPU list."""
        if self.cgroup_cpuset():
            return self.cgroup_cpuset()
        for line in (_read(self.proc / "self" / "status") or "").splitlines():
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
        return None

    def cpus(self) -> int:
        """How many CPUs the host may use."""
        cpuset = self.cpuset()
        return count_cpus(cpuset) if cpuset else os.cpu_count() or 1

    def cpu_quota(self) -> float | None:
        """CPUs' worth of time the host may use per period (a bandwidth cap), or None."""
        return None

    def memory_limit(self) -> int | None:
        """Bytes of memory the host may use."""
        return self.machine_memory()

    def memory_usage(self) -> int | None:
        """Bytes in use now."""
        info = self._meminfo()
        if "MemTotal" in info and "MemAvailable" in info:
            return (info["MemTotal"] - info["MemAvailable"]) * 1024
        return None

    def memory_peak(self) -> int | None:
        """Most bytes ever in use (None where the kernel keeps no such figure)."""
        return None

    def limit_hits(self) -> int | None:
        """How often usage reached the memory limit."""
        return None

    def oom_kills(self) -> int | None:
        """Processes the kernel's OOM killer ended on this host."""
        return _keyed(_read(self.proc / "vmstat")).get("oom_kill")

    def cpu_seconds(self) -> float | None:
        """CPU time used by everything on the host so far, in seconds."""
        stat = self._proc_stat()
        busy = sum(v for k, v in stat.items() if k not in ("idle", "iowait", "steal"))
        return busy / os.sysconf("SC_CLK_TCK") if stat else None

    def throttling(self) -> dict[str, float | None]:
        """How often and how long a CPU bandwidth cap held the host back."""
        return {"periods": None, "throttled": None, "throttled_s": None}

    def steal_seconds(self) -> float:
        """Time the hypervisor ran something else on the machine's CPUs (all CPUs)."""
        return self._proc_stat().get("steal", 0) / os.sysconf("SC_CLK_TCK")

    def contains(self, pid: str) -> bool:
        """Whether process `pid` (of a shared /proc) belongs to this host."""
        return True

    def procs_cpu_seconds(self) -> float:
        """CPU time of this host's live processes from /proc/PID/stat (utime + stime, every
        thread included, plus the reaped children's cutime + cstime): the figure the
        cgroup's accounting is checked against."""
        pids = [p for p in filter(str.isdigit, os.listdir(self.proc)) if self.contains(p)]
        return self.pids_cpu_seconds(pids, children=True)

    def pids_cpu_seconds(self, pids: list[str], children: bool = False) -> float:
        """utime + stime (and, with `children`, cutime + cstime) of processes `pids`."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in pids:
            text = _read(self.proc / pid / "stat")
            if not text:  # gone since the listing
                continue
            # Field 2 (comm) may hold spaces: the fields after it start past its ')'.
            fields = text.rpartition(")")[2].split()
            total += sum(int(v) for v in fields[11 : 15 if children else 13])
        return total / tick

    def softirq_pids(self) -> list[str]:
        """The kernel's ksoftirqd threads of this host's CPUs: network work they do for
        the stack is not in its cgroups, and is not other work either."""
        mine = parse_cpulist(self.cpuset() or "") or None
        out = []
        for pid in filter(str.isdigit, os.listdir(self.proc)):
            comm = _read(self.proc / pid / "comm") or ""
            cpu = comm.partition("/")[2]
            if (
                comm.startswith("ksoftirqd/")
                and cpu.isdigit()
                and (mine is None or int(cpu) in mine)
            ):
                out.append(pid)
        return out

    def cpus_busy_steal(self) -> tuple[float, float]:
        """(busy, steal) seconds of the machine's CPUs this host may use, from
        /proc/stat's per-CPU lines: busy is user, nice and system time."""
        mine = parse_cpulist(self.cpuset() or "") or None
        tick = os.sysconf("SC_CLK_TCK")
        busy = steal = 0
        for line in (_read(self.proc / "stat") or "").splitlines():
            name, _, rest = line.partition(" ")
            if not name.startswith("cpu") or name == "cpu":
                continue
            if mine is not None and int(name[3:]) not in mine:
                continue
            v = [int(x) for x in rest.split()]
            # user nice system: interrupt time is left out (with IRQ time accounting
            # it is charged to no cgroup, and the stack's own network traffic causes it)
            busy += sum(v[:3])
            steal += v[7] if len(v) > 7 else 0
        return busy / tick, steal / tick

    def stack_cpu_seconds(self) -> float | None:
        """CPU time the whole stack (this host's parent cgroup: every host of it) spent
        on this host's CPUs; None where no per-CPU figure exists (cgroup v2, a whole
        machine): the host's own CPU time then stands in (the stack's hosts are given
        disjoint CPUs)."""
        return None

    def window_reading(
        self, procs: bool = False, kernel_pids: list[str] | None = None
    ) -> dict[str, float | None]:
        """One reading of what a timed window needs: the host's CPU, the stack's, the
        kernel threads' (`kernel_pids`) and the machine's busy and steal time on the
        host's CPUs (and the /proc sum if asked)."""
        busy, steal = self.cpus_busy_steal()
        return {
            "cpu_s": self.cpu_seconds(),
            "stack_s": self.stack_cpu_seconds(),
            "kernel_s": self.pids_cpu_seconds(kernel_pids or []),
            "busy_s": busy,
            "steal_s": steal,
            "procs_s": self.procs_cpu_seconds() if procs else None,
        }

    def cgroup(self) -> str | None:
        """The host's cgroup path (None for the whole machine)."""
        return None

    def machine_memory(self) -> int | None:
        """The machine's memory in bytes (MemTotal)."""
        total = self._meminfo().get("MemTotal")
        return total * 1024 if total is not None else None

    def memory(self) -> dict[str, object]:
        """Limit, usage and peak in MiB, limit hits and OOM kills, and where they come from."""
        return {
            "source": self.source,
            "cgroup": self.cgroup(),
            "limit_mib": _mib(self.memory_limit()),
            "usage_mib": _mib(self.memory_usage()),
            "peak_mib": _mib(self.memory_peak()),
            "limit_hits": self.limit_hits(),
            "oom_kills": self.oom_kills(),
        }

    def _meminfo(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in (_read(self.proc / "meminfo") or "").splitlines():
            key, _, rest = line.partition(":")
            if rest.split() and rest.split()[0].isdigit():
                out[key] = int(rest.split()[0])
        return out

    def _proc_stat(self) -> dict[str, int]:
        first = ((_read(self.proc / "stat") or "").splitlines() or [""])[0].split()
        names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
        # zip without strict=: hosts may run a system Python older than 3.10.
        return dict(zip(names, (int(v) for v in first[1:])))  # noqa: B905


class Machine(Resources):
    """The whole machine from /proc: a cloud host, where the host is a VM."""


class CgroupV1(Resources):
    """A host made of cgroup v1 cgroups (one per controller, named in /proc/self/cgroup)."""

    source = "cgroup v1"
    CONTROLLERS = ("cpuset", "cpu", "cpuacct", "memory")  # one folder tree each
    MEMORY_LIMIT = "memory.limit_in_bytes"  # named here so tests need not spell it
    PER_CPU_USAGE = "cpuacct.usage_percpu"  # (the same)

    def __init__(self, paths: dict[str, str], root: Path = CGROUP_ROOT, proc: Path = PROC):
        super().__init__(proc)
        self.paths, self.root = paths, root

    def _dir(self, controller: str) -> Path | None:
        path = self.paths.get(controller, "/")
        return None if path == "/" else self.root / controller / path.lstrip("/")

    def _file(self, controller: str, name: str) -> str | None:
        folder = self._dir(controller)
        return _read(folder / name) if folder else None

    def cgroup_cpuset(self) -> str | None:
        return self._file("cpuset", "cpuset.cpus")

    def cpu_quota(self) -> float | None:
        quota = self._file("cpu", "cpu.cfs_quota_us")
        period = _int(self._file("cpu", "cpu.cfs_period_us"))
        if quota and period and quota.isdigit() and int(quota) > 0:
            return round(int(quota) / period, 3)
        return None

    def memory_limit(self) -> int | None:
        limit = _int(self._file("memory", self.MEMORY_LIMIT))
        machine = self.machine_memory()
        if limit is None or limit >= NO_LIMIT or (machine and limit >= machine):
            return machine
        return limit

    def memory_usage(self) -> int | None:
        if self._dir("memory") is None:
            return super().memory_usage()
        return _int(self._file("memory", "memory.usage_in_bytes"))

    def memory_peak(self) -> int | None:
        return _int(self._file("memory", "memory.max_usage_in_bytes"))

    def limit_hits(self) -> int | None:
        return _int(self._file("memory", "memory.failcnt"))

    def oom_kills(self) -> int | None:
        if self._dir("memory") is None:
            return super().oom_kills()
        return _keyed(self._file("memory", "memory.oom_control")).get("oom_kill")

    def cpu_seconds(self) -> float | None:
        usage_ns = _int(self._file("cpuacct", "cpuacct.usage"))
        return usage_ns / 1e9 if usage_ns is not None else super().cpu_seconds()

    def stack_cpu_seconds(self) -> float | None:
        folder = self._dir("cpuacct")
        if folder is None:
            return None
        per_cpu = (_read(folder.parent / self.PER_CPU_USAGE) or "").split()
        mine = parse_cpulist(self.cpuset() or "")
        ns = [int(v) for i, v in enumerate(per_cpu) if i in mine and v.isdigit()]
        return sum(ns) / 1e9 if ns else None

    def throttling(self) -> dict[str, float | None]:
        stat = _keyed(self._file("cpu", "cpu.stat"))
        if not stat:
            return super().throttling()
        ns = stat.get("throttled_time")
        return {
            "periods": stat.get("nr_periods"),
            "throttled": stat.get("nr_throttled"),
            "throttled_s": ns / 1e9 if ns is not None else None,
        }

    def contains(self, pid: str) -> bool:
        mine = self.paths.get("cpuset", "/")
        if mine == "/":
            return True
        return f":cpuset:{mine}\n" in (_read(self.proc / pid / "cgroup") or "") + "\n"

    def cgroup(self) -> str | None:
        for controller in self.CONTROLLERS:
            if self.paths.get(controller, "/") != "/":
                return self.paths[controller]
        return None


class CgroupV2(Resources):
    """A host that is one cgroup of the unified hierarchy (cgroup v2)."""

    source = "cgroup v2"

    def __init__(self, path: str, root: Path = CGROUP_ROOT, proc: Path = PROC):
        super().__init__(proc)
        self.path, self.root = path, root
        self.dir = root / path.lstrip("/")

    def _file(self, name: str) -> str | None:
        return _read(self.dir / name)

    def cgroup_cpuset(self) -> str | None:
        return self._file("cpuset.cpus.effective")

    def cpu_quota(self) -> float | None:
        quota, _, period = (self._file("cpu.max") or "max").partition(" ")
        if quota.isdigit() and period.isdigit() and int(period) > 0:
            return round(int(quota) / int(period), 3)
        return None

    def memory_limit(self) -> int | None:
        limit = _int(self._file("memory.max"))  # "max" is no limit
        machine = self.machine_memory()
        if limit is None or (machine and limit >= machine):
            return machine
        return limit

    def memory_usage(self) -> int | None:
        return _int(self._file("memory.current"))

    def memory_peak(self) -> int | None:
        return _int(self._file("memory.peak"))  # kernels >= 5.19 only

    def limit_hits(self) -> int | None:
        return _keyed(self._file("memory.events")).get("max")

    def oom_kills(self) -> int | None:
        return _keyed(self._file("memory.events")).get("oom_kill")

    def cpu_seconds(self) -> float | None:
        usec = _keyed(self._file("cpu.stat")).get("usage_usec")
        return usec / 1e6 if usec is not None else super().cpu_seconds()

    def throttling(self) -> dict[str, float | None]:
        stat = _keyed(self._file("cpu.stat"))
        usec = stat.get("throttled_usec")
        return {
            "periods": stat.get("nr_periods"),
            "throttled": stat.get("nr_throttled"),
            "throttled_s": usec / 1e6 if usec is not None else None,
        }

    def contains(self, pid: str) -> bool:
        return f"0::{self.path}\n" in (_read(self.proc / pid / "cgroup") or "") + "\n"

    def cgroup(self) -> str | None:
        return self.path


def detect(proc: Path = PROC, root: Path = CGROUP_ROOT, pid: str = "self") -> Resources:
    """The reader for process `pid`'s host: its v1 cgroups when it is in any below the
    root, else its v2 cgroup when that one is capped (CPUs or memory set on it), else the
    whole machine (a VM, or a session cgroup that caps nothing)."""
    paths = proc_cgroups(proc, pid)
    if any(paths.get(c, "/") != "/" for c in CgroupV1.CONTROLLERS if c != "cpu"):
        return CgroupV1(paths, root, proc)
    unified = paths.get("", "/")
    if unified != "/" and (root / "cgroup.controllers").exists():
        folder = root / unified.lstrip("/")
        if _read(folder / "cpuset.cpus") or _int(_read(folder / "memory.max")) is not None:
            return CgroupV2(unified, root, proc)
    return Machine(proc)


# -- writers: how infra/local makes and removes its hosts' cgroups ------------------------
class Files:
    """The file operations the writers use (tests replace it to record them in order)."""

    def read(self, path: Path) -> str:
        """A control file's text."""
        return path.read_text()

    def write(self, path: Path, text: str) -> None:
        """Write a control file (one write, as the kernel expects)."""
        path.write_text(text)

    def mkdir(self, path: Path) -> None:
        """Create a cgroup."""
        path.mkdir()

    def rmdir(self, path: Path) -> None:
        """Remove an empty cgroup (the kernel refuses while a process is in it)."""
        path.rmdir()


class HostCgroups:
    """Caps a stack's hosts in cgroups named PREFIX/HOST; one subclass per hierarchy."""

    hierarchy = ""

    def __init__(self, root: Path = CGROUP_ROOT, files: Files | None = None) -> None:
        self.root, self.files = root, files or Files()

    def problem(self) -> str | None:
        """Why hosts cannot be capped in this hierarchy here, or None."""
        raise NotImplementedError

    def machine_cpus(self) -> set[int]:
        """The CPUs this machine offers to cgroups."""
        raise NotImplementedError

    def create_parent(self, prefix: str, cpus: set[int]) -> None:
        """The stack's own cgroup PREFIX, allowed every CPU of its hosts."""
        raise NotImplementedError

    def create_host(self, prefix: str, short: str, cpus: set[int], memory_bytes: int) -> None:
        """PREFIX/SHORT with its CPUs and memory limit (no swap beyond it)."""
        raise NotImplementedError

    def procs_files(self, prefix: str, short: str) -> list[Path]:
        """Where a process writes its pid to become part of host SHORT."""
        raise NotImplementedError

    def folders(self, prefix: str) -> list[Path]:
        """The stack's cgroup folders that exist now (one per hierarchy mount)."""
        raise NotImplementedError

    def pids(self, prefix: str) -> set[int]:
        """Every process in the stack's cgroups."""
        pids: set[int] = set()
        for base in self.folders(prefix):
            for dirpath, _, _ in os.walk(base):
                for name in ("cgroup.procs", "tasks"):
                    try:
                        text = self.files.read(Path(dirpath) / name)
                    except (OSError, ValueError):
                        continue
                    pids.update(int(p) for p in text.split() if p.isdigit())
        return pids

    def remove(self, prefix: str, on_busy: Callable[[], None]) -> list[str]:
        """rmdir the stack's cgroups deepest first; `on_busy` runs (kill, wait) while the
        kernel refuses because a process is still exiting. Returns what is left."""
        left: list[str] = []
        for base in self.folders(prefix):
            dirs = [Path(d) for d, _, _ in os.walk(base)]
            for folder in sorted(dirs, key=lambda p: (-len(p.parts), str(p))):
                for _ in range(100):
                    try:
                        self.files.rmdir(folder)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        on_busy()
                else:
                    left.append(str(folder))
        return left


class V1Hosts(HostCgroups):
    """cgroup v1: one folder per controller, the cpuset's parent set before its children."""

    hierarchy = "cgroup v1"
    CONTROLLERS = CgroupV1.CONTROLLERS

    def problem(self) -> str | None:
        for ctrl in self.CONTROLLERS:
            if not (self.root / ctrl / "cgroup.procs").exists():
                return f"cgroup v1 controller {ctrl} is not mounted at {self.root / ctrl}"
        return None

    def machine_cpus(self) -> set[int]:
        return parse_cpulist(self.files.read(self.root / "cpuset" / "cpuset.cpus"))

    def create_parent(self, prefix: str, cpus: set[int]) -> None:
        for ctrl in self.CONTROLLERS:
            self.files.mkdir(self.root / ctrl / prefix)
        cpuset = self.root / "cpuset" / prefix
        self.files.write(cpuset / "cpuset.cpus", format_cpulist(cpus))
        mems = self.files.read(self.root / "cpuset" / "cpuset.mems").strip()
        self.files.write(cpuset / "cpuset.mems", mems)

    def create_host(self, prefix: str, short: str, cpus: set[int], memory_bytes: int) -> None:
        for ctrl in self.CONTROLLERS:
            self.files.mkdir(self.root / ctrl / prefix / short)
        cpuset = self.root / "cpuset" / prefix / short
        self.files.write(cpuset / "cpuset.cpus", format_cpulist(cpus))
        mems = self.files.read(self.root / "cpuset" / prefix / "cpuset.mems").strip()
        self.files.write(cpuset / "cpuset.mems", mems)
        memory = self.root / "memory" / prefix / short
        self.files.write(memory / CgroupV1.MEMORY_LIMIT, str(memory_bytes))
        memsw = memory / "memory.memsw.limit_in_bytes"
        if memsw.exists():  # only with swap accounting; the cap then holds for swap too
            self.files.write(memsw, str(memory_bytes))

    def procs_files(self, prefix: str, short: str) -> list[Path]:
        return [self.root / c / prefix / short / "cgroup.procs" for c in self.CONTROLLERS]

    def folders(self, prefix: str) -> list[Path]:
        dirs = [self.root / c / prefix for c in self.CONTROLLERS]
        return [d for d in dirs if d.is_dir()]


class V2Hosts(HostCgroups):
    """cgroup v2: one folder per host in the unified hierarchy. Controllers are enabled
    top-down in each parent's cgroup.subtree_control, and processes live only in the
    leaves (PREFIX holds no process: a cgroup with enabled children may not)."""

    hierarchy = "cgroup v2"

    def _controllers(self, folder: Path, name: str) -> set[str]:
        try:
            return set(self.files.read(folder / name).split())
        except OSError:
            return set()

    def problem(self) -> str | None:
        if not (self.root / "cgroup.controllers").exists():
            return f"no cgroup v2 hierarchy at {self.root}"
        have = self._controllers(self.root, "cgroup.controllers")
        missing = [c for c in HOST_CONTROLLERS if c not in have]
        if missing:
            return (
                f"cgroup v2 at {self.root} lacks the {', '.join(missing)} controller"
                f"{'s' if len(missing) > 1 else ''} (it has: {' '.join(sorted(have)) or 'none'}); "
                "they may be bound to a v1 hierarchy: boot with systemd.unified_cgroup_hierarchy=1"
            )
        return None

    def machine_cpus(self) -> set[int]:
        return parse_cpulist(self.files.read(self.root / "cpuset.cpus.effective"))

    def _enable(self, folder: Path) -> None:
        missing = [
            c
            for c in HOST_CONTROLLERS
            if c not in self._controllers(folder, "cgroup.subtree_control")
        ]
        if missing:
            self.files.write(folder / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))

    def create_parent(self, prefix: str, cpus: set[int]) -> None:
        self._enable(self.root)
        parent = self.root / prefix
        self.files.mkdir(parent)
        self.files.write(parent / "cpuset.cpus", format_cpulist(cpus))
        mems = self.files.read(self.root / "cpuset.mems.effective").strip()
        self.files.write(parent / "cpuset.mems", mems)
        self._enable(parent)

    def create_host(self, prefix: str, short: str, cpus: set[int], memory_bytes: int) -> None:
        host = self.root / prefix / short
        self.files.mkdir(host)
        self.files.write(host / "cpuset.cpus", format_cpulist(cpus))
        mems = self.files.read(self.root / prefix / "cpuset.mems.effective").strip()
        self.files.write(host / "cpuset.mems", mems)
        self.files.write(host / "memory.max", str(memory_bytes))
        if (host / "memory.swap.max").exists():  # as v1's memsw cap: no swap beyond the limit
            self.files.write(host / "memory.swap.max", "0")

    def procs_files(self, prefix: str, short: str) -> list[Path]:
        return [self.root / prefix / short / "cgroup.procs"]

    def folders(self, prefix: str) -> list[Path]:
        folder = self.root / prefix
        return [folder] if folder.is_dir() else []


def hierarchy(root: Path = CGROUP_ROOT) -> str:
    """Which cgroup hierarchy is mounted at `root`: 'cgroup v1', 'cgroup v2', 'hybrid'
    (v1 controllers and an empty unified tree, as systemd's hybrid mode), or 'none'."""
    v1 = (root / "cpuset" / "cgroup.procs").exists() or (root / "memory" / "cgroup.procs").exists()
    if (root / "cgroup.controllers").exists():
        return "cgroup v2"
    if v1:
        return "hybrid" if (root / "unified" / "cgroup.controllers").exists() else "cgroup v1"
    return "none"


def host_cgroups(root: Path = CGROUP_ROOT, files: Files | None = None) -> HostCgroups:
    """The writer for this machine: v1 where its controllers are mounted, else v2.
    Raises ValueError with one line when neither can cap hosts."""
    v1, v2 = V1Hosts(root, files), V2Hosts(root, files)
    if hierarchy(root) == "cgroup v2":
        if v2.problem():
            raise ValueError(str(v2.problem()))
        return v2
    if not v1.problem():
        return v1
    if hierarchy(root) == "none":
        raise ValueError(
            f"no cgroup hierarchy at {root} (neither cgroup v1 controllers nor cgroup v2): "
            "mount cgroup2 there (mount -t cgroup2 none /sys/fs/cgroup)"
        )
    raise ValueError(str(v1.problem()))


def every_host_cgroups(root: Path = CGROUP_ROOT, files: Files | None = None) -> list[HostCgroups]:
    """A writer for each hierarchy mounted here (a sweep removes leftovers in all of them)."""
    out: list[HostCgroups] = []
    if (root / "cpuset").is_dir() or (root / "memory").is_dir():
        out.append(V1Hosts(root, files))
    if (root / "cgroup.controllers").exists():
        out.append(V2Hosts(root, files))
    elif (root / "unified" / "cgroup.controllers").exists():
        out.append(V2Hosts(root / "unified", files))
    return out
