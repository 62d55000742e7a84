"""The check both entry points (asgi.py, wsgi.py) make before Django is set up."""

import os

from django.core.exceptions import ImproperlyConfigured

from benchsite.env import ConfigError, read_mode


def require_mode(expected: str) -> None:
    """Point Django at our settings and refuse to load unless ``BENCH_MODE`` is `expected`,
    so the interface Granian speaks and the mode the app reports can never disagree."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")
    try:
        mode = read_mode(os.environ)
    except ConfigError as error:
        raise ImproperlyConfigured(str(error)) from None
    if mode != expected:
        raise ImproperlyConfigured(
            f"benchsite.{expected} loaded with BENCH_MODE={mode!r}: "
            f"serve it with BENCH_MODE={expected}"
        )
