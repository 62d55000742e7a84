"""The host's install list: the project's requirements, less the server packages and the
excluded ones, plus the harness's own pins (its Granian and the event loop it runs ASGI
on, from requirements/app.lock). The user's pins win everywhere else; where one clashes
with a harness pin, the error names both.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from runner.projects import ProjectError

ROOT = Path(__file__).resolve().parents[2]
APP_LOCK = ROOT / "requirements" / "app.lock"
# The server is the harness's choice: these never come from the project.
SERVER_PACKAGES = ("granian", "gunicorn", "uvicorn", "daphne")
# What the harness installs next to the project, pinned as the built-in app pins them:
# Granian serves, uvloop is the loop Granian's ASGI mode picks (same as the built-in's).
HARNESS_PACKAGES = ("granian", "uvloop")


@dataclass(frozen=True)
class Requirements:
    """The final list and what was dropped on the way (for the record)."""

    install: list[str]
    dropped_server: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    harness: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The requirements file the wheelhouse is built from and the host installs."""
        return "".join(f"{line}\n" for line in self.install)

    def record(self) -> dict[str, list[str]]:
        """The requirements' part of the results' metadata."""
        return {
            "install": self.install,
            "dropped_server": self.dropped_server,
            "excluded": self.excluded,
            "harness": self.harness,
        }


def harness_pins(lock: Path = APP_LOCK) -> list[Requirement]:
    """The harness's pins of HARNESS_PACKAGES, read from its lock file."""
    pins = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pins[canonicalize_name(req.name)] = req
    return [pins[name] for name in HARNESS_PACKAGES]


def read_lines(path: Path, seen: tuple[Path, ...] = ()) -> list[tuple[str, str]]:
    """(requirement, where) pairs of a requirements file or pyproject.toml, following
    ``-r`` includes; options such as ``--index-url`` are the harness's business and skipped."""
    if path.name == "pyproject.toml":
        deps = tomllib.loads(path.read_text()).get("project", {}).get("dependencies", [])
        return [(dep, f"{path.name}") for dep in deps]
    found: list[tuple[str, str]] = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path.name} line {number}"
        if line.startswith(("-r ", "--requirement ")):
            included = (path.parent / line.split(None, 1)[1].strip()).resolve()
            if included in seen or not included.is_file():
                raise ProjectError(f"{where}: cannot include {included.name} (missing or a loop)")
            found += read_lines(included, (*seen, path.resolve()))
        elif line.startswith(("-e ", "--editable")):
            raise ProjectError(
                f"{where}: editable requirement {line!r} is not supported: list the package "
                "by name, or add it to exclude"
            )
        elif not line.startswith("-"):
            found.append((line, where))
    return found


def build(
    lines: list[tuple[str, str]], exclude: tuple[str, ...], pins: list[Requirement]
) -> Requirements:
    """Filter the project's requirements and add the harness's pins; ProjectError on a
    line that is not a requirement, on a clash with a harness pin, or without Django."""
    excluded_names = {canonicalize_name(e) for e in exclude}
    harness = {canonicalize_name(p.name): p for p in pins}
    keep, dropped, excluded = [], [], []
    for line, where in lines:
        try:
            req = Requirement(line)
        except InvalidRequirement as error:
            raise ProjectError(f"{where}: {line!r} is not a requirement ({error})") from None
        name = canonicalize_name(req.name)
        if name in excluded_names:
            excluded.append(line)
        elif name in SERVER_PACKAGES:
            dropped.append(line)
        elif name in harness:
            _check_clash(req, where, harness[name])
        else:
            keep.append(line)
    if "django" not in {canonicalize_name(Requirement(r).name) for r in keep}:
        raise ProjectError(
            "the project's requirements do not list Django: add it (e.g. Django==5.2.*)"
        )
    harness_lines = [str(p) for p in pins]
    return Requirements(keep + harness_lines, dropped, excluded, harness_lines)


def _check_clash(req: Requirement, where: str, pin: Requirement) -> None:
    (version,) = [spec.version for spec in pin.specifier]
    if req.specifier and not req.specifier.contains(version, prereleases=True):
        name = canonicalize_name(req.name)
        raise ProjectError(
            f"{req} ({where}) clashes with the harness's {pin} (requirements/app.lock): "
            f'add "{name}" to exclude to use the harness\'s, or relax the pin'
        )
