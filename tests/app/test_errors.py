"""Bad configuration stops start-up with one clear line and a non-zero exit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.app.conftest import (
    APP_DIR,
    PYTHON,
    Process,
    app_env,
    free_port,
    http_get,
    run_serving,
    start_app,
)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("serving: error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"BENCH_MODE": "fastcgi"}, ["BENCH_MODE", "'fastcgi'", "asgi", "wsgi"]),
        ({"BENCH_MODE": ""}, ["BENCH_MODE", "asgi", "wsgi"]),
        ({"BENCH_WORKERS": "0"}, ["BENCH_WORKERS", "between 1"]),
        ({"BENCH_WORKERS": "many"}, ["BENCH_WORKERS", "integer"]),
        ({"BENCH_BLOCKING_THREADS": "6"}, ["BENCH_BLOCKING_THREADS", "wsgi", "ASGI"]),
        ({"BENCH_LOOP": "tokio"}, ["BENCH_LOOP", "asyncio"]),
        ({"BENCH_MIDDLEWARE": "fancy"}, ["BENCH_MIDDLEWARE", "stock"]),
    ],
)
def test_bad_serving_config_is_one_clear_line(
    tmp_path: Path, variables: dict[str, str], words: list[str]
) -> None:
    env = app_env(tmp_path, "asgi", "http://127.0.0.1:9/", **variables)
    result = run_serving(env, "--port", str(free_port()), "--migrate", "--exec")
    assert result.returncode == 2
    line = _one_error_line(result)
    for word in words:
        assert word in line


def test_flags_override_the_environment_and_are_checked_too(tmp_path: Path) -> None:
    env = app_env(tmp_path, "asgi", "http://127.0.0.1:9/")
    result = run_serving(env, "--mode", "cgi", "--print")
    assert result.returncode == 2
    assert "'cgi'" in _one_error_line(result)


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgres://bench@127.0.0.1:{free_port()}/bench"
    env = app_env(tmp_path, "wsgi", "http://127.0.0.1:9/", DATABASE_URL=url)
    result = run_serving(env, "--port", str(free_port()), "--migrate", "--exec")
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "database" in line and "DATABASE_URL" in line


def test_missing_secret_key_stops_django_when_debug_is_off(tmp_path: Path) -> None:
    env = app_env(tmp_path, "wsgi", "http://127.0.0.1:9/")
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [PYTHON, "manage.py", "check"], cwd=APP_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("module", "mode", "words"),
    [
        ("benchsite.wsgi", "bogus", ["ImproperlyConfigured", "BENCH_MODE", "'bogus'"]),
        ("benchsite.wsgi", "asgi", ["ImproperlyConfigured", "BENCH_MODE=wsgi"]),
        ("benchsite.asgi", "wsgi", ["ImproperlyConfigured", "BENCH_MODE=asgi"]),
    ],
)
def test_entry_points_refuse_a_contradicting_mode(
    tmp_path: Path, module: str, mode: str, words: list[str]
) -> None:
    env = app_env(tmp_path, mode, "http://127.0.0.1:9/")
    result = subprocess.run(
        [PYTHON, "-c", f"import {module}"], cwd=APP_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    for word in words:
        assert word in last


@pytest.mark.parametrize(
    ("mode", "client", "kind"),
    [
        ("asgi", "stdlib", b"ConnectionRefusedError"),
        ("wsgi", "stdlib", b"ConnectionRefusedError"),
        ("asgi", "httpx", b"ConnectError"),
        ("wsgi", "httpx", b"ConnectError"),
    ],
)
def test_unreachable_upstream_gives_502_with_a_clear_body(
    tmp_path: Path, mode: str, client: str, kind: bytes
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/"
    server: Process = start_app(
        tmp_path, mode, dead, BENCH_MIDDLEWARE="minimal", BENCH_IO_CLIENT=client
    )
    try:
        for view in ("sync", "async"):
            status, body = http_get(f"{server.base_url}/io/{view}/")
            assert status == 502
            assert body.startswith(b"upstream error: " + kind)
            assert dead.encode() in body
    finally:
        server.stop()


def test_serving_an_unmigrated_database_is_refused(tmp_path: Path) -> None:
    env = app_env(tmp_path, "wsgi", "http://127.0.0.1:9/")
    result = run_serving(env, "--port", str(free_port()), "--exec")
    assert result.returncode == 2
    line = _one_error_line(result)
    assert "unapplied migrations" in line and "--migrate" in line


def test_migrate_alone_migrates_then_exits(tmp_path: Path) -> None:
    env = app_env(tmp_path, "wsgi", "http://127.0.0.1:9/")
    first = run_serving(env, "--migrate")
    assert first.returncode == 0, first.stderr
    assert "Applying bench." in first.stdout
    again = run_serving(env, "--migrate")
    assert again.returncode == 0, again.stderr
    assert "No migrations to apply" in again.stdout
    assert (tmp_path / "db.sqlite3").exists()
