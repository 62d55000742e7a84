"""One route table, the same in both modes: every route is served by either interface.

``/<scenario>/<view>/`` for scenario users|io|plain and view sync|async, plus
``/users/async-wrapped/`` (the original's two-hop async view) and the original's paths
``/sync/`` and ``/async/`` (aliases of ``/users/sync/`` and ``/users/async-wrapped/``).
"""

from django.urls import path

from bench import views

urlpatterns = [
    path("users/sync/", views.users_sync, name="users-sync"),
    path("users/async/", views.users_async, name="users-async"),
    path("users/async-wrapped/", views.users_async_wrapped, name="users-async-wrapped"),
    path("io/sync/", views.io_sync, name="io-sync"),
    path("io/async/", views.io_async, name="io-async"),
    path("plain/sync/", views.plain_sync, name="plain-sync"),
    path("plain/async/", views.plain_async, name="plain-async"),
    path("sync/", views.users_sync, name="sync"),
    path("async/", views.users_async_wrapped, name="async"),
    path("health/", views.health, name="health"),
]

ROUTE_PATHS = [f"/{pattern.pattern}" for pattern in urlpatterns]
