"""What frames the app's response, per HTTP version, from the load generator: the
evidence behind a gap between ab (HTTP/1.0 + Keep-Alive) and wrk (HTTP/1.1).

    .venv/bin/python -m benchmarks.httpcheck [--inventory inventory/local.yml] [--page users]

For the deployed mode's page it prints, for HTTP/1.0 with Keep-Alive (ab -k) and for
HTTP/1.1 (wrk): the status line, Content-Length, Transfer-Encoding, Connection, how the
body was framed, and whether the server answered a second request on the connection.
"""

from __future__ import annotations

import argparse
import json
import sys

from runner.inventory import InventoryError, load_inventory
from runner.plan import route
from runner.remote import RemoteError, connect


def main(argv: list[str] | None = None) -> int:
    """Probe the deployed app once per HTTP version; print what it answered."""
    p = argparse.ArgumentParser(prog="httpcheck", description=__doc__.splitlines()[0])
    p.add_argument("--inventory", default="inventory/local.yml")
    p.add_argument("--page", default="users", help="scenario: users, plain or io")
    p.add_argument("--view", default="original")
    args = p.parse_args(argv)
    try:
        inv = load_inventory(args.inventory)
        lg = connect(inv.loadgens[0])
        try:
            mode = (lg.probe("http", inv.app_url("/health/")).get("json") or {}).get("mode")
            if mode not in ("asgi", "wsgi"):
                raise RemoteError(f"the app's health page names no mode (got {mode!r})")
            url = inv.app_url(route(args.page, args.view, mode))
            found = lg.probe("httpver", url)
        finally:
            lg.close()
    except (InventoryError, RemoteError, ValueError) as exc:
        print(f"httpcheck: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"mode": mode, **found}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
