"""Granian's Prometheus exporter as serving.py turns it on, for real, in both modes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from benchsite.env import ConfigError
from benchsite.serving import ServingConfig, granian_argv
from runner.granian_metrics import totals
from tests.app.conftest import Process, free_port, http_get, start_app


def test_metrics_flags_follow_the_host_and_scrape_every_second() -> None:
    env = {"BENCH_MODE": "wsgi", "BENCH_HOST": "198.18.0.10", "BENCH_METRICS_PORT": "9090"}
    argv = granian_argv(ServingConfig.from_env(env))
    start = argv.index("--metrics")
    assert argv[start : start + 7] == [
        "--metrics",
        "--metrics-address",
        "198.18.0.10",
        "--metrics-port",
        "9090",
        "--metrics-scrape-interval",
        "1",
    ]
    assert "--metrics" not in granian_argv(ServingConfig.from_env({"BENCH_MODE": "wsgi"}))


def test_metrics_port_must_differ_from_the_apps() -> None:
    env = {"BENCH_MODE": "asgi", "BENCH_PORT": "8000", "BENCH_METRICS_PORT": "8000"}
    with pytest.raises(ConfigError, match="BENCH_METRICS_PORT=8000 is the app's own port"):
        ServingConfig.from_env(env)


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
def test_the_exporter_counts_the_requests_served(
    tmp_path: Path, upstream: Process, mode: str
) -> None:
    metrics_port = free_port()
    server = start_app(
        tmp_path, mode, upstream.base_url + "/", BENCH_METRICS_PORT=str(metrics_port)
    )
    url = f"http://127.0.0.1:{metrics_port}/"
    try:
        for _ in range(5):
            assert http_get(server.base_url + "/plain/sync/")[0] == 200
        # The workers report every second: wait (bounded) until the exporter shows them.
        found: dict[str, float] = {}
        for _ in range(10):
            found = totals(http_get(url)[1].decode())
            if found.get("requests_handled", 0) >= 5:
                break
            time.sleep(0.5)
        assert found.get("requests_handled", 0) >= 5
        assert found["workers"] >= 1
        assert "py_wait_cumulative" in found
        assert "blocking_queue" in found
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
def test_io_with_a_query_first_serves_the_same_page(
    tmp_path: Path, upstream: Process, servers: dict[str, Process], mode: str
) -> None:
    server = start_app(tmp_path, mode, upstream.base_url + "/", BENCH_IO_QUERY="1")
    try:
        assert json.loads(http_get(server.base_url + "/health/")[1])["upstream"]["query"] is True
        for route in ("/io/sync/", "/io/async/"):
            status, body = http_get(server.base_url + route)
            assert status == 200
            assert body == http_get(servers[mode].base_url + route)[1]
    finally:
        server.stop()
