"""The ``async`` middleware stack: natively sync *and* async, so it never hops threads.

Django's built-in middleware inherit ``MiddlewareMixin``, whose async path runs
``process_request``/``process_response`` through ``sync_to_async``: a thread hop each.
This one sets the headers the stock ``SecurityMiddleware`` and
``XFrameOptionsMiddleware`` set by default, in whichever mode the handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Add the stock security headers without leaving the handler's thread or loop."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        return self._headers(self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        return self._headers(await self.get_response(request))

    @staticmethod
    def _headers(response: HttpResponse) -> HttpResponse:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
