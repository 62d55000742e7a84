"""Template filters of the users page."""

from django import template

register = template.Library()


@register.filter
def get_attr(obj: object, name: str) -> object:
    """Return ``obj.<name>`` (empty string when missing): the original's cell lookup."""
    return getattr(obj, name, "")
