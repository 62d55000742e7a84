"""Which Python a host runs: a version ("3.12") to an interpreter on this machine.

Local hosts share this machine's file system, so the interpreter the controller builds
the wheelhouse with is the one the host's venv is made from. Versions come from pyenv
(``$PYENV_ROOT/versions/3.12.*``, newest patch first), else ``python3.12`` on PATH.
One function (``resolve``) so the version-matrix work can swap in its own resolution.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from runner.projects import ProjectError

VERSION_DIR = re.compile(r"^(3\.\d+)\.(\d+)$")


@dataclass(frozen=True)
class Interpreter:
    """A Python on this machine: its "major.minor" and its executable."""

    version: str
    path: Path


def controller_version() -> str:
    """The controller's own Python version ("3.11"): the default host Python."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def pyenv_versions(root: Path | None = None) -> dict[str, Path]:
    """Every pyenv CPython 3.x: "major.minor" -> newest patch's python executable."""
    root = root or Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found: dict[str, tuple[int, Path]] = {}
    for entry in sorted((root / "versions").glob("3.*")):
        match = VERSION_DIR.match(entry.name)
        exe = entry / "bin" / "python"
        if match and exe.exists():
            patch = int(match[2])
            if match[1] not in found or found[match[1]][0] < patch:
                found[match[1]] = (patch, exe)
    return {version: exe for version, (_, exe) in found.items()}


def available(root: Path | None = None) -> dict[str, Path]:
    """Every Python 3 this machine has: pyenv's, then ``python3.X`` on PATH."""
    found = pyenv_versions(root)
    for minor in range(8, 20):
        version = f"3.{minor}"
        exe = shutil.which(f"python{version}")
        if version not in found and exe:
            found[version] = Path(exe)
    return dict(sorted(found.items(), key=lambda item: int(item[0].split(".")[1])))


def _shared_resolution(version: str) -> Path | None:
    """The version matrix's resolution (runner/interpreters.py, #16) when it is there."""
    try:
        shared = importlib.import_module("runner.interpreters")
    except ImportError:
        return None
    try:
        return Path(shared.resolve_python(version))
    except ValueError as error:  # its InterpreterError: one line listing what there is
        raise ProjectError(str(error)) from None


def resolve(version: str | None, root: Path | None = None) -> Interpreter:
    """The interpreter for ``version`` (None: the controller's); ProjectError listing the
    versions this machine has when it has not that one."""
    version = version or controller_version()
    shared = None if root else _shared_resolution(version)
    if shared is not None:
        return Interpreter(version=version, path=shared)
    found = available(root)
    if version not in found:
        have = ", ".join(found) or "none"
        raise ProjectError(
            f"python {version} is not on this machine (it has {have}): "
            "set python to one of them or install it (pyenv install)"
        )
    exe = found[version]
    probe = subprocess.run(
        [str(exe), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0 or probe.stdout.strip() != version:
        raise ProjectError(f"{exe} does not run as Python {version}: check that interpreter")
    return Interpreter(version=version, path=exe)
