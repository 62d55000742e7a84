"""WSGI entry point: ``granian --interface wsgi benchsite.wsgi:application``.

Refuses to load unless ``BENCH_MODE=wsgi`` (see ``benchsite.entrypoint``).
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from benchsite.entrypoint import require_mode

require_mode("wsgi")
application = get_wsgi_application()

if settings.BENCH_INSTRUMENT:
    from bench.instrument import wrap_wsgi

    application = wrap_wsgi(application)
