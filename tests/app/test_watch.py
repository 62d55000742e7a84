"""app/tools/watch.py against a real PostgreSQL the test starts (as user postgres, like
tests/app/test_postgres.py) and a real Granian exporter: connections by state, refused
connections from the server's own log, the final reading after SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.serverwatch import parse, summarize
from tests.app.conftest import APP_DIR, Process, free_port, start_app

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MAX_CONNECTIONS = 6


@dataclass
class Server:
    """A throw-away cluster: where its socket, data and log are."""

    base: Path
    data: Path
    log: Path
    port: int


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """PostgreSQL 15 on 127.0.0.1 with few connection slots; stopped and removed afterwards."""
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists() or not shutil.which("runuser"):
        pytest.skip("needs root and PostgreSQL 15's binaries")
    base = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    shutil.chown(base, user="postgres")
    found = Server(base, base / "data", base / "server.log", free_port())
    started = False
    try:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(found.data), "-U", "postgres",
                     "--auth=trust", "--no-sync")  # fmt: skip
        options = (f"-p {found.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c max_connections={MAX_CONNECTIONS}")  # fmt: skip
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(found.data), "-l", str(found.log),
                     "-o", options, "-w", "-t", "30", "start")  # fmt: skip
        started = True
        yield found
    finally:
        if started:
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(found.data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _watch(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "watch.jsonl"
    argv = [sys.executable, str(APP_DIR / "tools" / "watch.py"), "--out", str(out),
            "--interval", "0.5", "--settle", "0.2", "--max-seconds", "30", *args]  # fmt: skip
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True), out


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_connections_by_state_and_refusals_from_the_log(tmp_path: Path, server: Server) -> None:
    import psycopg

    config = tmp_path / "postgres.json"
    config.write_text(json.dumps({
        "socket_dir": str(server.base), "port": server.port, "database": "postgres",
        "log": str(server.log), "data_dir": str(server.data),
    }))  # fmt: skip
    proc, out = _watch(tmp_path, "--pg-config", str(config))
    held: list[psycopg.Connection] = []
    try:
        while not out.exists() or len(out.read_text().splitlines()) < 2:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        # Every slot the watcher leaves, then one more: PostgreSQL refuses it.
        for _ in range(MAX_CONNECTIONS - 1):
            held.append(psycopg.connect(host=str(server.base), port=server.port, user="postgres"))
        held[0].execute("SELECT 1")  # psycopg opens a transaction: "idle in transaction"
        with pytest.raises(psycopg.OperationalError, match="too many clients"):
            psycopg.connect(host=str(server.base), port=server.port, user="postgres")
        time.sleep(1.2)  # two readings with every slot taken
    finally:
        for conn in held:
            conn.close()
        _stop(proc)
    records = parse(out.read_text())
    assert records[-1]["final"] is True
    summary = summarize(records)
    assert summary.settings["max_connections"] == str(MAX_CONNECTIONS)
    assert summary.connections["total"]["peak"] == MAX_CONNECTIONS - 1
    assert summary.connections["by_state"]["idle"]["peak"] == MAX_CONNECTIONS - 2
    assert summary.connections["by_state"]["idle in transaction"]["peak"] == 1
    assert summary.refused_too_many_clients == 1
    assert "PostgreSQL refused 1 connections: too many clients" in summary.invalid_reason
    assert summary.postgres_cpu_s is not None and summary.postgres_cpu_s >= 0


def test_granians_exporter_without_postgresql(tmp_path: Path, upstream: Process) -> None:
    metrics_port = free_port()
    app = start_app(tmp_path / "app", "wsgi", upstream.base_url + "/",
                    BENCH_METRICS_PORT=str(metrics_port))  # fmt: skip
    try:
        proc, out = _watch(tmp_path, "--metrics-url", f"http://127.0.0.1:{metrics_port}/")
        time.sleep(1.5)
        _stop(proc)
    finally:
        app.stop()
    summary = summarize(parse(out.read_text()))
    assert summary.connections is None and summary.invalid_reason is None
    assert summary.gauges["blocking_queue"].samples >= 2
    assert summary.granian["error"] is None


def test_no_postgresql_there_is_one_line(tmp_path: Path) -> None:
    argv = [sys.executable, str(APP_DIR / "tools" / "watch.py"), "--out", str(tmp_path / "o"),
            "--pg-socket-dir", str(tmp_path), "--pg-port", str(free_port())]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.startswith("watch: cannot connect to PostgreSQL:")
    assert "Traceback" not in proc.stderr
