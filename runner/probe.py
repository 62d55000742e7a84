#!/usr/bin/env python3
"""Measurements taken ON a host (stdlib only: it is copied to each host's bench_root).

Commands, each printing one JSON object:
  probe.py http URL            status, length, table rows and (for JSON) the body of a GET
  probe.py cpu                 CPU time of this host (its cgroup if it has one, else /proc/stat)
  probe.py specs               what this host has: CPU model, CPUs, memory, kernel
  probe.py procs NAME          count and resident memory of the processes named NAME
  probe.py memory              this host's memory cgroup: limit, usage, peak, failcnt, OOM kills
  probe.py counted URL N       N sequential GETs asking the app to count (X-Bench-Instrument:
                               1); status, length, thread hops and CPU ms of each
A host made by infra/local shares /proc with the machine, so what it "has" is read from its
own cgroup (the one sshd and this probe run in), not from /proc/cpuinfo or /proc/meminfo.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import sys
import time
import urllib.error
import urllib.request

CGROUP_ROOT = "/sys/fs/cgroup"


def _cgroup_paths() -> dict[str, str]:
    """controller -> path of this process's cgroup (v1), e.g. {'cpuset': '/abw/app'}."""
    paths: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for controller in controllers.split(","):
                    paths[controller] = path
    except OSError:
        pass
    return paths


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def _cpu_list_count(cpus: str) -> int:
    count = 0
    for part in cpus.split(","):
        if "-" in part:
            lo, hi = part.split("-")
            count += int(hi) - int(lo) + 1
        elif part:
            count += 1
    return count


def _proc_stat() -> dict[str, int]:
    with open("/proc/stat") as fh:
        fields = fh.readline().split()[1:]
    names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    values = dict(zip(names, (int(v) for v in fields), strict=False))
    return values


def cpu() -> dict:
    """CPU seconds used so far by this host, and the machine's steal time."""
    paths = _cgroup_paths()
    usage_ns = None
    if paths.get("cpuacct", "/") != "/":
        raw = _read(f"{CGROUP_ROOT}/cpuacct{paths['cpuacct']}/cpuacct.usage")
        usage_ns = int(raw) if raw else None
    stat = _proc_stat()
    hz = os.sysconf("SC_CLK_TCK")
    busy = sum(v for k, v in stat.items() if k not in ("idle", "iowait", "steal"))
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "time": time.time(),
        "cpu_s": usage_ns / 1e9 if usage_ns is not None else busy / hz,
        # This probe's own CPU so far (Python's start-up, mostly): it is inside cpu_s, and
        # a caller taking a delta subtracts it so the figure is the host's work alone.
        "self_cpu_s": own.ru_utime + own.ru_stime,
        "source": "cgroup" if usage_ns is not None else "proc_stat",
        "steal_s": stat.get("steal", 0) / hz,
        "cpus": _cpus(paths)[1],
    }


def _cpus(paths: dict[str, str]) -> tuple[str | None, int]:
    """This host's cpuset (None outside one) and how many CPUs it may use."""
    cpuset = None
    if paths.get("cpuset", "/") != "/":
        cpuset = _read(f"{CGROUP_ROOT}/cpuset{paths['cpuset']}/cpuset.cpus")
    if cpuset:
        return cpuset, _cpu_list_count(cpuset)
    if hasattr(os, "sched_getaffinity"):
        return None, len(os.sched_getaffinity(0))
    return None, os.cpu_count() or 1


def specs() -> dict:
    """CPU model, CPUs and memory as this host sees them (its cgroup first)."""
    paths = _cgroup_paths()
    model = "unknown"
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    cpuset, cpus = _cpus(paths)
    mem_total = 0
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            mem_total = int(line.split()[1]) // 1024
    memory_mib = mem_total
    if paths.get("memory", "/") != "/":
        raw = _read(f"{CGROUP_ROOT}/memory{paths['memory']}/memory.limit_in_bytes")
        if raw and int(raw) < mem_total * 1024 * 1024:
            memory_mib = int(raw) // (1024 * 1024)
    return {
        "cpu_model": model,
        "cpus": cpus,
        "cpuset": cpuset,
        "memory_mib": memory_mib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "cgroup": paths.get("cpuset"),
    }


