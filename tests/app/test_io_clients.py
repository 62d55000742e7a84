"""The io scenario with the httpx client (BENCH_IO_CLIENT=httpx) serves the same page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.conftest import Process, http_get, start_app


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
def test_httpx_client_serves_the_same_io_page(
    tmp_path: Path, mode: str, upstream: Process, servers: dict[str, Process]
) -> None:
    server = start_app(tmp_path, mode, upstream.base_url + "/", BENCH_IO_CLIENT="httpx")
    try:
        health = json.loads(http_get(server.base_url + "/health/")[1])
        assert health["upstream"]["client"] == "httpx"
        before = json.loads(http_get(upstream.base_url + "/stats")[1])["delayed"]
        reference = http_get(servers[mode].base_url + "/io/sync/")
        for view in ("sync", "async"):
            assert http_get(f"{server.base_url}/io/{view}/") == reference
        after = json.loads(http_get(upstream.base_url + "/stats")[1])["delayed"]
        assert after == before + 3
    finally:
        server.stop()
