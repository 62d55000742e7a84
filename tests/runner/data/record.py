#!/usr/bin/env python3
"""Re-record the real ApacheBench outputs the parser tests read.

Run from the repository root: `python3 tests/runner/data/record.py`. It starts a small
stdlib HTTP server on 127.0.0.1 (only loopback, bounded request counts) and runs `ab`
against it in every situation the runner must understand, saving for each case NAME:
NAME.stdout, NAME.stderr, NAME.rc and, when ab wrote it, NAME.tsv (-g).
"""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
BODY = b"<html><body>" + b"x" * 1000 + b"</body></html>\n"
HANG_S = 4.0  # how long a "never answering" handler sleeps (longer than ab's -s 1)


class Handler(BaseHTTPRequestHandler):
    """Routes: /ok, /notfound (404), /flaky (every 3rd request 500), /vary (length
    changes), /hang (never answers in time), /hang-after (answers 20 times, then hangs)."""

    protocol_version = "HTTP/1.1"  # so ab -k can reuse connections
    disable_nagle_algorithm = True  # else each keep-alive answer waits on a delayed ACK
    counter = itertools.count()
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        if self.headers.get("Connection", "").lower() == "keep-alive":
            # ab speaks HTTP/1.0: it reuses a connection only when the answer says so
            self.send_header("Connection", "keep-alive")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with self.lock:
            n = next(self.counter)
        if self.path == "/ok":
            self._send(200, BODY)
        elif self.path == "/notfound":
            self._send(404, b"not found\n")
        elif self.path == "/flaky":
            self._send(500 if n % 3 == 0 else 200, BODY)
        elif self.path == "/vary":
            self._send(200, BODY + b"y" * (n % 4))
        elif self.path == "/hang":
            time.sleep(HANG_S)
            self.close_connection = True
        elif self.path.startswith("/hang-after"):
            if Handler.served_before_hang > 0:
                with self.lock:
                    Handler.served_before_hang -= 1
                self._send(200, BODY)
            else:
                time.sleep(HANG_S)
                self.close_connection = True
        else:
            self._send(400, b"unknown path\n")

    served_before_hang = 0


def free_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record(name: str, args: list[str], url: str, prefix: tuple[str, ...] = ()) -> None:
    """Run ab with -g into HERE/NAME.* and keep what it wrote."""
    tsv = HERE / f"{name}.tsv"
    tsv.unlink(missing_ok=True)
    argv = [*prefix, "ab", "-r", *args, "-g", str(tsv), url]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    (HERE / f"{name}.stdout").write_text(proc.stdout)
    (HERE / f"{name}.stderr").write_text(proc.stderr)
    (HERE / f"{name}.rc").write_text(f"{proc.returncode}\n")
    print(f"{name}: rc={proc.returncode} tsv={tsv.exists()}")


def record_parallel(names: list[str], args: list[str], url: str) -> None:
    """Several ab at once against one URL: what N load-generator hosts produce."""
    procs = []
    for name in names:
        tsv = HERE / f"{name}.tsv"
        argv = ["ab", "-r", *args, "-g", str(tsv), url]
        procs.append((name, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    for name, proc in procs:
        out, err = proc.communicate(timeout=60)
        (HERE / f"{name}.stdout").write_bytes(out)
        (HERE / f"{name}.stderr").write_bytes(err)
        (HERE / f"{name}.rc").write_text(f"{proc.returncode}\n")
        print(f"{name}: rc={proc.returncode}")


def main() -> int:
    if not shutil.which("ab"):
        print("record.py: ab not found: install apache2-utils", file=sys.stderr)
        return 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        record("clean", ["-n", "1000", "-c", "4", "-s", "10"], f"{base}/ok")
        record("keepalive", ["-k", "-n", "200", "-c", "4", "-s", "10"], f"{base}/ok")
        record("notfound", ["-n", "50", "-c", "2", "-s", "10"], f"{base}/notfound")
        record("flaky", ["-n", "60", "-c", "3", "-s", "10"], f"{base}/flaky")
        record("vary", ["-n", "60", "-c", "3", "-s", "10"], f"{base}/vary")
        record("refused", ["-n", "20", "-c", "2", "-s", "2"], f"http://127.0.0.1:{free_port()}/")
        record("timeout", ["-n", "10", "-c", "2", "-s", "1"], f"{base}/hang")
        record_parallel(["merge_a", "merge_b"], ["-n", "300", "-c", "3", "-s", "10"], f"{base}/ok")
        Handler.served_before_hang = 20
        record("timeout_partial", ["-n", "60", "-c", "2", "-s", "1"], f"{base}/hang-after")
        # what the runner's outer bound does: `timeout --signal=INT` stops a stuck ab
        Handler.served_before_hang = 20
        record(
            "interrupted",
            ["-n", "60", "-c", "2", "-s", "30"],
            f"{base}/hang-after",
            prefix=("timeout", "--signal=INT", "2"),
        )
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
