"""WSGI entry point: ``granian --interface wsgi benchsite.wsgi:application``.

Refuses to load unless ``BENCH_MODE=wsgi``, so the interface Granian speaks and the mode
the app reports can never disagree.
"""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from benchsite.env import ConfigError, read_mode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")

try:
    _mode = read_mode(os.environ)
except ConfigError as error:
    raise ImproperlyConfigured(str(error)) from None
if _mode != "wsgi":
    raise ImproperlyConfigured(
        f"benchsite.wsgi loaded with BENCH_MODE={_mode!r}: serve it with BENCH_MODE=wsgi"
    )

application = get_wsgi_application()

if settings.BENCH_INSTRUMENT:
    from bench.instrument import wrap_wsgi

    application = wrap_wsgi(application)
