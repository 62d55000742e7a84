"""Django settings for the benchmark site: everything comes from the environment.

Nothing here is edited to change mode (the original flipped ``USE_ASGI`` in this file).
Variables (see docs/ARCHITECTURE.md, "App environment"):

- ``BENCH_MODE``: ``asgi`` or ``wsgi``, required; anything else stops start-up.
- ``BENCH_DEBUG``: ``1`` reproduces the original's ``DEBUG = True`` (default ``0``).
- ``DJANGO_SECRET_KEY`` or ``DJANGO_SECRET_KEY_FILE``: required unless DEBUG is on (then
  an ephemeral key is generated per process). ``python -m benchsite.serving`` generates
  one shared by all workers when none is set, and says so.
- ``DJANGO_ALLOWED_HOSTS``: comma list (default ``localhost,127.0.0.1,[::1]``).
- ``DATABASE_URL``: e.g. ``postgres://user@host:5432/db`` (psycopg 3 with Django's
  connection pool); default SQLite at ``$BENCH_DATA_DIR/db.sqlite3``.
- ``BENCH_DATA_DIR``: where SQLite lives (default ``app/var/``).
- ``BENCH_MIDDLEWARE``: ``stock`` (the ``startproject`` list, the original's),
  ``minimal`` (none: the framework floor) or ``async`` (one natively async middleware
  that sets the same security headers as the stock list, so no thread hop).
- ``BENCH_UPSTREAM_URL`` and ``BENCH_UPSTREAM_DELAY_MS`` (default 100): the ``io``
  scenario's upstream delay server; ``BENCH_IO_CLIENT``: ``stdlib`` (default, a lean
  keep-alive client) or ``httpx`` (see ``bench/upstream.py`` for why not by default);
  ``BENCH_IO_QUERY``: ``1`` makes the io views run one small query before the upstream
  wait (default ``0``), so each waiting request holds a database connection.
- ``BENCH_INSTRUMENT``: ``1`` counts thread hops and CPU time for the requests that send
  ``X-Bench-Instrument: 1`` and reports them in ``X-Bench-Hops`` and ``X-Bench-Cpu-Ms``
  response headers; other requests (all of ab's) are not counted (default ``0``; the
  deploy turns it on; the entry points wrap the application, see ``bench/instrument.py``).

Database connections, the same in both modes by default: ``CONN_MAX_AGE = 0``. Django's
docs say to disable persistent connections under ASGI (each request may run in a
different thread, so a persistent connection is never reused and leaks) and to use a
pool instead; doing the same under WSGI keeps the comparison fair. For PostgreSQL both
modes use Django's psycopg 3 pool (``OPTIONS = {"pool": {...}}``, 4 connections per
worker process and a 30 s wait by default); SQLite opens a file connection per request.

The production mistake is reproducible on purpose (PostgreSQL only):

- ``BENCH_DB_POOL``: ``1`` (default) or ``0``: no pool, one connection per thread that
  asks (Django's classic behaviour; with hundreds of WSGI blocking threads that is
  hundreds of connections).
- ``BENCH_DB_POOL_MIN`` / ``BENCH_DB_POOL_MAX``: the pool's ``min_size`` / ``max_size``
  per worker process (default 4 / 4, psycopg_pool's own default).
- ``BENCH_CONN_MAX_AGE``: seconds a connection is kept (default 0, Django's default; 0 to
  86400); above 0 needs ``BENCH_DB_POOL=0``, as Django refuses persistent connections
  with a pool.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from benchsite.dbconfig import read_db_connections
from benchsite.env import (
    MIDDLEWARE_STACKS,
    ConfigError,
    read_bool,
    read_choice,
    read_int,
    read_mode,
)

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    BENCH_MODE = read_mode(os.environ)
    DEBUG = read_bool(os.environ, "BENCH_DEBUG")
    BENCH_INSTRUMENT = read_bool(os.environ, "BENCH_INSTRUMENT")
    BENCH_MIDDLEWARE = read_choice(os.environ, "BENCH_MIDDLEWARE", MIDDLEWARE_STACKS, "stock")
    BENCH_UPSTREAM_DELAY_MS = read_int(os.environ, "BENCH_UPSTREAM_DELAY_MS", 100, 0, 10_000)
    BENCH_IO_CLIENT = read_choice(os.environ, "BENCH_IO_CLIENT", ("stdlib", "httpx"), "stdlib")
    BENCH_DB = read_db_connections(os.environ)
    BENCH_IO_QUERY = read_bool(os.environ, "BENCH_IO_QUERY")
except ConfigError as error:
    raise ImproperlyConfigured(str(error)) from None

BENCH_UPSTREAM_URL = os.environ.get("BENCH_UPSTREAM_URL", "http://127.0.0.1:8001/")


def _secret_key() -> str:
    """The secret key from the environment (or a file), never from the repository."""
    if key := os.environ.get("DJANGO_SECRET_KEY", "").strip():
        return key
    if path := os.environ.get("DJANGO_SECRET_KEY_FILE", "").strip():
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"DJANGO_SECRET_KEY_FILE {path!r} cannot be read: {error.strerror}"
            ) from None
        if not key:
            raise ImproperlyConfigured(f"DJANGO_SECRET_KEY_FILE {path!r} is empty")
        return key
    if DEBUG:
        return get_random_secret_key()
    raise ImproperlyConfigured(
        "no secret key: set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE (or BENCH_DEBUG=1)"
    )


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bench",
]

STOCK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
MIDDLEWARE = {
    "stock": STOCK_MIDDLEWARE,
    "minimal": [],
    "async": ["bench.middleware.SecurityHeadersMiddleware"],
}[BENCH_MIDDLEWARE]

if BENCH_MIDDLEWARE != "stock":
    # The admin's checks want the stock session/auth/messages middleware; the admin is
    # installed only to keep the stock app list and is not routed.
    SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "benchsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "benchsite.wsgi.application"
ASGI_APPLICATION = "benchsite.asgi.application"

BENCH_DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", "") or BASE_DIR / "var")

_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    try:
        _database = dj_database_url.parse(_database_url, conn_max_age=BENCH_DB.conn_max_age)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {error}") from None
    if _database["ENGINE"] == "django.db.backends.postgresql" and BENCH_DB.pool:
        _database.setdefault("OPTIONS", {})["pool"] = BENCH_DB.pool_options()
else:
    BENCH_DATA_DIR.mkdir(parents=True, exist_ok=True)
    _database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BENCH_DATA_DIR / "db.sqlite3",
        "CONN_MAX_AGE": 0,
    }
DATABASES = {"default": _database}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
