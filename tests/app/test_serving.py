"""benchsite.serving: the serving config and the exact Granian command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from benchsite.env import ConfigError
from benchsite.serving import APP_DIR, ServingConfig, available_cpus, granian_argv
from tests.app.conftest import Process, app_env, http_get, run_serving, start_app


def _flags(argv: list[str]) -> dict[str, str]:
    """Granian's ``--flag value`` pairs (every flag we pass takes a value)."""
    pairs = argv[argv.index("--interface") : -1]
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def test_asgi_uses_asginl_and_granians_defaults() -> None:
    config = ServingConfig.from_env({"BENCH_MODE": "asgi"})
    argv = granian_argv(config)
    assert argv[-1] == "benchsite.asgi:application"
    assert Path(argv[0]).name in ("granian", "python", "python3")
    assert _flags(argv) == {
        "--interface": "asginl",
        "--host": "127.0.0.1",
        "--port": "8000",
        "--workers": str(available_cpus()),
        "--working-dir": str(APP_DIR),
    }


def test_wsgi_with_every_setting() -> None:
    env = {
        "BENCH_MODE": "wsgi",
        "BENCH_WORKERS": "3",
        "BENCH_BLOCKING_THREADS": "32",
        "BENCH_RUNTIME_THREADS": "2",
        "BENCH_BACKPRESSURE": "64",
        "BENCH_LOOP": "asyncio",
        "BENCH_HOST": "198.18.0.10",
        "BENCH_PORT": "8000",
    }
    argv = granian_argv(ServingConfig.from_env(env))
    assert argv[-1] == "benchsite.wsgi:application"
    assert _flags(argv) == {
        "--interface": "wsgi",
        "--host": "198.18.0.10",
        "--port": "8000",
        "--workers": "3",
        "--blocking-threads": "32",
        "--runtime-threads": "2",
        "--backpressure": "64",
        "--loop": "asyncio",
        "--working-dir": str(APP_DIR),
    }


@pytest.mark.parametrize(("mode", "threads"), [("wsgi", "6"), ("asgi", "1")])
def test_preset_original_is_four_workers_and_six_threads_where_possible(
    mode: str, threads: str
) -> None:
    config = ServingConfig.from_env({"BENCH_MODE": mode, "BENCH_PRESET": "original"})
    flags = _flags(granian_argv(config))
    assert flags["--workers"] == "4"
    assert flags["--blocking-threads"] == threads


def test_explicit_values_win_over_the_preset() -> None:
    env = {"BENCH_MODE": "wsgi", "BENCH_PRESET": "original", "BENCH_WORKERS": "1"}
    config = ServingConfig.from_env(env)
    assert (config.workers, config.blocking_threads) == (1, 6)


def test_to_env_reproduces_the_config() -> None:
    env = {"BENCH_MODE": "wsgi", "BENCH_WORKERS": "2", "BENCH_BACKPRESSURE": "10"}
    config = ServingConfig.from_env(env)
    assert ServingConfig.from_env(config.to_env()) == config


@pytest.mark.parametrize(
    "changes",
    [
        {"mode": "cgi"},
        {"workers": 0},
        {"workers": 10_000},
        {"blocking_threads": 2},
        {"runtime_threads": 0},
        {"backpressure": -1},
        {"port": 70_000},
        {"loop": "tokio"},
        {"host": ""},
    ],
)
def test_validate_refuses_bad_values(changes: dict[str, object]) -> None:
    config = ServingConfig(mode="asgi", workers=1)
    bad = ServingConfig(**{**config.as_dict(), **changes})
    with pytest.raises(ConfigError):
        bad.validate()
    with pytest.raises(ConfigError):
        granian_argv(bad)


def test_cli_json_and_print_agree(tmp_path: Path) -> None:
    env = app_env(tmp_path, "wsgi", "http://127.0.0.1:9/", BENCH_WORKERS="2")
    as_json = run_serving(env, "--json", "--port", "8123")
    printed = run_serving(env, "--print", "--port", "8123")
    assert as_json.returncode == printed.returncode == 0, as_json.stderr + printed.stderr
    data = json.loads(as_json.stdout)
    assert data["config"]["mode"] == "wsgi"
    assert data["config"]["port"] == 8123
    assert data["env"]["BENCH_PORT"] == "8123"
    assert "--interface wsgi" in printed.stdout
    assert printed.stdout.split() == data["argv"]


def test_granian_accepts_the_original_preset_for_real(tmp_path: Path, upstream: Process) -> None:
    if available_cpus() < 2:
        pytest.skip("four workers on one CPU would only slow the suite down")
    server = start_app(
        tmp_path, "wsgi", upstream.base_url + "/", BENCH_PRESET="original", BENCH_WORKERS=""
    )
    try:
        health = json.loads(http_get(server.base_url + "/health/")[1])
        assert health["serving"]["workers"] == 4
        assert health["serving"]["blocking_threads"] == 6
        assert health["serving"]["preset"] == "original"
        pids = os.popen(f"pgrep -g {server.proc.pid}").read().split()
        assert len(pids) >= 5  # Granian's main process and its four workers
    finally:
        server.stop()
