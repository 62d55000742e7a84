"""PostgreSQL on the app host for real (`-e database=postgresql` without database_url),
on the session's local hosts, in file order: both modes served from PostgreSQL, the
production mistake refused with "too many clients", a taken port and a server that
cannot start each one clear failure. PostgreSQL is stopped when the module ends (the
session's stop.yml and destroy would stop it too)."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator

import pytest

from runner.serverwatch import parse, summarize
from tests.fixtures.deploy import Deployer, play_recap

# The first deploy builds the venv; on a loaded 2-CPU machine that can pass 480 s.
SLOW_DEPLOY_S = 1200

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(1500)]

BLOW_UP = {"db_pool": "off", "conn_max_age": 60, "blocking_threads": 64, "max_connections": 20}


def _ok(proc) -> None:
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert all(c["failed"] == 0 for c in play_recap(proc.stdout).values())


def _data_dir(deployer: Deployer) -> str:
    return f"{deployer.stack.app.vars['data_root']}/postgres/data"


@pytest.fixture(scope="module", autouse=True)
def stop_postgres_afterwards(deployer: Deployer) -> Iterator[None]:
    """Leave the shared stack as the other modules expect it: no PostgreSQL running."""
    yield
    deployer.supervisorctl(deployer.stack.app, "stop", "postgres")


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_the_app_serves_its_users_from_postgresql_on_its_own_host(
    deployer: Deployer, mode: str
) -> None:
    _ok(deployer.deploy(mode, SLOW_DEPLOY_S, database="postgresql"))
    health = deployer.health()
    assert (health["mode"], health["database"], health["users"]) == (mode, "postgresql", 1000)
    assert health["connections"] == {
        "conn_max_age": 0,
        "pool": {"min_size": 4, "max_size": 4, "timeout": 30},
    }
    status, page = deployer.get("/users/sync/")
    assert status == 200 and page.count("<tr") == 1001
    app = deployer.stack.app
    data = _data_dir(deployer)
    assert not data.startswith(app.bench_root)
    owner = deployer.stack.ssh(app, f"stat -c '%a %U' {data}")
    assert owner.stdout.split() == ["700", "postgres"], owner.stdout + owner.stderr
    listening = deployer.stack.ssh(app, "ss -Hltn 'sport = :5432 or sport = :9090'")
    addresses = sorted(line.split()[3] for line in listening.stdout.splitlines())
    assert addresses == [f"{app.address}:5432", f"{app.address}:9090"]


def _watch_a_load(deployer: Deployer, path: str, requests: int, concurrency: int) -> str:
    """Run the watcher on the app host around one bounded ab run; return its output."""
    app, lg = deployer.stack.app, deployer.stack.loadgens[0]
    root, data_root = app.bench_root, app.vars["data_root"]
    out = f"{root}/logs/watch-test.jsonl"
    watch = shlex.join([
        f"{root}/venv/bin/python", f"{root}/app/tools/watch.py", "--out", out,
        "--pg-socket-dir", f"{data_root}/postgres/run", "--pg-log", f"{root}/logs/postgres.log",
        "--pg-data-dir", f"{data_root}/postgres/data",
        "--metrics-url", f"http://{app.address}:9090/", "--max-seconds", "120",
    ])  # fmt: skip
    started = deployer.stack.ssh(
        app, f"rm -f {out}; setsid {watch} >{out}.err 2>&1 </dev/null & echo $! >{out}.pid"
    )
    assert started.returncode == 0, started.stderr
    try:
        time.sleep(1.5)  # the watcher's settings line and a first reading before the load
        url = f"http://{app.address}:8000{path}"
        ab = deployer.stack.ssh(
            lg, f"timeout 90 ab -q -n {requests} -c {concurrency} -s 20 {url}", timeout=120
        )
        assert "Complete requests" in ab.stdout, ab.stdout + ab.stderr
    finally:
        deployer.stack.ssh(app, f"kill -TERM $(cat {out}.pid)")
    # The watcher writes its final reading ~1.2 s after SIGTERM, then exits.
    for _ in range(20):
        if deployer.stack.ssh(app, f"kill -0 $(cat {out}.pid)").returncode != 0:
            break
        time.sleep(0.5)
    text = deployer.stack.ssh(app, f"cat {out}; rm -f {out} {out}.pid {out}.err")
    return text.stdout


def test_the_production_mistake_shows_as_too_many_clients(deployer: Deployer) -> None:
    _ok(deployer.deploy("wsgi", SLOW_DEPLOY_S, database="postgresql", **BLOW_UP))
    assert deployer.health()["connections"] == {"conn_max_age": 60, "pool": None}
    records = parse(_watch_a_load(deployer, "/health/", requests=256, concurrency=64))
    summary = summarize(records)
    assert summary.settings["max_connections"] == "20"
    assert summary.refused_too_many_clients > 0
    assert "too many clients (max_connections=20, 3 reserved" in summary.invalid_reason
    # The app kept every connection it got: at most max_connections less the reserved 3.
    assert 1 <= summary.connections["total"]["peak"] <= 17
    assert summary.gauges["blocking_threads"].peak == 64
    assert summary.granian["requests"] >= 256


def test_a_taken_port_is_one_clear_line(deployer: Deployer) -> None:
    proc = deployer.deploy("wsgi", SLOW_DEPLOY_S, database="postgresql", postgres_port=8000)
    assert proc.returncode != 0
    output = " ".join(proc.stdout.split())
    assert "port 8000 on" in output and "is already taken" in output, proc.stdout[-3000:]
    assert "granian" in output
    assert "-e postgres_port=ANOTHER" in output
    assert deployer.health()["database"] == "postgresql"  # the app was left alone


def test_a_server_that_cannot_start_shows_its_log(deployer: Deployer) -> None:
    app = deployer.stack.app
    version = f"{_data_dir(deployer)}/PG_VERSION"
    assert deployer.stack.ssh(app, f"echo 99 > {version}").returncode == 0
    try:
        # A changed max_connections restarts the server, which refuses the data directory.
        proc = deployer.deploy("wsgi", SLOW_DEPLOY_S, database="postgresql", max_connections=30)
        assert proc.returncode != 0
        output = proc.stdout
        assert "PostgreSQL did not start on" in output, output[-3000:]
        assert "last lines of" in output and "postgres.log" in output
        assert "initialized by PostgreSQL version 99" in output
    finally:
        deployer.stack.ssh(app, f"echo 15 > {version}")
    _ok(deployer.deploy("wsgi", SLOW_DEPLOY_S, database="postgresql"))
    assert deployer.health()["users"] == 1000
