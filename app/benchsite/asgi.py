"""ASGI entry point: ``granian --interface asginl benchsite.asgi:application``.

Refuses to load unless ``BENCH_MODE=asgi`` (see ``benchsite.entrypoint``).
"""

from django.conf import settings
from django.core.asgi import get_asgi_application

from benchsite.entrypoint import require_mode

require_mode("asgi")
application = get_asgi_application()

if settings.BENCH_INSTRUMENT:
    from bench.instrument import wrap_asgi

    application = wrap_asgi(application)
