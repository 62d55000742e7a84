"""BENCH_INSTRUMENT=1: hop and CPU headers, checked on views with a known number of bridges."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.conftest import Process, http_get, start_app

# Bridges each view crosses itself: a sync view under ASGI is run by sync_to_async (1);
# an async view under WSGI is run by async_to_sync (1); QuerySet.__aiter__ fetches through
# sync_to_async (1); the original's wrapped view calls sync_to_async twice (2).
VIEW_HOPS = {
    "asgi": {"plain/sync": 1, "plain/async": 0, "users/async": 1, "users/async-wrapped": 2},
    "wsgi": {"plain/sync": 0, "plain/async": 1, "users/async": 2, "users/async-wrapped": 3},
}


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def instrumented(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstream: Process
) -> Iterator[Process]:
    """Counters on, and the ``async`` middleware stack, which must add no hop of its own."""
    tmp: Path = tmp_path_factory.mktemp(f"instrumented-{request.param}")
    server = start_app(
        tmp,
        request.param,
        upstream.base_url + "/",
        BENCH_INSTRUMENT="1",
        BENCH_MIDDLEWARE="async",
    )
    try:
        yield server
    finally:
        server.stop()


def _measure(server: Process, route: str) -> tuple[int, float]:
    request = urllib.request.Request(
        f"{server.base_url}/{route}/", headers={"X-Bench-Instrument": "1"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        # The async stack's security headers, set in either mode.
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        return int(response.headers["X-Bench-Hops"]), float(response.headers["X-Bench-Cpu-Ms"])


def test_hops_match_the_bridges_each_view_crosses(instrumented: Process) -> None:
    mode = instrumented.env["BENCH_MODE"]
    # What the handler itself adds (ASGI: request_started is sent through sync_to_async).
    handler = _measure(instrumented, "plain/async")[0] - VIEW_HOPS[mode]["plain/async"]
    assert handler == (1 if mode == "asgi" else 0)
    for route, hops in VIEW_HOPS[mode].items():
        assert _measure(instrumented, route)[0] == handler + hops, route


def test_cpu_time_is_reported_and_the_page_is_unchanged(
    instrumented: Process, servers: dict[str, Process]
) -> None:
    _, cpu_ms = _measure(instrumented, "users/sync")
    assert cpu_ms > 0
    plain = http_get(servers[instrumented.env["BENCH_MODE"]].base_url + "/users/sync/")[1]
    assert http_get(instrumented.base_url + "/users/sync/")[1] == plain


@pytest.mark.parametrize("ask", [None, "0", "yes"])
def test_only_requests_that_ask_are_counted(instrumented: Process, ask: str | None) -> None:
    headers = {} if ask is None else {"X-Bench-Instrument": ask}
    request = urllib.request.Request(f"{instrumented.base_url}/plain/sync/", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.read() == b"plain ok\n"
        assert response.headers["X-Bench-Hops"] is None
        assert response.headers["X-Bench-Cpu-Ms"] is None
    # ... and the next request that asks is counted from zero, not from what went before.
    # (ASGI: the handler's request_started hop; WSGI: the view's async_to_sync.)
    assert _measure(instrumented, "plain/async")[0] == 1


def test_counters_are_off_by_default(servers: dict[str, Process]) -> None:
    for server in servers.values():
        request = urllib.request.Request(
            server.base_url + "/plain/sync/", headers={"X-Bench-Instrument": "1"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["X-Bench-Hops"] is None
