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


def make_target(
    name: str, project: str = "", urls: tuple[str, ...] = (), deploy_vars: dict | None = None
) -> Target:
    """The plan's target: the user's project when a project file is given (prepared on
    the controller, for the host Python the deploy variable `python` names), else the
    registered target `name`."""
    if project:
        from runner.targets.project import ProjectTarget

        python = str((deploy_vars or {}).get("python") or "")
        return ProjectTarget.from_file(project, tuple(urls), python)
    return get_target(name)


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
    "make_target",
    "register",
]
