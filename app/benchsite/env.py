"""Reading the app's environment: the few checks settings and serving.py share.

Kept free of Django imports so ``serving.py`` can validate a configuration before
anything heavy is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping

MODES = ("asgi", "wsgi")
MIDDLEWARE_STACKS = ("stock", "minimal", "async")


class ConfigError(ValueError):
    """A configuration value is wrong; the message says what and how to fix it."""


def read_mode(environ: Mapping[str, str]) -> str:
    """Return ``BENCH_MODE`` (``asgi`` or ``wsgi``) or raise ConfigError."""
    mode = environ.get("BENCH_MODE", "").strip().lower()
    if mode not in MODES:
        shown = environ.get("BENCH_MODE")
        got = "unset" if shown is None else repr(shown)
        raise ConfigError(
            f"BENCH_MODE must be 'asgi' or 'wsgi' (got {got}): set BENCH_MODE=asgi|wsgi"
        )
    return mode


def read_bool(environ: Mapping[str, str], name: str, default: bool = False) -> bool:
    """Return a 0/1 style switch, or raise ConfigError on anything unclear."""
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 0 or 1 (got {raw!r})")


def read_int(
    environ: Mapping[str, str], name: str, default: int | None, low: int, high: int
) -> int | None:
    """Return an integer within [low, high] (or ``default`` when unset), else raise."""
    raw = environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer (got {raw!r})") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} (got {value})")
    return value


def read_choice(
    environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str
) -> str:
    """Return one of ``choices`` (or ``default`` when unset), else raise ConfigError."""
    raw = environ.get(name, "").strip().lower() or default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {'|'.join(choices)} (got {raw!r})")
    return raw
