"""Watch the app host's server side during one repetition: one JSON line per second.

Runs on the app host (started by the runner over SSH around a repetition, stopped with
SIGTERM), with the app's venv. Each line is appended and flushed the moment it exists::

    {"t": 1764638400.0, "pg": {"active": 3, "idle": 1}, "pg_total": 4,
     "too_many_clients": 0, "pg_cpu_s": 1.23, "granian": {"requests_handled": 120, ...}}

- ``pg``: client backends of the app's database in ``pg_stat_activity`` by ``state``
  (the watcher's own connection left out); ``pg_total`` their sum.
- ``too_many_clients`` and ``reserved_slots``: connections PostgreSQL refused since the
  watch began, from its log: "sorry, too many clients already" (no process slot left) and
  "remaining connection slots are reserved for non-replication superuser connections"
  (only the superusers' slots left). A refused connection never shows in pg_stat_activity.
- ``pg_cpu_s``: CPU seconds of the PostgreSQL server so far (the postmaster, its live
  backends, and the backends that already exited, which the kernel adds to the
  postmaster's children's times).
- ``granian``: Granian's exporter, summed over workers (see runner/granian_metrics.py).

The first line (``"kind": "settings"``) records ``max_connections`` and the server version.
After SIGTERM the watcher waits ``--settle`` seconds (Granian's workers report every
second, so the final reading includes the last requests), writes a last line with
``"final": true`` and exits 0. It never runs longer than ``--max-seconds``.

    python tools/watch.py --out FILE [--pg-config BENCH_ROOT/postgres.json]
                          [--pg-socket-dir DIR --pg-port 5432 --pg-database bench
                           --pg-log FILE --pg-data-dir DIR] [--metrics-url http://ADDR:9090/]

``--pg-config`` is the file the deploy's postgres role writes (``socket_dir``, ``port``,
``database``, ``log``, ``data_dir``); explicit ``--pg-*`` flags win over it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

TOO_MANY = b"sorry, too many clients already"
RESERVED = b"remaining connection slots are reserved"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PREFIX = "granian_"


STOPPING: list[int] = []  # the signal that asked us to stop, once one arrived


def _stop(signum: int, frame: object) -> None:
    # A flag, not an exception: a reading cut in half (a query, a line) would be lost.
    STOPPING.append(signum)


def _sleep_until(deadline: float) -> None:
    while not STOPPING and time.monotonic() < deadline:
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def granian_totals(url: str) -> dict[str, float] | None:
    """Granian's metrics summed over workers; None when the exporter does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            text = response.read().decode()
    except OSError:
        return None
    found: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith(PREFIX):
            continue
        name, _, value = line.rpartition(" ")
        name = name.split("{", 1)[0][len(PREFIX) :]
        try:
            found[name] = found.get(name, 0.0) + float(value)
        except ValueError:
            continue
    return found


def postmaster_cpu_s(data_dir: Path) -> float | None:
    """CPU seconds of the PostgreSQL server: postmaster, live children, reaped children."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    ticks = 0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    except OSError:
        return None
    for child in _children(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
        except OSError:
            continue  # exited meanwhile: its time is now in the postmaster's cutime
    return ticks / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class LogCounter:
    """Counts refused connections in PostgreSQL's log since it was opened."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = path.stat().st_size if path and path.exists() else 0
        self.count = 0
        self.reserved = 0
        self.partial = b""

    def read(self) -> int:
        """The "too many clients" count so far (reads what was appended since the last
        call; ``reserved`` is updated on the way)."""
        if self.path is None:
            return 0
        try:
            with open(self.path, "rb") as log:
                if os.fstat(log.fileno()).st_size < self.offset:
                    self.offset = 0  # rotated by supervisord
                log.seek(self.offset)
                chunk = log.read()
        except OSError:
            return self.count
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        self.count += sum(1 for line in lines if TOO_MANY in line)
        self.reserved += sum(1 for line in lines if RESERVED in line)
        return self.count


class Activity:
    """One superuser connection over the Unix socket, reading pg_stat_activity."""

    QUERY = (
        "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = %s "
        "GROUP BY 1"
    )

    def __init__(self, socket_dir: str, port: int, database: str) -> None:
        import psycopg

        self.database = database
        self.conn = psycopg.connect(
            host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True
        )

    def settings(self) -> dict[str, Any]:
        """What bounds the connections: max_connections and the reserved slots."""
        names = ("max_connections", "superuser_reserved_connections", "server_version")
        with self.conn.cursor() as cur:
            return {name: cur.execute(f"SHOW {name}").fetchone()[0] for name in names}

    def by_state(self) -> dict[str, int]:
        """Client backends of the app's database by state."""
        with self.conn.cursor() as cur:
            return {state: n for state, n in cur.execute(self.QUERY, (self.database,))}


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module docstring."""
    parser = argparse.ArgumentParser(prog="watch", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--pg-config", type=Path)
    parser.add_argument("--pg-socket-dir")
    parser.add_argument("--pg-port", type=int)
    parser.add_argument("--pg-database")
    parser.add_argument("--pg-log", type=Path)
    parser.add_argument("--pg-data-dir", type=Path)
    parser.add_argument("--metrics-url")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--settle", type=float, default=1.2)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args(argv)
    if args.pg_config:
        try:
            config = json.loads(args.pg_config.read_text())
        except (OSError, ValueError) as error:
            print(f"watch: cannot read --pg-config {args.pg_config}: {error}", file=sys.stderr)
            return 1
        args.pg_socket_dir = args.pg_socket_dir or config.get("socket_dir")
        args.pg_port = args.pg_port or config.get("port")
        args.pg_database = args.pg_database or config.get("database")
        args.pg_log = args.pg_log or (Path(config["log"]) if config.get("log") else None)
        data_dir = config.get("data_dir")
        args.pg_data_dir = args.pg_data_dir or (Path(data_dir) if data_dir else None)
    args.pg_port = args.pg_port or 5432
    args.pg_database = args.pg_database or "bench"

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    activity = None
    try:
        if args.pg_socket_dir:
            activity = Activity(args.pg_socket_dir, args.pg_port, args.pg_database)
    except Exception as error:  # any connection failure is one line, never a traceback
        print(f"watch: cannot connect to PostgreSQL: {error}".strip(), file=sys.stderr)
        return 1
    log = LogCounter(args.pg_log)
    end = time.monotonic() + args.max_seconds
    with open(args.out, "a", encoding="utf-8") as out:

        def write(record: dict[str, Any]) -> None:
            out.write(json.dumps(record, sort_keys=True) + "\n")
            out.flush()

        def reading(final: bool = False) -> dict[str, Any]:
            record: dict[str, Any] = {"t": round(time.time(), 3)}
            if activity is not None:
                record["pg"] = activity.by_state()
                record["pg_total"] = sum(record["pg"].values())
                record["too_many_clients"] = log.read()
                record["reserved_slots"] = log.reserved
            if args.pg_data_dir:
                record["pg_cpu_s"] = postmaster_cpu_s(args.pg_data_dir)
            if args.metrics_url:
                record["granian"] = granian_totals(args.metrics_url)
            if final:
                record["final"] = True
            return record

        write({"kind": "settings", **(activity.settings() if activity else {})})
        next_at = time.monotonic()
        while not STOPPING and time.monotonic() < end:
            write(reading())
            next_at += args.interval
            _sleep_until(next_at)
        time.sleep(args.settle)
        write(reading(final=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
