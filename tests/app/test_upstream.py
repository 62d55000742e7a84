"""The io scenario's upstream delay server: delays, keep-alive, bounds."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from tests.app.conftest import Process


def _connection(upstream: Process) -> http.client.HTTPConnection:
    url = urlsplit(upstream.base_url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=15)


def test_keeps_the_connection_alive_across_requests(upstream: Process) -> None:
    conn = _connection(upstream)
    try:
        for delay in (0, 20, 5):
            conn.request("GET", f"/?delay_ms={delay}")
            response = conn.getresponse()
            assert response.status == 200
            assert response.read() == b"upstream ok\n"
            assert response.getheader("Connection") == "keep-alive"
        conn.request("GET", "/stats")
        stats = json.loads(conn.getresponse().read())
        assert stats["connections"] >= 1
    finally:
        conn.close()


def test_refuses_delays_out_of_bounds_and_unknown_paths(upstream: Process) -> None:
    conn = _connection(upstream)
    try:
        for target, status in (("/?delay_ms=10001", 400), ("/?delay_ms=abc", 400), ("/x", 404)):
            conn.request("GET", target)
            response = conn.getresponse()
            response.read()
            assert response.status == status, target
    finally:
        conn.close()


def test_connection_close_is_honoured(upstream: Process) -> None:
    conn = _connection(upstream)
    try:
        conn.request("GET", "/health", headers={"Connection": "close"})
        response = conn.getresponse()
        assert response.read() == b"ok\n"
        assert response.getheader("Connection") == "close"
    finally:
        conn.close()
