"""Django settings for a project deploy: the project's own, then the file's overrides.

``DJANGO_ALLOWED_HOSTS`` (the app host's addresses) is added to ``ALLOWED_HOSTS``;
``STATIC_ROOT`` defaults to ``ABW_STATIC_ROOT`` so ``collectstatic`` has a place to go.
"""

import os
from importlib import import_module

from abw_project import generated

_user = import_module(generated.SETTINGS)
for _name in dir(_user):
    if _name.isupper():
        globals()[_name] = getattr(_user, _name)

globals().update(generated.OVERRIDES)

ALLOWED_HOSTS = [
    *globals().get("ALLOWED_HOSTS", []),
    *(h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h),
]
if not globals().get("STATIC_ROOT") and os.environ.get("ABW_STATIC_ROOT"):
    STATIC_ROOT = os.environ["ABW_STATIC_ROOT"]
