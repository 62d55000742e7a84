"""Load generators by name: `get_load_generator("ab")`, `LOAD_GENERATORS` for the menu.

Register a new tool here with one line (its module holds a `LoadGenerator` subclass)."""

from __future__ import annotations

from importlib import import_module

from runner.load.base import (
    HostRun,
    LoadGenerator,
    LoadResult,
    LoadSpec,
    LoadSpecError,
    ToolCommand,
)

# name -> "module:Class"; imported on first use so a tool's module costs nothing unused
LOAD_GENERATORS: dict[str, str] = {
    "ab": "runner.load.ab:ApacheBench",
    "wrk": "runner.load.wrk:Wrk",
    "k6": "runner.load.k6:K6",
    "open": "runner.load.k6:K6",  # open loop: k6's constant-arrival-rate executor
}
DEFAULT_LOAD = "ab"


def register(name: str, target: str) -> None:
    """Add a tool at run time ("module:Class"), e.g. from a plug-in or a test."""
    LOAD_GENERATORS[name] = target


def get_load_generator(name: str) -> LoadGenerator:
    """The load generator called `name`; LoadSpecError (one line) for an unknown name."""
    if name not in LOAD_GENERATORS:
        raise LoadSpecError(
            f"unknown load generator {name!r}: choose from {', '.join(LOAD_GENERATORS)}"
        )
    module, _, cls = LOAD_GENERATORS[name].partition(":")
    return getattr(import_module(module), cls)()


__all__ = [
    "DEFAULT_LOAD",
    "LOAD_GENERATORS",
    "HostRun",
    "LoadGenerator",
    "LoadResult",
    "LoadSpec",
    "LoadSpecError",
    "ToolCommand",
    "get_load_generator",
    "register",
]
