"""The ``bench`` app's configuration."""

from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark scenarios and their data."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "bench"
