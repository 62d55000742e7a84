"""Load the project's WSGI or ASGI application inside the harness's wrappers.

Outermost the health path (answered without touching the project's URLs), then the
hop and CPU counting of the built-in app (``instrument``, when ``BENCH_INSTRUMENT=1``),
then the project's own application. A mode other than the module's refuses to load.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
from collections.abc import Callable

from abw_project import generated
from abw_project.env import ConfigError, read_bool, read_mode
from django.core.exceptions import ImproperlyConfigured

SETTINGS_MODULE = "abw_project.settings"


def require_mode(expected: str) -> None:
    """Use the harness's settings and refuse to load unless ``BENCH_MODE`` is `expected`."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    try:
        mode = read_mode(os.environ)
    except ConfigError as error:
        raise ImproperlyConfigured(str(error)) from None
    if mode != expected:
        raise ImproperlyConfigured(
            f"abw_project.{expected} loaded with BENCH_MODE={mode!r}: serve it with "
            f"BENCH_MODE={expected}"
        )


def _project_app(mode: str) -> Callable:
    target = generated.ASGI if mode == "asgi" else generated.WSGI
    if target is None:
        if mode == "asgi":
            from django.core.asgi import get_asgi_application

            return get_asgi_application()
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def health(mode: str) -> dict[str, object]:
    """What the health path answers: mode, versions, project, settings."""
    import django
    from django.conf import settings

    return {
        "mode": mode,
        "target": "project",
        "project": generated.PROJECT,
        "versions": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "granian": importlib.metadata.version("granian"),
        },
        "debug": bool(settings.DEBUG),
        "settings": generated.SETTINGS,
        "overrides": sorted(generated.OVERRIDES),
        "instrument": read_bool(os.environ, "BENCH_INSTRUMENT"),
    }


def load(mode: str) -> Callable:
    """The application Granian serves in ``mode``."""
    require_mode(mode)
    app = _project_app(mode)
    from django.conf import settings

    if settings.SETTINGS_MODULE != SETTINGS_MODULE:
        raise ImproperlyConfigured(
            f"{generated.ASGI if mode == 'asgi' else generated.WSGI} forces "
            f"DJANGO_SETTINGS_MODULE={settings.SETTINGS_MODULE}, so the overrides would be "
            f"lost: set {mode} in the project file to a module that uses setdefault"
        )
    if read_bool(os.environ, "BENCH_INSTRUMENT"):
        from abw_project import instrument

        app = instrument.wrap_asgi(app) if mode == "asgi" else instrument.wrap_wsgi(app)
    body = json.dumps(health(mode)).encode()
    return _with_health_asgi(app, body) if mode == "asgi" else _with_health_wsgi(app, body)


def _with_health_wsgi(app: Callable, body: bytes) -> Callable:
    def application(environ: dict, start_response: Callable) -> object:
        if environ.get("PATH_INFO") == generated.HEALTH_PATH:
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return application


def _with_health_asgi(app: Callable, body: bytes) -> Callable:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]

    async def application(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope.get("path") == generated.HEALTH_PATH:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return application
