"""Which Python interpreters this machine has, and the path of one of them.

Local hosts share the controller's filesystem, so the path found here is the interpreter
the app host's venv is made from. pyenv's interpreters come first (this machine keeps
3.11, 3.12 and 3.13 there), then the system's /usr/bin/python3.X, then PATH.

    python -m runner.interpreters          # lists what this machine has
    python -m runner.interpreters 3.12     # prints that interpreter's path
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?$")
SYSTEM_BIN = Path("/usr/bin")


class InterpreterError(ValueError):
    """A Python version that is malformed or that this machine lacks (one-line message)."""


def pyenv_root() -> Path | None:
    """$PYENV_ROOT, else what `pyenv root` says, else ~/.pyenv when it exists."""
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        proc = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            return Path(proc.stdout.strip())
    home = Path.home() / ".pyenv"
    return home if home.is_dir() else None


def _patch_key(name: str) -> tuple[int, ...]:
    match = VERSION.match(name)
    if not match:
        return (-1,)
    return tuple(int(part or 0) for part in match.group("major", "minor", "patch"))


def _pyenv_interpreters(root: Path) -> dict[str, Path]:
    """minor -> the newest CPython patch release pyenv has of it (X.Y.Z folders only)."""
    found: dict[str, Path] = {}
    versions = root / "versions"
    if not versions.is_dir():
        return found
    for folder in sorted(versions.iterdir(), key=lambda p: _patch_key(p.name)):
        match = VERSION.match(folder.name)
        if not match or not match["patch"] or match["major"] != "3":
            continue
        minor = f"{match['major']}.{match['minor']}"
        exe = folder / "bin" / f"python{minor}"
        if exe.is_file() and os.access(exe, os.X_OK):
            found[minor] = exe
    return found


def available_pythons(
    root: Path | None = None, system_bin: Path = SYSTEM_BIN, path: str | None = None
) -> dict[str, Path]:
    """Minor version ("3.12") -> interpreter path, for every Python 3 this machine has.

    `root` is pyenv's root (found when None); `path` the search PATH (os.environ's when None).
    """
    root = root if root is not None else pyenv_root()
    found = _pyenv_interpreters(root) if root else {}
    candidates = [system_bin / f"python3.{n}" for n in range(6, 30)]
    for exe in candidates:
        minor = exe.name.removeprefix("python")
        if minor not in found and exe.is_file() and os.access(exe, os.X_OK):
            found[minor] = exe
    for n in range(6, 30):
        minor = f"3.{n}"
        if minor not in found:
            exe = shutil.which(f"python{minor}", path=path)
            if exe:
                found[minor] = Path(exe)
    return dict(sorted(found.items(), key=lambda item: _patch_key(item[0])))


def check_version(version: str) -> str:
    """The minor ("3.12") of a Python version written X.Y or X.Y.Z; InterpreterError otherwise."""
    match = VERSION.match(str(version).strip())
    if not match or match["major"] != "3":
        raise InterpreterError(
            f"not a Python version: {version!r}: write it as 3.Y, e.g. --python 3.12"
        )
    return f"{match['major']}.{match['minor']}"


def resolve_python(version: str, pythons: dict[str, Path] | None = None) -> Path:
    """The path of this machine's interpreter for `version` (X.Y, or X.Y.Z to insist on a
    patch release); InterpreterError names the ones this machine has."""
    minor = check_version(version)
    pythons = available_pythons() if pythons is None else pythons
    have = ", ".join(pythons) or "none"
    exe = pythons.get(minor)
    if exe is None:
        raise InterpreterError(
            f"Python {version} is not on this machine: it has {have} "
            "(install it with pyenv, or pick one of these)"
        )
    if VERSION.match(version.strip())["patch"] is not None:
        actual = exact_version(exe)
        if actual != version.strip():
            raise InterpreterError(
                f"Python {version} is not on this machine: its {minor} is {actual} ({exe}); "
                f"pass --python {minor}"
            )
    return exe


def exact_version(exe: Path) -> str:
    """The X.Y.Z an interpreter reports."""
    proc = subprocess.run(
        [str(exe), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return proc.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """List the interpreters, or print the path of the asked one (exit 2 when missing)."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        for minor, exe in available_pythons().items():
            print(f"{minor}\t{exe}")
        return 0
    try:
        print(resolve_python(args[0]))
    except InterpreterError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
