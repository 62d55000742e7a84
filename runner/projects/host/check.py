"""Load the project's settings through the harness's and say what serving needs.

``python -m abw_project.check`` prints ``{"debug", "static", "django", "python"}`` as JSON;
``static`` lists the (route, folder) pairs Granian serves itself: STATIC_URL (and
MEDIA_URL) when DEBUG is off and django.contrib.staticfiles is installed, so that
``collectstatic``'s output is served (Django does not serve it without DEBUG).
When the settings do not import: ``check: error: ...`` with the error's last line, exit 2.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import traceback

SETTINGS_MODULE = "abw_project.settings"


def _route(url: str) -> str | None:
    """A URL setting as Granian's route ('static/' -> '/static'); None for another host."""
    if not url or "://" in url or url.startswith("//"):
        return None
    return "/" + url.strip("/")


def static_routes() -> list[list[str]]:
    """The (route, folder) pairs Granian serves with DEBUG off; [] with DEBUG on."""
    from django.conf import settings

    if settings.DEBUG or "django.contrib.staticfiles" not in settings.INSTALLED_APPS:
        return []
    routes = []
    for url_name, root_name in (("STATIC_URL", "STATIC_ROOT"), ("MEDIA_URL", "MEDIA_ROOT")):
        route = _route(str(getattr(settings, url_name, "") or ""))
        root = getattr(settings, root_name, None)
        if route and route != "/" and root:
            routes.append([route, str(root)])
    return routes


def setup() -> None:
    """Point Django at the harness's settings and set it up."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    import django

    django.setup()


def last_error_line() -> str:
    """The last line of the exception being handled (what a traceback ends with)."""
    lines = traceback.format_exception_only(*sys.exc_info()[:2])
    return lines[-1].strip() if lines else "unknown error"


def main() -> None:
    """Entry point of ``python -m abw_project.check``."""
    from abw_project import generated

    try:
        setup()
        import django
        from django.conf import settings

        report = {
            "debug": bool(settings.DEBUG),
            "static": static_routes(),
            "django": django.get_version(),
            "python": platform.python_version(),
        }
    except Exception:  # the project's code may raise anything; its last line says what
        print(
            f"check: error: settings module {generated.SETTINGS} does not import: "
            f"{last_error_line()}",
            file=sys.stderr,
        )
        sys.exit(2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
