"""The app against a real PostgreSQL server the test starts itself (psycopg 3 + pool)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import Process, free_port, http_get, start_app

PG_USER = "postgres"


def _as_postgres(*argv: str) -> None:
    # initdb refuses to run as root: every server command runs as the postgres user.
    subprocess.run(
        ["runuser", "-u", PG_USER, "--", *argv], check=True, capture_output=True, timeout=60
    )


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 with a free port; removed afterwards."""
    missing = [tool for tool in ("initdb", "pg_ctl", "runuser") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and PostgreSQL's binaries (missing: {missing or 'root'})")
    # Not under pytest's tmp folders: those are private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    shutil.chown(base, user=PG_USER)
    data, log, port = base / "data", base / "server.log", free_port()
    started = False
    try:
        _as_postgres(
            "initdb", "-D", str(data), "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(
            "pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "30", "start"
        )
        started = True
        yield f"postgres://{PG_USER}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            _as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
def test_users_page_from_postgresql(
    tmp_path: Path, postgres_url: str, upstream: Process, servers: dict[str, Process], mode: str
) -> None:
    server = start_app(tmp_path, mode, upstream.base_url + "/", DATABASE_URL=postgres_url)
    try:
        health = json.loads(http_get(server.base_url + "/health/")[1])
        assert health["database"] == "postgresql"
        assert health["users"] == 1000
        pages = {
            route: http_get(server.base_url + route)
            for route in ("/users/sync/", "/users/async/", "/async/")
        }
        assert {status for status, _ in pages.values()} == {200}
        assert len({body for _, body in pages.values()}) == 1
        # The same data makes the same page on SQLite and on PostgreSQL.
        assert pages["/users/sync/"][1] == http_get(servers[mode].base_url + "/users/sync/")[1]
    finally:
        server.stop()
