"""ASGI entry point: ``granian --interface asginl benchsite.asgi:application``.

Refuses to load unless ``BENCH_MODE=asgi``, so the interface Granian speaks and the mode
the app reports can never disagree.
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

from benchsite.env import ConfigError, read_mode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")

try:
    _mode = read_mode(os.environ)
except ConfigError as error:
    raise ImproperlyConfigured(str(error)) from None
if _mode != "asgi":
    raise ImproperlyConfigured(
        f"benchsite.asgi loaded with BENCH_MODE={_mode!r}: serve it with BENCH_MODE=asgi"
    )

application = get_asgi_application()

if settings.BENCH_INSTRUMENT:
    from bench.instrument import wrap_asgi

    application = wrap_asgi(application)
