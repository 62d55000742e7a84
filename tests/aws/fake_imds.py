"""A fake EC2 instance metadata service (IMDSv2) for the guard and metadata tests.

Serves PUT /latest/api/token, then GETs of /latest/meta-data/... only with that token,
from a folder whose file paths are the metadata paths (tags/instance/expiry holds the
expiry tag). Binds 127.0.0.1 (run it inside a namespace host with `ip netns exec`); writes
its port to --ready when it listens.
"""

from __future__ import annotations

import argparse
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOKEN = "fake-imds-token"


def handler_for(root: Path) -> type[BaseHTTPRequestHandler]:
    """A request handler serving the metadata tree under `root`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:
            if self.path == "/latest/api/token":
                self._send(200, TOKEN)
            else:
                self._send(404, "")

        def do_GET(self) -> None:
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                self._send(401, "")
                return
            prefix = "/latest/meta-data/"
            rel = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
            target = (root / rel).resolve()
            if not rel or root.resolve() not in target.parents or not target.is_file():
                self._send(404, "")
                return
            self._send(200, target.read_text())

    return Handler


def main(argv: list[str]) -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--ready", required=True, type=Path)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(args.root))
    args.ready.write_text(str(server.server_address[1]))
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
