#!/usr/bin/env python3
"""Print one host's specs and versions as JSON (run on the host by facts.yml).

What a host "has" comes from its own cgroup when it is in a capped one (local namespace
hosts share this machine's /proc, so /proc/cpuinfo and MemTotal describe the whole
machine), in cgroup v1 or v2; otherwise (a cloud host) the machine's own figures are the
host's. host_resources.py, copied beside this script, reads them.
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

import host_resources  # copied beside this script by facts.yml


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


def specs() -> dict[str, object]:
    """CPUs and memory as this host's cgroup sees them, with where each figure came from."""
    res = host_resources.detect()
    machine = host_resources.Machine()
    paths = {c or "unified": p for c, p in host_resources.proc_cgroups().items()}
    out: dict[str, object] = {"cgroup": paths, "resources": res.source}
    cpuset = res.cgroup_cpuset()
    out.update(
        vcpus=res.cpus(),
        cpuset=cpuset,
        vcpus_source=f"{res.source} cpuset" if cpuset else "machine",
    )
    quota = res.cpu_quota()
    if quota:
        out["cpu_quota"] = quota
    limit, machine_bytes = res.memory_limit() or 0, machine.memory_limit() or 0
    limited = res.cgroup() is not None and 0 < limit < machine_bytes
    out.update(
        memory_mib=limit // (1024 * 1024),
        memory_source=f"{res.source} memory limit" if limited else "machine",
    )
    out["machine_memory_mib"] = machine_bytes // (1024 * 1024)
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
