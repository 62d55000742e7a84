"""The io scenario's upstream delay server: delays, keep-alive, bounds."""

from __future__ import annotations

import http.client
import json
import time
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


def test_a_stall_holds_every_delayed_answer_once(upstream: Process) -> None:
    """Armed for S seconds, the stall holds each answer until it ends (a lower bound on
    the wait: sleeping never ends early), counts it, and holds nothing once it is over."""
    conn = _connection(upstream)
    try:
        conn.request("GET", "/stall?after_s=0&for_s=0.3")
        armed = conn.getresponse()
        stalls = json.loads(armed.read())["stalls"]
        assert armed.status == 200
        started = time.monotonic()
        conn.request("GET", "/?delay_ms=0")
        assert conn.getresponse().read() == b"upstream ok\n"
        assert time.monotonic() - started >= 0.29
        conn.request("GET", "/stats")
        stats = json.loads(conn.getresponse().read())
        assert stats["stalls"] == stalls and stats["stalled"] >= 1
        conn.request("GET", "/?delay_ms=0")  # the stall is over: not held
        conn.getresponse().read()
        conn.request("GET", "/stats")
        assert json.loads(conn.getresponse().read())["stalled"] == stats["stalled"]
    finally:
        conn.close()


def test_refuses_a_stall_out_of_bounds(upstream: Process) -> None:
    conn = _connection(upstream)
    try:
        for query in ("for_s=0", "for_s=61", "for_s=x", "after_s=-1&for_s=1", ""):
            conn.request("GET", f"/stall?{query}")
            response = conn.getresponse()
            assert b"stall needs for_s" in response.read()
            assert response.status == 400, query
    finally:
        conn.close()
