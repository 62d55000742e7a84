"""HTTP clients for the ``io`` scenario's upstream delay server.

Sync views share one ``httpx.Client`` per process (it is thread-safe and pools its
connections). Async views use one ``httpx.AsyncClient`` per event loop, because a client's
connections belong to the loop that opened them. Under WSGI each async request runs in
an event loop of its own (asgiref's ``async_to_sync`` calls ``asyncio.run``), so there
the client lives exactly as long as the request and is closed with it.
Both kinds get the same connection limits and timeouts, so neither mode is favoured.
"""

from __future__ import annotations

import asyncio
import threading
import weakref

import httpx
from django.conf import settings

# No cap on connections: the server's concurrency, not the client's pool, must decide.
LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=1000)

_sync_client: httpx.Client | None = None
_sync_lock = threading.Lock()
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _request_args() -> dict[str, object]:
    delay_ms = settings.BENCH_UPSTREAM_DELAY_MS
    return {
        "url": settings.BENCH_UPSTREAM_URL,
        "params": {"delay_ms": delay_ms},
        "timeout": httpx.Timeout(10.0 + delay_ms / 1000),
    }


def _reply(response: httpx.Response) -> str:
    response.raise_for_status()
    return response.text


def fetch_sync() -> str:
    """GET the upstream with the configured delay from a sync view; return its body."""
    global _sync_client
    if _sync_client is None:
        with _sync_lock:
            if _sync_client is None:
                _sync_client = httpx.Client(limits=LIMITS)
    return _reply(_sync_client.get(**_request_args()))


async def fetch_async() -> str:
    """GET the upstream with the configured delay from an async view; return its body."""
    if settings.BENCH_MODE == "wsgi":
        async with httpx.AsyncClient(limits=LIMITS) as client:
            return _reply(await client.get(**_request_args()))
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = httpx.AsyncClient(limits=LIMITS)
    return _reply(await client.get(**_request_args()))
