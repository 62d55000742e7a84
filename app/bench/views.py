"""The scenarios' views: each scenario has a sync and a native async view that return
byte-identical responses, and the users page also has the original's wrapped form.

- ``users``: the original page, an ORM query for six fields of the 1000 users and a
  template that looks every cell up through ``get_attr``.
- ``io``: waits on the upstream delay server, then returns a small page with its reply.
- ``plain``: a tiny fixed response, the framework-and-server floor.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import escape

from bench import upstream

USERS_TEMPLATE = "bench/users.html"
USER_FIELDS = ("username", "first_name", "date_joined", "email", "is_staff", "is_superuser")
PLAIN_BODY = b"plain ok\n"


def _users() -> QuerySet[User]:
    # Ordered so that every view and every database returns the same page.
    return User.objects.only(*USER_FIELDS).order_by("pk")


def _users_context(users: object) -> dict[str, object]:
    return {"fields": USER_FIELDS, "users": users}


def users_sync(request: HttpRequest) -> HttpResponse:
    """The users page from a sync view (the original's ``/sync/``)."""
    return render(request, USERS_TEMPLATE, _users_context(list(_users())))


async def users_async(request: HttpRequest) -> HttpResponse:
    """The users page from a native async view: ``async for`` over the queryset.

    Django's async ORM still runs the query in its sync thread (one hop); the template is
    rendered on the event loop.
    """
    users = [user async for user in _users()]
    return render(request, USERS_TEMPLATE, _users_context(users))


async def users_async_wrapped(request: HttpRequest) -> HttpResponse:
    """The original's async view (``/async/``): two ``sync_to_async`` hops per request."""
    users = await sync_to_async(iter)(_users())
    return await sync_to_async(render)(request, USERS_TEMPLATE, _users_context(users))


def _io_page(reply: str) -> HttpResponse:
    body = (
        "<!DOCTYPE html>\n<html><head><title>io</title></head><body>\n"
        f"<p>upstream replied after {settings.BENCH_UPSTREAM_DELAY_MS} ms:</p>\n"
        f"<pre>{escape(reply.strip())}</pre>\n</body></html>\n"
    )
    return HttpResponse(body)


def _upstream_failed(error: upstream.UpstreamError) -> HttpResponse:
    return HttpResponse(
        f"upstream error: {error} (BENCH_UPSTREAM_URL={settings.BENCH_UPSTREAM_URL})\n",
        status=502,
        content_type="text/plain; charset=utf-8",
    )


def _one_user() -> QuerySet[User]:
    return User.objects.filter(pk__gte=1).order_by("pk")[:1]


def io_sync(request: HttpRequest) -> HttpResponse:
    """Wait on the upstream with a blocking client (holds a thread while it waits).

    With ``BENCH_IO_QUERY`` on, one small query first, as a real view would: the
    request then holds a database connection while it waits on the upstream.
    """
    try:
        if settings.BENCH_IO_QUERY:
            list(_one_user())
        return _io_page(upstream.fetch_sync())
    except upstream.UpstreamError as error:
        return _upstream_failed(error)


async def io_async(request: HttpRequest) -> HttpResponse:
    """Wait on the upstream with an async client (yields the event loop while it waits);
    with ``BENCH_IO_QUERY`` on, one query first through the async ORM."""
    try:
        if settings.BENCH_IO_QUERY:
            [user async for user in _one_user()]
        return _io_page(await upstream.fetch_async())
    except upstream.UpstreamError as error:
        return _upstream_failed(error)


def plain_sync(request: HttpRequest) -> HttpResponse:
    """A tiny fixed response from a sync view."""
    return HttpResponse(PLAIN_BODY, content_type="text/plain")


async def plain_async(request: HttpRequest) -> HttpResponse:
    """A tiny fixed response from an async view."""
    return HttpResponse(PLAIN_BODY, content_type="text/plain")


def _serving_from_env() -> dict[str, object]:
    from benchsite.serving import ServingConfig

    try:
        return ServingConfig.from_env(os.environ).as_dict()
    except ValueError as error:
        return {"error": str(error)}


def health(request: HttpRequest) -> JsonResponse:
    """What the deploy and the runner check before any load: mode, data, routes, versions."""
    from benchsite.urls import ROUTE_PATHS

    return JsonResponse(
        {
            "mode": settings.BENCH_MODE,
            "users": User.objects.count(),
            "routes": ROUTE_PATHS,
            "versions": {
                "asgiref": importlib.metadata.version("asgiref"),
                "python": platform.python_version(),
                "django": django.get_version(),
                "granian": importlib.metadata.version("granian"),
            },
            "debug": settings.DEBUG,
            "database": connection.vendor,
            "connections": {
                "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
                "pool": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
            },
            "middleware": settings.BENCH_MIDDLEWARE,
            "instrument": settings.BENCH_INSTRUMENT,
            "serving": _serving_from_env(),
            "upstream": {
                "url": settings.BENCH_UPSTREAM_URL,
                "delay_ms": settings.BENCH_UPSTREAM_DELAY_MS,
                "client": settings.BENCH_IO_CLIENT,
                "query": settings.BENCH_IO_QUERY,
            },
        }
    )
