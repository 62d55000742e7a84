"""Per-request accounting, on when ``BENCH_INSTRUMENT=1``: thread hops and CPU time.

Only requests that ask for it are counted: those carrying ``X-Bench-Instrument: 1``
(the runner's separate instrumented pass sends it; ab never does). Every other request
pays one header lookup (a dict ``get`` under WSGI, a scan of the few request headers
under ASGI) and, per bridge it crosses, one extra function frame and one context-variable
read that finds nothing: well under a microsecond each, against the tens of microseconds
a thread hop itself costs. So the deploy can leave the switch on and timed runs stay
uncounted (docs/EXPLAIN.md has the measured cost).

A *hop* is one call through an asgiref bridge: ``sync_to_async`` (async code handing
work to a thread) or ``async_to_sync`` (sync code running a coroutine in an event loop).
The entry points wrap the Django application so that each request gets a counter in a
context variable; asgiref copies the context into the threads and loops it bridges to,
so every hop made on the request's behalf lands on its counter.

Two response headers report them, added when the response starts:

- ``X-Bench-Hops``: bridges crossed so far. Django's ASGI handler makes two more after
  the body is sent (``request_finished`` and ``response.close``); headers cannot carry
  them, so they are not counted (WSGI makes none there).
- ``X-Bench-Cpu-Ms``: CPU time of the whole worker process (all threads) between the
  request's arrival and its response start. It is the request's own cost only when
  requests are measured one at a time, which is how the runner's instrumented pass uses
  it; under concurrency it includes the overlapping requests' work.

Counting costs time, so timed runs never ask for it.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from typing import Any

from asgiref import sync

ASK_HEADER = "X-Bench-Instrument"
_ASK_WSGI = "HTTP_X_BENCH_INSTRUMENT"
_ASK_ASGI = b"x-bench-instrument"

_hops: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("bench_hops", default=None)
_installed = False


def _count() -> None:
    counter = _hops.get()
    if counter is not None:
        counter[0] += 1


def install() -> None:
    """Make every asgiref bridge call count a hop on the current request (idempotent)."""
    global _installed
    if _installed:
        return
    sync_to_async_call = sync.SyncToAsync.__call__
    async_to_sync_call = sync.AsyncToSync.__call__

    async def counted_sync_to_async(self: Any, *args: Any, **kwargs: Any) -> Any:
        _count()
        return await sync_to_async_call(self, *args, **kwargs)

    def counted_async_to_sync(self: Any, *args: Any, **kwargs: Any) -> Any:
        _count()
        return async_to_sync_call(self, *args, **kwargs)

    sync.SyncToAsync.__call__ = counted_sync_to_async
    sync.AsyncToSync.__call__ = counted_async_to_sync
    _installed = True


def _headers(counter: list[int], cpu_start: float) -> list[tuple[str, str]]:
    cpu_ms = (time.process_time() - cpu_start) * 1000
    return [("X-Bench-Hops", str(counter[0])), ("X-Bench-Cpu-Ms", f"{cpu_ms:.3f}")]


def wrap_wsgi(app: Callable) -> Callable:
    """The WSGI application with per-request hop and CPU headers."""
    install()

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get(_ASK_WSGI) != "1":
            return app(environ, start_response)
        counter, cpu_start = [0], time.process_time()
        token = _hops.set(counter)

        def start(status: str, headers: list, exc_info: Any = None) -> Callable:
            return start_response(status, [*headers, *_headers(counter, cpu_start)], exc_info)

        try:
            return app(environ, start)
        finally:
            _hops.reset(token)

    return application


def _asked(scope: dict) -> bool:
    """Whether an ASGI request carries ``X-Bench-Instrument: 1`` (names come lower-case)."""
    for name, value in scope.get("headers") or ():
        if name == _ASK_ASGI:
            return value == b"1"
    return False


def wrap_asgi(app: Callable) -> Callable:
    """The ASGI application with per-request hop and CPU headers."""
    install()

    async def application(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not _asked(scope):
            await app(scope, receive, send)
            return
        counter, cpu_start = [0], time.process_time()
        token = _hops.set(counter)

        async def counted_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in _headers(counter, cpu_start)]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await app(scope, receive, counted_send)
        finally:
            _hops.reset(token)

    return application
