"""Resolve the built-in app's lock for one Django x Python combination.

The target interpreter's own pip resolves it (pip on Python 3.11 cannot see Django 6.x,
whose Requires-Python is >=3.12), with every other pin of requirements/app.lock as a
constraint, so that across the matrix only Django (and Python) move:

    python -m runner.locks 6.1 3.12    # make lock DJANGO=6.1 HOST_PYTHON=3.12

The lock's header records Django's Requires-Python, which runner.matrix reads to skip
the combinations Django does not support.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from runner import interpreters, matrix

ROOT = Path(__file__).resolve().parents[1]
PIP_TIMEOUT_S = 600
# Django's own dependencies follow Django; every other pin is held at app.lock's.
FOLLOW_DJANGO = {"django", "asgiref", "sqlparse", "tzdata"}


class LockError(RuntimeError):
    """The lock could not be resolved (one-line message)."""


def app_requirements(root: Path = ROOT) -> list[str]:
    """The app's dependencies as pyproject.toml lists them."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def default_pins(root: Path = ROOT) -> dict[str, str]:
    """name -> version of requirements/app.lock (the default combination)."""
    pins: dict[str, str] = {}
    for line in (root / matrix.DEFAULT_LOCK).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def requirements_for(django: str, root: Path = ROOT) -> list[str]:
    """The app's dependencies with Django narrowed to one series (X.Y.*)."""
    out = []
    for text in app_requirements(root):
        req = Requirement(text)
        if canonicalize_name(req.name) == "django":
            out.append(f"django=={django}.*")
        else:
            out.append(text)
    return out


def resolve(django: str, python: Path) -> list[dict]:
    """The packages pip on `python` would install for the app with Django `django`:
    pip's installation report entries (metadata name, version, requires_python)."""
    constraints = "".join(
        f"{name}=={version}\n"
        for name, version in default_pins().items()
        if name not in FOLLOW_DJANGO
    )
    with tempfile.TemporaryDirectory(prefix="abw-lock-") as tmp:
        cfile = Path(tmp) / "constraints.txt"
        cfile.write_text(constraints)
        report = Path(tmp) / "report.json"
        argv = [
            str(python), "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
            "--only-binary=:all:", "--disable-pip-version-check", "--report", str(report),
            "--constraint", str(cfile), *requirements_for(django),
        ]  # fmt: skip
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
        if proc.returncode != 0:
            why = [line for line in proc.stderr.splitlines() if line.startswith("ERROR")]
            raise LockError(
                f"pip on {python} could not resolve Django {django}: "
                + (" ".join(why) or proc.stderr.strip()[-400:])
            )
        return json.loads(report.read_text())["install"]


def render(django: str, python_minor: str, python_exact: str, installs: list[dict]) -> str:
    """The lock's text: a header (how it was made, Django's Requires-Python), then pins."""
    pins = sorted(
        (canonicalize_name(item["metadata"]["name"]), item["metadata"]["version"])
        for item in installs
    )
    django_meta = next(
        item["metadata"]
        for item in installs
        if canonicalize_name(item["metadata"]["name"]) == "django"
    )
    lines = [
        f"# The app for Django {django} on Python {python_minor}, resolved by Python "
        f"{python_exact}'s pip: make lock DJANGO={django} HOST_PYTHON={python_minor}",
        f"# {matrix.REQUIRES_PYTHON_HEADER} {django_meta.get('requires_python') or ''}",
        *(f"{name}=={version}" for name, version in pins),
    ]
    return "\n".join(lines) + "\n"


def write_lock(django: str, python: str, root: Path = ROOT) -> Path:
    """Resolve and write requirements/app-djangoD-pyP.lock; returns its path."""
    matrix.check_django(django)
    exe = interpreters.resolve_python(python)
    minor = interpreters.check_version(python)
    installs = resolve(django, exe)
    path = root / matrix.lock_path(django, minor)
    if path == root / matrix.DEFAULT_LOCK:
        raise LockError(
            f"{matrix.DEFAULT_LOCK} is the default combination's lock: it is kept as it is"
        )
    text = render(django, minor, interpreters.exact_version(exe), installs)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def committed_locks(root: Path = ROOT) -> dict[str, str]:
    """Every lock of the app under requirements/: relative path -> text."""
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted((root / "requirements").glob("app*.lock"))
    }


def index_django_versions() -> list[str]:
    """Every Django version the package index serves, whatever Python it needs
    (pip's own `index versions`, through the controller's pip and its configuration)."""
    argv = [
        sys.executable, "-m", "pip", "index", "versions", "django",
        "--ignore-requires-python", "--json", "--disable-pip-version-check",
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        return []
    try:
        return list(json.loads(proc.stdout).get("versions", []))
    except json.JSONDecodeError:
        return []


def plan(django: str, python: str, root: Path = ROOT) -> matrix.Matrix:
    """The matrix of comma lists `django` x `python` on this machine, checked against the
    committed locks (and the package index, for a Django that has no lock)."""
    djangos = matrix.parse_list(django, "django", matrix.check_django)
    pythons = matrix.parse_list(python, "python", matrix.check_python)
    return matrix.expand(
        djangos,
        pythons,
        locks=committed_locks(root),
        pythons_here=interpreters.available_pythons(),
        index_versions=index_django_versions,
    )


def combination_facts(django: str, python: str, root: Path = ROOT) -> dict[str, str]:
    """What the deploy needs for one combination: lock, wheelhouse, interpreter, venv name."""
    result = plan(django or matrix.DEFAULT_DJANGO, python or matrix.DEFAULT_PYTHON, root)
    combo = result.combinations[0]
    return {
        "django": combo.django,
        "python": combo.python,
        "key": combo.key,
        "lock": combo.lock,
        "wheelhouse": combo.wheelhouse,
        "python_path": str(interpreters.resolve_python(combo.python)),
        "venv": f"py{combo.python}",
    }


USAGE = (
    "usage: python -m runner.locks DJANGO PYTHON (write that combination's lock) | "
    "python -m runner.locks combination DJANGO PYTHON (its facts as JSON)"
)


def main(argv: list[str] | None = None) -> int:
    """Write one combination's lock, or print one combination's facts for the deploy."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if len(args) == 3 and args[0] == "combination":
            print(json.dumps(combination_facts(args[1], args[2])))
        elif len(args) == 2:
            print(write_lock(args[0], args[1]).relative_to(ROOT))
        else:
            print(USAGE, file=sys.stderr)
            return 2
    except (LockError, matrix.MatrixError, interpreters.InterpreterError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
