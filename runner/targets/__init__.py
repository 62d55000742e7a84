"""Targets by name: `get_target("builtin")`; register a new one with one line."""

from __future__ import annotations

from importlib import import_module

from runner.targets.base import Deployed, Endpoint, Target, TargetError

TARGETS: dict[str, str] = {
    "builtin": "runner.targets.builtin:BuiltinApp",
}
DEFAULT_TARGET = "builtin"


def register(name: str, target: str) -> None:
    """Add a target at run time ("module:Class")."""
    TARGETS[name] = target


def get_target(name: str) -> Target:
    """The target called `name`; TargetError (one line) for an unknown name."""
    if name not in TARGETS:
        raise TargetError(f"unknown target {name!r}: choose from {', '.join(TARGETS)}")
    module, _, cls = TARGETS[name].partition(":")
    return getattr(import_module(module), cls)()


__all__ = [
    "DEFAULT_TARGET",
    "TARGETS",
    "Deployed",
    "Endpoint",
    "Target",
    "TargetError",
    "get_target",
    "register",
]