def http(url: str) -> dict:
    """GET url once; report status, length, rows of an HTML table, JSON body if any."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    except (urllib.error.URLError, OSError) as exc:
        return {"url": url, "error": str(getattr(exc, "reason", exc))}
    out = {
        "url": url,
        "status": status,
        "length": len(body),
        "rows": body.count(b"<tr") - 1 if b"<table" in body else None,
        "elapsed_s": time.monotonic() - started,
    }
    with contextlib.suppress(ValueError):
        out["json"] = json.loads(body)
    return out


def counted(url: str, count: str = "10") -> dict:
    """GET url `count` times, one at a time, asking the app for its per-request counters."""
    results = []
    for _ in range(max(int(count), 1)):
        request = urllib.request.Request(url, headers={"X-Bench-Instrument": "1"})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                body, status, headers = resp.read(), resp.status, resp.headers
        except urllib.error.HTTPError as exc:
            body, status, headers = exc.read(), exc.code, exc.headers
        except (urllib.error.URLError, OSError) as exc:
            results.append({"error": str(getattr(exc, "reason", exc))})
            continue
        hops, cpu_ms = headers.get("X-Bench-Hops"), headers.get("X-Bench-Cpu-Ms")
        results.append(
            {
                "status": status,
                "length": len(body),
                "hops": int(hops) if hops is not None else None,
                "cpu_ms": float(cpu_ms) if cpu_ms is not None else None,
            }
        )
    return {"url": url, "requests": results}


def _same_host(pid: str, mine: str | None) -> bool:
    """Whether pid runs in this host's cgroup (local hosts share /proc with the machine)."""
    if mine in (None, "/"):
        return True
    return f":cpuset:{mine}\n" in (_read(f"/proc/{pid}/cgroup") or "") + "\n"


def procs(name: str) -> dict:
    """How many processes of this host are called `name` and their summed resident memory."""
    count, rss_kib = 0, 0
    mine = _cgroup_paths().get("cpuset")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if not _same_host(pid, mine):
            continue
        comm = _read(f"/proc/{pid}/comm")
        cmdline = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
        if comm != name and f"/{name} " not in cmdline and not cmdline.startswith(name):
            continue
        for line in (_read(f"/proc/{pid}/status") or "").splitlines():
            if line.startswith("VmRSS:"):
                count += 1
                rss_kib += int(line.split()[1])
    return {"name": name, "count": count, "rss_mib": round(rss_kib / 1024, 1)}


def memory() -> dict:
    """This host's memory cgroup (v1): limit, usage and peak in MiB, how often the limit
    was hit (failcnt) and how many processes the kernel's OOM killer ended in it."""
    path = _cgroup_paths().get("memory", "/")
    if path == "/":
        return {"cgroup": None}
    base = f"{CGROUP_ROOT}/memory{path}"

    def mib(name: str) -> float | None:
        raw = _read(f"{base}/{name}")
        return round(int(raw) / 1048576, 1) if raw and raw.isdigit() else None

    oom: dict[str, int] = {}
    for line in (_read(f"{base}/memory.oom_control") or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            oom[key] = int(value)
    failcnt = _read(f"{base}/memory.failcnt")
    return {
        "cgroup": path,
        "limit_mib": mib("memory.limit_in_bytes"),
        "usage_mib": mib("memory.usage_in_bytes"),
        "max_usage_mib": mib("memory.max_usage_in_bytes"),
        "failcnt": int(failcnt) if failcnt and failcnt.isdigit() else None,
        "oom_kill": oom.get("oom_kill"),
        "under_oom": oom.get("under_oom"),
    }


def main(argv: list[str]) -> int:
    """Dispatch one command and print its JSON."""
    commands = {
        "cpu": cpu,
        "specs": specs,
        "http": http,
        "procs": procs,
        "counted": counted,
        "memory": memory,
    }
    if not argv or argv[0] not in commands:
        print(f"usage: probe.py {{{'|'.join(commands)}}} [ARG]", file=sys.stderr)
        return 2
    print(json.dumps(commands[argv[0]](*argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
