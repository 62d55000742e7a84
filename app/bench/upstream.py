"""HTTP clients for the ``io`` scenario's upstream delay server.

Two implementations, chosen by ``BENCH_IO_CLIENT``; each has a sync form (sync views)
and an async form (async views), with the same pooling, limits and timeouts:

- ``stdlib`` (default): a lean HTTP/1.1 keep-alive client, ``http.client`` for sync views
  and asyncio streams for async views, each with an unbounded pool of idle connections.
- ``httpx``: ``httpx.Client`` / ``httpx.AsyncClient``. Measured here, httpx's connection
  pool costs ~7.7 ms of CPU per request at concurrency 200 (0.1 ms for the lean client;
  encode/httpx#3215), which would make the ``io`` scenario measure httpx rather than the
  interfaces. Kept so that cost can be shown.

Sync views share one pool per process (thread-safe). Async views use one pool per event
loop, because a connection belongs to the loop that opened it. Under WSGI each async
request runs in an event loop of its own (asgiref's ``async_to_sync`` calls
``asyncio.run``), so there an async view's connection lives exactly as long as the
request and is closed with it.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
import weakref
from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings

# No cap on connections: the server's concurrency, not the client's pool, must decide.
HTTPX_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=1000)


class UpstreamError(Exception):
    """The upstream could not be reached or did not answer 200."""


def _target() -> tuple[str, int, str, float]:
    """(host, port, path with query, timeout in seconds) of the configured call."""
    url = urlsplit(settings.BENCH_UPSTREAM_URL)
    delay_ms = settings.BENCH_UPSTREAM_DELAY_MS
    path = f"{url.path or '/'}?{urlencode({'delay_ms': delay_ms})}"
    return url.hostname or "127.0.0.1", url.port or 80, path, 10.0 + delay_ms / 1000


def _error(error: BaseException) -> UpstreamError:
    return UpstreamError(f"{type(error).__name__}: {error}".rstrip(": "))


# --- stdlib, sync ------------------------------------------------------------------

_idle: list[http.client.HTTPConnection] = []
_idle_lock = threading.Lock()


def _sync_stdlib() -> str:
    host, port, path, timeout = _target()
    for _attempt in range(2):
        with _idle_lock:
            conn = _idle.pop() if _idle else None
        reused = conn is not None
        conn = conn or http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            if reused:  # a kept-alive connection the server closed: retry on a fresh one
                continue
            raise _error(error) from error
        if response.will_close:
            conn.close()
        else:
            with _idle_lock:
                _idle.append(conn)
        if response.status != 200:
            raise UpstreamError(f"HTTP {response.status}")
        return body.decode("utf-8", "replace")
    raise UpstreamError("connection closed twice by the upstream")


# --- stdlib, async -----------------------------------------------------------------

_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_async_idle: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Conn]] = (
    weakref.WeakKeyDictionary()
)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep-alive) of one HTTP/1.1 response with a Content-Length."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection") != "close"


async def _async_stdlib() -> str:
    host, port, path, timeout = _target()
    # Under WSGI the loop dies with the request: do not keep its connection.
    keep = settings.BENCH_MODE != "wsgi"
    idle = _async_idle.setdefault(asyncio.get_running_loop(), [])
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    request += "\r\n" if keep else "Connection: close\r\n\r\n"
    try:
        async with asyncio.timeout(timeout):
            for _attempt in range(2):
                reused = bool(idle)
                reader, writer = idle.pop() if reused else await asyncio.open_connection(host, port)
                try:
                    writer.write(request.encode("latin-1"))
                    await writer.drain()
                    status, body, alive = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError):
                    writer.close()
                    if reused:  # a kept-alive connection the server closed: retry
                        continue
                    raise
                if keep and alive:
                    idle.append((reader, writer))
                else:
                    writer.close()
                if status != 200:
                    raise UpstreamError(f"HTTP {status}")
                return body.decode("utf-8", "replace")
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
        raise _error(error) from error
    raise UpstreamError("connection closed twice by the upstream")


# --- httpx -------------------------------------------------------------------------

_httpx_client: httpx.Client | None = None
_httpx_lock = threading.Lock()
_httpx_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _httpx_args() -> dict[str, object]:
    return {
        "url": settings.BENCH_UPSTREAM_URL,
        "params": {"delay_ms": settings.BENCH_UPSTREAM_DELAY_MS},
        "timeout": httpx.Timeout(_target()[3]),
    }


def _httpx_reply(response: httpx.Response) -> str:
    if response.status_code != 200:
        raise UpstreamError(f"HTTP {response.status_code}")
    return response.text


def _sync_httpx() -> str:
    global _httpx_client
    if _httpx_client is None:
        with _httpx_lock:
            if _httpx_client is None:
                _httpx_client = httpx.Client(limits=HTTPX_LIMITS)
    try:
        return _httpx_reply(_httpx_client.get(**_httpx_args()))
    except httpx.HTTPError as error:
        raise _error(error) from error


async def _async_httpx() -> str:
    try:
        if settings.BENCH_MODE == "wsgi":
            async with httpx.AsyncClient(limits=HTTPX_LIMITS) as client:
                return _httpx_reply(await client.get(**_httpx_args()))
        loop = asyncio.get_running_loop()
        client = _httpx_async.get(loop)
        if client is None:
            client = _httpx_async[loop] = httpx.AsyncClient(limits=HTTPX_LIMITS)
        return _httpx_reply(await client.get(**_httpx_args()))
    except httpx.HTTPError as error:
        raise _error(error) from error


def fetch_sync() -> str:
    """GET the upstream with the configured delay from a sync view; return its body."""
    return _sync_httpx() if settings.BENCH_IO_CLIENT == "httpx" else _sync_stdlib()


async def fetch_async() -> str:
    """GET the upstream with the configured delay from an async view; return its body."""
    if settings.BENCH_IO_CLIENT == "httpx":
        return await _async_httpx()
    return await _async_stdlib()
