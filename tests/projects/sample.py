"""Small Django projects the tests make themselves (the generic paths of a project deploy).

`make_site` writes one under a folder: manage.py in a subfolder (``site/``), the
requirements at the repository root, no asgi.py (Django's own ASGI factory is used),
optionally a view only Python 3.12 can compile and static files behind
ManifestStaticFilesStorage (which answers 500 unless collectstatic ran).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

DJANGO = "Django==5.2.19"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


def make_site(
    folder: Path, *, py312: bool = False, static: bool = False, settings_extra: str = ""
) -> Path:
    """A project under ``folder`` (manage.py in folder/site); returns ``folder``."""
    site = folder / "site"
    _write(folder / "requirements.txt", f"{DJANGO}\ngunicorn==23.0.0\n")
    _write(
        site / "manage.py",
        """
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
        """,
    )
    _write(site / "mysite" / "__init__.py", "")
    apps = ["django.contrib.staticfiles", "mysite"] if static else ["mysite"]
    storages = (
        'STORAGES = {"staticfiles": {"BACKEND": '
        '"django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}'
        if static
        else ""
    )
    _write(
        site / "mysite" / "settings.py",
        f"""
        from pathlib import Path

        BASE_DIR = Path(__file__).resolve().parent.parent
        SECRET_KEY = "x" * 50  # a test project's throwaway key
        DEBUG = True
        ALLOWED_HOSTS = []
        INSTALLED_APPS = {apps!r}
        MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
        ROOT_URLCONF = "mysite.urls"
        WSGI_APPLICATION = "mysite.wsgi.application"
        TEMPLATES = [{{"BACKEND": "django.template.backends.django.DjangoTemplates",
                      "DIRS": [], "APP_DIRS": True, "OPTIONS": {{}}}}]
        DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                  "NAME": BASE_DIR / "db.sqlite3"}}}}
        STATIC_URL = "static/"
        USE_TZ = True
        {storages}
        {settings_extra}
        """,
    )
    _write(
        site / "mysite" / "wsgi.py",
        """
        import os

        from django.core.wsgi import get_wsgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
        application = get_wsgi_application()
        """,
    )
    rows = "type Rows = list[int]\n" if py312 else ""
    _write(
        site / "mysite" / "views.py",
        rows
        + textwrap.dedent(
            """
            import platform

            from django.http import HttpResponse, JsonResponse
            from django.shortcuts import render


            def home(request):
                return render(request, "home.html", {"n": 3})


            def info(request):
                return JsonResponse({"python": platform.python_version()})


            def boom(request):
                return HttpResponse(status=404)
            """
        ),
    )
    _write(
        site / "mysite" / "urls.py",
        """
        from django.urls import path

        from mysite import views

        urlpatterns = [
            path("", views.home),
            path("info/", views.info),
            path("boom/", views.boom),
        ]
        """,
    )
    template = "{% load static %}" if static else ""
    link = '<link rel="stylesheet" href="{% static \'mysite/app.css\' %}">' if static else ""
    _write(
        site / "mysite" / "templates" / "home.html",
        f"{template}<html><head>{link}</head><body><p>hello {{{{ n }}}}</p></body></html>\n",
    )
    if static:
        _write(site / "mysite" / "static" / "mysite" / "app.css", "body { color: #123456; }\n")
    return folder


def project_file(path: Path, source: Path | str, body: str) -> Path:
    """A project file at ``path`` whose source is ``source``, then ``body``."""
    path.write_text(f"source = {str(source)!r}\n" + textwrap.dedent(body).lstrip())
    return path
