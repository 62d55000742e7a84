"""Run by test_host_package.py in a subprocess (cwd: the project's root, PYTHONPATH: the
harness): load ``abw_project.<argv[1]>`` and call it for the health path and ``/``, as
Granian would, printing what came back as JSON (or ``{"refused": ...}``)."""

import asyncio
import io
import json
import os
import sys

sys.path.insert(0, os.getcwd())  # as Granian's --working-dir does

from django.core.exceptions import ImproperlyConfigured

HOST = "198.18.0.10"


def wsgi(app, path):
    seen = {}
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "8000",
        "HTTP_HOST": f"{HOST}:8000",
        "HTTP_X_BENCH_INSTRUMENT": "1",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
    }

    def start_response(status, headers, exc_info=None):
        seen.update(status=status, headers=dict(headers))

    body = b"".join(app(environ, start_response))
    return seen["status"].split()[0], seen["headers"], body.decode()


async def asgi(app, path):
    sent = []
    asked = asyncio.Event()
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", f"{HOST}:8000".encode()), (b"x-bench-instrument", b"1")],
        "server": (HOST, 8000),
        "scheme": "http",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }

    async def receive():
        if asked.is_set():  # the client stays connected until the response is sent
            await asyncio.Event().wait()
        asked.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return str(sent[0]["status"]), headers, body.decode()


def main():
    try:
        module = __import__("abw_project." + sys.argv[1], fromlist=["application"])
    except ImproperlyConfigured as error:
        print(json.dumps({"refused": str(error)}))
        return
    out = {}
    for path in ("/__bench__/health/", "/"):
        if os.environ["BENCH_MODE"] == "wsgi":
            status, headers, body = wsgi(module.application, path)
        else:
            status, headers, body = asyncio.run(asgi(module.application, path))
        lowered = {k.lower(): v for k, v in headers.items()}
        out[path] = {"status": status, "headers": lowered, "body": body}
    from django.conf import settings

    out["allowed_hosts"] = settings.ALLOWED_HOSTS
    out["debug"] = settings.DEBUG
    print(json.dumps(out))


main()
