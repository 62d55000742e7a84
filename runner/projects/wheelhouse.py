"""Build the project's wheelhouse on the controller with the host's interpreter.

``pip wheel`` run by the target interpreter resolves for that Python and builds any sdist
into a wheel here, so the host installs with ``--no-index`` from the copy. A wheelhouse
is reused while its requirements and interpreter are unchanged (a marker holds both).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from runner.projects import ProjectError
from runner.projects.interpreters import Interpreter

PIP_TIMEOUT_S = 1200
NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
FAILED_BUILD = re.compile(r"(?:Failed to build|Failed building wheel for) ([\w.\-]+)")
# What pip was working on (its progress lines): the package a subprocess failure is about.
WORKING_ON = re.compile(
    r"^(?:Collecting|Processing|Building wheel for|Preparing metadata \(\S+\) for)\s+(\S+)",
    re.MULTILINE,
)
SUBPROCESS_FAILED = "subprocess-exited-with-error"
CONFLICT_HEAD = "The conflict is caused by:"
MARKER = ".built"


def key(requirements_text: str, interpreter: Interpreter) -> str:
    """A short name for this (requirements, interpreter) pair."""
    digest = hashlib.sha256(f"{interpreter.path}\n{requirements_text}".encode()).hexdigest()
    return f"py{interpreter.version}-{digest[:12]}"


def build(requirements_text: str, interpreter: Interpreter, dest: Path) -> Path:
    """Wheels for every requirement (and pip, to bootstrap the host's venv) in ``dest``."""
    marker = dest / MARKER
    wanted = key(requirements_text, interpreter)
    if marker.is_file() and marker.read_text() == wanted:
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / "requirements.txt").write_text(requirements_text)
    python = str(interpreter.path)
    wheel = ["pip", "wheel", "--progress-bar", "off", "--wheel-dir", str(dest)]
    steps = (
        [python, "-m", *wheel, "-r", "requirements.txt"],
        [python, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(dest), "pip"],
    )
    for argv in steps:
        done = subprocess.run(
            argv, cwd=dest, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
        if done.returncode != 0:
            raise ProjectError(explain(done.stdout + done.stderr, interpreter.version))
    marker.write_text(wanted)
    return dest


def explain(output: str, version: str) -> str:
    """One line from pip's output: which package failed and what to do about it."""
    if CONFLICT_HEAD in output:
        tail = output.split(CONFLICT_HEAD, 1)[1].strip().splitlines()
        causes = [line.strip() for line in tail if line.startswith("    ")][:4]
        return (
            f"the requirements cannot be resolved together for Python {version}: "
            f"{'; '.join(causes) or tail[0]}: relax a pin or exclude a package"
        )
    if match := FAILED_BUILD.search(output):
        name = match[1]
        return (
            f"{name} has no wheel for Python {version} and its source does not build here: "
            f'add "{name}" to exclude (or install its build dependencies on the controller)'
        )
    if SUBPROCESS_FAILED in output and (working := WORKING_ON.findall(output)):
        name = package_name(working[-1])
        return (
            f"{name} has no wheel for Python {version} and its source does not build here: "
            f'add "{name}" to exclude (or install its build dependencies on the controller)'
        )
    if match := NO_MATCH.search(output):
        name = match[1]
        bare = re.split(r"[<>=!~;\[ ]", name)[0]
        return (
            f"requirement {name} cannot be resolved for Python {version}: no release "
            f'matches; fix the pin or add "{bare}" to exclude'
        )
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return f"pip could not build the wheelhouse for Python {version}: {lines[-1] if lines else '?'}"


def package_name(item: str) -> str:
    """A package's name from what pip shows: "x==1.0", "x[extra]", "./x-0.1.tar.gz"."""
    item = item.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".tar.gz", ".zip", ".tar.bz2"):
        item = item.removesuffix(suffix)
    item = re.split(r"[<>=!~;\[ @]", item)[0]
    return re.sub(r"-\d.*$", "", item)


def django_version(wheelhouse: Path) -> str | None:
    """Django's version as the wheelhouse holds it (what the host will run)."""
    for wheel in wheelhouse.glob("*.whl"):
        name, _, rest = wheel.name.partition("-")
        if name.lower() == "django":
            return rest.split("-", 1)[0]
    return None
