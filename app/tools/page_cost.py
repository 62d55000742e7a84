"""Print what one request costs the app here: wall time and server CPU, per mode and route.

Not a test (it asserts nothing): it starts a real Granian server per mode (1 worker,
SQLite in a temporary folder) through ``benchsite.serving``, warms it up, sends N
sequential requests per route and reads the CPU time of Granian's whole process group
from ``/proc`` before and after.

Usage (from the repository root)::

    .venv/bin/python app/tools/page_cost.py [--requests 20] [--debug] [--routes /sync/ /async/]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_cpu_s(pgid: int) -> float:
    """User+system CPU seconds of every live process in the group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields[2] is the process group id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:
        return len(response.read())


def measure(mode: str, routes: list[str], requests: int, debug: bool) -> None:
    """Serve ``mode`` and print one line per route."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="page-cost-") as data:
        env = dict(os.environ, BENCH_MODE=mode, BENCH_WORKERS="1", BENCH_DATA_DIR=data)
        env.update(BENCH_DEBUG="1" if debug else "0", DJANGO_SECRET_KEY=os.urandom(24).hex())
        argv = [
            sys.executable,
            "-m",
            "benchsite.serving",
            "--port",
            str(port),
            "--migrate",
            "--exec",
        ]
        proc = subprocess.Popen(
            argv,
            cwd=APP_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    _get(base + "/health/")
                    break
                except OSError:
                    time.sleep(0.1)
            for route in routes:
                for _ in range(3):
                    _get(base + route)
                cpu0, wall0 = _group_cpu_s(proc.pid), time.monotonic()
                size = sum(_get(base + route) for _ in range(requests)) // requests
                wall, cpu = time.monotonic() - wall0, _group_cpu_s(proc.pid) - cpu0
                print(
                    f"{mode:4}  {route:22} {requests} requests  wall {wall:6.2f} s  "
                    f"{1000 * wall / requests:7.1f} ms/request  server CPU "
                    f"{1000 * cpu / requests:7.1f} ms/request  {size} bytes"
                )
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)


def main() -> None:
    """Parse the command line and measure both modes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--debug", action="store_true", help="BENCH_DEBUG=1, as the original")
    parser.add_argument(
        "--routes", nargs="+", default=["/users/sync/", "/users/async/", "/users/async-wrapped/"]
    )
    args = parser.parse_args()
    for mode in ("wsgi", "asgi"):
        measure(mode, args.routes, args.requests, args.debug)


if __name__ == "__main__":
    main()
