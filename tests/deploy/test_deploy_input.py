"""Bad deploy variables stop deploy.yml in its first play, before any host is touched.

An inventory with the contract's groups and no hosts is enough: if the checks let a bad
value through, the run would succeed (nothing to deploy to) instead of failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.deploy import play_recap, run_playbook

EMPTY_INVENTORY = "all:\n  children:\n    app:\n      hosts: {}\n    loadgen:\n      hosts: {}\n"


@pytest.fixture(scope="module")
def empty_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deploy-input") / "inventory.yml"
    path.write_text(EMPTY_INVENTORY)
    return path


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({}, 'mode must be one of: asgi, wsgi (got "nothing")'),
        ({"mode": "both"}, 'mode must be one of: asgi, wsgi (got "both")'),
        ({"mode": "asgi", "workers": 0}, 'workers must be a whole number from 1 to 256 (got "0")'),
        ({"mode": "wsgi", "workers": "four"}, "workers must be a whole number from 1 to 256"),
        ({"mode": "wsgi", "upstream_delay_ms": 20000}, "upstream_delay_ms must be a whole number"),
        (
            {"mode": "asgi", "event_loop": "trio"},
            "event_loop must be one of: auto, asyncio, uvloop",
        ),
        (
            {"mode": "asgi", "middleware": "none"},
            "middleware must be one of: stock, minimal, async",
        ),
        ({"mode": "asgi", "database": "mysql"}, "database must be one of: sqlite, postgresql"),
        (
            {"mode": "asgi", "database": "mariadb"},
            'database must be one of: sqlite, postgresql (got "mariadb")',
        ),
        (
            {"mode": "asgi", "database_url": "mysql://x@h/db"},
            "database_url must look like postgres://",
        ),
        (
            {"mode": "wsgi", "database": "postgresql", "db_pool": "off", "conn_max_age": -1},
            'conn_max_age must be a whole number of seconds from 0 to 86400 (got "-1")',
        ),
        (
            {"mode": "wsgi", "database": "postgresql", "conn_max_age": 60},
            "conn_max_age=60 needs db_pool=off",
        ),
        (
            {"mode": "wsgi", "database": "postgresql", "db_pool": "maybe"},
            "db_pool must be true or false",
        ),
        (
            {"mode": "wsgi", "database": "postgresql", "max_connections": 2},
            'max_connections must be a whole number from 5 to 10000 (got "2")',
        ),
        (
            {"mode": "wsgi", "metrics_port": 70000},
            "metrics_port must be a whole number from 0 to 65535",
        ),
        ({"mode": "asgi", "debug": "maybe"}, "debug must be true or false"),
        ({"mode": "asgi", "instrument": "sometimes"}, "instrument must be true or false"),
        ({"mode": "asgi", "side_by_side": "both"}, "side_by_side must be true or false"),
        ({"mode": "asgi", "io_client": "curl"}, "io_client must be one of: stdlib, httpx"),
        (
            {"mode": "asgi", "serving_preset": "fast"},
            "serving_preset must be one of: none, original",
        ),
        # The app's own validator (serving.py) speaks for the serving rules.
        ({"mode": "asgi", "blocking_threads": 4}, "serving: error: BENCH_BLOCKING_THREADS=4 needs"),
    ],
)
def test_bad_variable_fails_at_once_with_the_valid_values(
    empty_inventory: Path, extra_vars: dict[str, object], message: str
) -> None:
    proc = run_playbook("deploy.yml", empty_inventory, extra_vars, timeout=100)
    assert proc.returncode != 0
    output = " ".join((proc.stdout + proc.stderr).split())
    assert message in output, proc.stdout[-2000:]
    assert set(play_recap(proc.stdout)) == {"localhost"}


@pytest.mark.timeout(120)
def test_good_variables_pass_the_checks(empty_inventory: Path) -> None:
    extra = {"mode": "wsgi", "workers": 2, "blocking_threads": 8, "event_loop": "uvloop",
             "middleware": "minimal", "debug": "true", "upstream_delay_ms": 0}  # fmt: skip
    proc = run_playbook("deploy.yml", empty_inventory, extra, timeout=100)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert play_recap(proc.stdout)["localhost"]["failed"] == 0


@pytest.mark.timeout(120)
def test_the_production_mistake_passes_the_checks(empty_inventory: Path) -> None:
    extra = {"mode": "wsgi", "database": "postgresql", "db_pool": "off", "conn_max_age": 60,
             "blocking_threads": 64, "max_connections": 20, "metrics_port": 9090}  # fmt: skip
    proc = run_playbook("deploy.yml", empty_inventory, extra, timeout=100)
    assert proc.returncode == 0, proc.stdout[-2000:]
