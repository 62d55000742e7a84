#!/usr/bin/env python3
"""Print one host's specs and versions as JSON (run on the host by facts.yml).

What a host "has" comes from its own cgroup when it is in one (local namespace hosts
share this machine's /proc, so /proc/cpuinfo and MemTotal describe the whole machine):
/proc/self/cgroup names the cpuset and memory cgroups, whose cpuset.cpus and
memory.limit_in_bytes are the host's CPUs and memory. Otherwise (a cloud host, or
cgroup v2 at the root) the machine's own figures are the host's.
Standard library only: it runs with the host's system Python.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

CGROUP_V1 = Path("/sys/fs/cgroup")
NO_LIMIT = 1 << 60  # cgroup v1 reports "no limit" as a huge page-aligned number


def cgroup_paths() -> dict[str, str]:
    """Controller name -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller or "unified"] = path
    return paths


def count_cpus(cpuset: str) -> int:
    """Number of CPUs in a cpuset list such as ``0-1,4``."""
    total = 0
    for part in filter(None, cpuset.strip().split(",")):
        low, _, high = part.partition("-")
        total += int(high or low) - int(low) + 1
    return total


def read(path: Path) -> str | None:
    """A file's stripped text, or None when it cannot be read."""
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    for line in (read(Path("/proc/cpuinfo")) or "").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_memory_mib() -> int:
    """MemTotal of the machine in MiB."""
    for line in (read(Path("/proc/meminfo")) or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def specs() -> dict[str, object]:
    """CPUs and memory as this host's cgroup sees them, with where each figure came from."""
    paths = cgroup_paths()
    out: dict[str, object] = {"cgroup": paths}
    cpuset_path = paths.get("cpuset", "/")
    cpus = read(CGROUP_V1 / "cpuset" / cpuset_path.lstrip("/") / "cpuset.cpus")
    if cpuset_path != "/" and cpus:
        out.update(vcpus=count_cpus(cpus), cpuset=cpus, vcpus_source="cgroup cpuset.cpus")
    else:
        out.update(vcpus=os.cpu_count(), cpuset=None, vcpus_source="machine")
    quota_dir = CGROUP_V1 / "cpu" / paths.get("cpu", "/").lstrip("/")
    quota, period = read(quota_dir / "cpu.cfs_quota_us"), read(quota_dir / "cpu.cfs_period_us")
    if quota and period and int(quota) > 0:
        out["cpu_quota"] = round(int(quota) / int(period), 3)
    memory_path = paths.get("memory", "/")
    limit = read(CGROUP_V1 / "memory" / memory_path.lstrip("/") / "memory.limit_in_bytes")
    if memory_path != "/" and limit and int(limit) < NO_LIMIT:
        out.update(
            memory_mib=int(limit) // (1024 * 1024), memory_source="cgroup memory.limit_in_bytes"
        )
    else:
        out.update(memory_mib=machine_memory_mib(), memory_source="machine")
    out["machine_memory_mib"] = machine_memory_mib()
    out["machine_vcpus"] = os.cpu_count()
    return out


def first_line(argv: list[str]) -> str | None:
    """First line a command prints (stdout, else stderr), or None when it cannot run."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
    return text[0] if text else None


def venv_versions(bench_root: Path) -> dict[str, str | None]:
    """Python, Django, Granian and supervisor versions in the host's venv."""
    python = bench_root / "venv" / "bin" / "python"
    if not python.exists():
        return {"python": None, "django": None, "granian": None, "supervisor": None}
    code = (
        "import importlib.metadata as m, json, platform\n"
        "def v(n):\n"
        "    try:\n"
        "        return m.version(n)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        "print(json.dumps({'python': platform.python_version(), 'django': v('django'),"
        " 'granian': v('granian'), 'supervisor': v('supervisor')}))"
    )
    line = first_line([str(python), "-c", code])
    try:
        return json.loads(line or "")
    except json.JSONDecodeError:
        return {"python": None, "django": None, "granian": None, "supervisor": None}


def main() -> None:
    """Print the host's facts as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-root", required=True)
    args = parser.parse_args()
    versions = venv_versions(Path(args.bench_root))
    versions["system_python"] = platform.python_version()  # the Python running this script
    versions["ab"] = first_line(["ab", "-V"]) if shutil.which("ab") else None
    versions["wrk"] = first_line(["wrk", "--version"]) if shutil.which("wrk") else None
    facts = {
        "cpu_model": cpu_model(),
        **specs(),
        "kernel": platform.release(),
        "kernel_version": platform.version(),
        "architecture": platform.machine(),
        "hostname": platform.node(),
        "versions": versions,
    }
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
