"""The ``io`` scenario's upstream: a tiny HTTP/1.1 delay server, standard library only.

``GET /?delay_ms=N`` answers after sleeping N milliseconds (0..10000) with a small fixed
body; ``GET /health`` answers at once; ``GET /stats`` returns JSON counters (requests
served, delayed requests, connections open, stalls armed) so a test can see that a call
arrived. ``GET /stall?after_s=A&for_s=S`` arms one stall: from A seconds on, for S seconds,
every ``/?delay_ms=`` answer is held until the stall ends (the open-loop proof: a
closed-loop client stops sending while it waits, an open-loop one keeps the rate).
Keep-alive aware (HTTP/1.1 default, ``Connection: close`` honoured, HTTP/1.0 closes unless
asked to keep alive); one asyncio task per connection, so hundreds of waiting
connections cost no threads.

Usage: ``python upstream_server.py --host 198.18.0.21 --port 8001``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from urllib.parse import parse_qs, urlsplit

MAX_DELAY_MS = 10_000
MAX_STALL_S = 60.0
MAX_HEADER_BYTES = 16_384
IDLE_TIMEOUT_S = 75.0
BODY = b"upstream ok\n"


class Stats:
    """Counters the ``/stats`` route reports."""

    def __init__(self) -> None:
        self.requests = 0
        self.delayed = 0
        self.connections = 0
        self.stalls = 0
        self.stalled = 0  # answers held by a stall
        self._stall: tuple[float, float] | None = None  # (start, end) on the loop's clock

    def as_json(self) -> bytes:
        """The counters as a JSON body."""
        public = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return json.dumps(public).encode() + b"\n"

    def arm_stall(self, after_s: float, for_s: float) -> None:
        """Hold every delayed answer from `after_s` seconds on for `for_s` seconds."""
        now = asyncio.get_running_loop().time()
        self._stall = (now + after_s, now + after_s + for_s)
        self.stalls += 1

    async def wait_out_stall(self) -> None:
        """Sleep until the armed stall ends, if now is inside it."""
        if self._stall is None:
            return
        start, end = self._stall
        now = asyncio.get_running_loop().time()
        if start <= now < end:
            self.stalled += 1
            await asyncio.sleep(end - now)


def _stall_args(query: str) -> tuple[float, float] | None:
    """(after_s, for_s) from a /stall query, or None when they are not 0..MAX_STALL_S."""
    args = parse_qs(query)
    try:
        after_s = float(args.get("after_s", ["0"])[-1])
        for_s = float(args.get("for_s", [""])[-1])
    except ValueError:
        return None
    if not (0 <= after_s <= MAX_STALL_S and 0 < for_s <= MAX_STALL_S):
        return None
    return after_s, for_s


def _response(status: str, body: bytes, keep_alive: bool, content_type: str) -> bytes:
    connection = "keep-alive" if keep_alive else "close"
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: {connection}\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _route(method: str, target: str, stats: Stats) -> tuple[str, bytes, str]:
    """Return (status, body, content type) for one request, sleeping when asked to."""
    url = urlsplit(target)
    if method not in ("GET", "HEAD"):
        return "405 Method Not Allowed", b"only GET\n", "text/plain"
    if url.path == "/health":
        return "200 OK", b"ok\n", "text/plain"
    if url.path == "/stats":
        return "200 OK", stats.as_json(), "application/json"
    if url.path == "/stall":
        stall = _stall_args(url.query)
        if stall is None:
            message = f"stall needs for_s in (0, {MAX_STALL_S}] and after_s in [0, {MAX_STALL_S}]\n"
            return "400 Bad Request", message.encode(), "text/plain"
        stats.arm_stall(*stall)
        return "200 OK", stats.as_json(), "application/json"
    if url.path != "/":
        return "404 Not Found", b"not found\n", "text/plain"
    raw = parse_qs(url.query).get("delay_ms", ["0"])[-1]
    try:
        delay_ms = int(raw)
    except ValueError:
        delay_ms = -1
    if not 0 <= delay_ms <= MAX_DELAY_MS:
        return "400 Bad Request", f"delay_ms must be 0..{MAX_DELAY_MS}\n".encode(), "text/plain"
    if delay_ms:
        stats.delayed += 1
        await asyncio.sleep(delay_ms / 1000)
    await stats.wait_out_stall()
    return "200 OK", BODY, "text/plain"


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    stats.connections += 1
    try:
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT_S)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                writer.write(
                    _response("400 Bad Request", b"bad request line\n", False, "text/plain")
                )
                await writer.drain()
                return
            method, target, version = parts
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip().lower()
            if int(headers.get("content-length", "0") or 0):
                await reader.readexactly(int(headers["content-length"]))
            connection = headers.get("connection", "")
            keep_alive = (
                connection == "keep-alive" if version == "HTTP/1.0" else connection != "close"
            )
            stats.requests += 1
            status, body, content_type = await _route(method, target, stats)
            response = _response(status, body, keep_alive, content_type)
            if method == "HEAD":
                response = response[: response.index(b"\r\n\r\n") + 4]
            writer.write(response)
            await writer.drain()
            if not keep_alive:
                return
    except (ConnectionError, ValueError):
        return
    finally:
        stats.connections -= 1
        writer.close()


async def serve(host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    stats = Stats()
    server = await asyncio.start_server(
        lambda r, w: _handle(r, w, stats), host, port, backlog=4096, limit=MAX_HEADER_BYTES
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"upstream: listening on http://{host}:{port}/", flush=True)
    async with server:
        await stop.wait()
    print("upstream: stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="upstream_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to bind (default 8001)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port))
    except OSError as error:
        print(
            f"upstream_server: error: cannot listen on {args.host}:{args.port}: {error.strerror}",
            file=sys.stderr,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
