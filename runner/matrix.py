"""The version matrix: Django x Python combinations, expanded as tox does (pure).

`expand(["5.2", "6.1"], ["3.11", "3.12"], ...)` gives the combinations to measure, in
order, and those skipped up front because Django does not support that Python (its
Requires-Python, recorded in the header of each committed lock). Everything it needs from
the outside is passed in: the committed locks' texts, the Pythons this machine has, and
a callable that asks the package index which Django versions exist (called only when a
Django version has no lock at all).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

DEFAULT_DJANGO = "5.2"
DEFAULT_PYTHON = "3.11"
# The default combination keeps the lock and wheelhouse it always had (make setup's).
DEFAULT_LOCK = "requirements/app.lock"
DEFAULT_WHEELHOUSE = "build/wheelhouse"
# The app's own floor (pyproject.toml's requires-python).
APP_REQUIRES_PYTHON = ">=3.11"
# The header line of a lock that records Django's Requires-Python.
REQUIRES_PYTHON_HEADER = "requires-python django:"
SERIES = re.compile(r"^\d+\.\d+$")
LOCK_NAME = re.compile(r"app-django(?P<django>\d+\.\d+)-py(?P<python>\d+\.\d+)\.lock$")


class MatrixError(ValueError):
    """Bad matrix input (one line: what is wrong and how to fix it)."""


@dataclass(frozen=True, order=True)
class Combination:
    """One Django series on one Python minor version."""

    django: str
    python: str

    @property
    def key(self) -> str:
        """The name used in paths and results: django6.1-py3.12."""
        return f"django{self.django}-py{self.python}"

    @property
    def lock(self) -> str:
        """Its committed lock, relative to the repository root."""
        return lock_path(self.django, self.python)

    @property
    def wheelhouse(self) -> str:
        """Its wheelhouse folder, relative to the repository root."""
        return wheelhouse_path(self.django, self.python)

    def label(self) -> str:
        """How the report names it: Django 6.1 / Python 3.12."""
        return f"Django {self.django} / Python {self.python}"


@dataclass(frozen=True)
class Skipped:
    """A combination left out up front, and why."""

    combination: Combination
    reason: str


@dataclass
class Matrix:
    """What a matrix run measures, in order, and what it skipped."""

    combinations: list[Combination] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def lock_path(django: str, python: str) -> str:
    """requirements/app-django6.1-py3.12.lock (the default combination: requirements/app.lock)."""
    if (django, python) == (DEFAULT_DJANGO, DEFAULT_PYTHON):
        return DEFAULT_LOCK
    return f"requirements/app-django{django}-py{python}.lock"


def wheelhouse_path(django: str, python: str) -> str:
    """build/wheelhouse-django6.1-py3.12 (the default combination: build/wheelhouse)."""
    if (django, python) == (DEFAULT_DJANGO, DEFAULT_PYTHON):
        return DEFAULT_WHEELHOUSE
    return f"build/wheelhouse-django{django}-py{python}"


def check_django(text: str) -> str:
    """A Django series written X.Y; MatrixError for anything else."""
    value = str(text).strip()
    if not SERIES.match(value):
        raise MatrixError(
            f"not a Django version: {text!r}: write a release series X.Y, e.g. --django 5.2,6.1 "
            "(each lock pins the patch release)"
        )
    return value


def check_python(text: str) -> str:
    """A Python minor version written 3.Y; MatrixError for anything else."""
    value = str(text).strip()
    if not SERIES.match(value) or not value.startswith("3."):
        raise MatrixError(f"not a Python version: {text!r}: write it as 3.Y, e.g. --python 3.12")
    return value


def parse_list(text: str, what: str, check: Callable[[str], str]) -> list[str]:
    """A comma list of versions (order kept, duplicates dropped); an empty item is refused."""
    items = str(text).split(",")
    if any(not item.strip() for item in items):
        raise MatrixError(
            f"--{what} {text!r} has an empty item: list versions separated by commas, "
            f"e.g. --{what} {'5.2,6.1' if what == 'django' else '3.11,3.12'}"
        )
    out: list[str] = []
    for item in items:
        value = check(item)
        if value not in out:
            out.append(value)
    return out


def locked_combinations(locks: Mapping[str, str]) -> set[Combination]:
    """The combinations that have a committed lock (paths relative to the repository root)."""
    found = set()
    for path in locks:
        if path == DEFAULT_LOCK:
            found.add(Combination(DEFAULT_DJANGO, DEFAULT_PYTHON))
            continue
        match = LOCK_NAME.search(path)
        if match:
            found.add(Combination(match["django"], match["python"]))
    return found


def requires_python(django: str, locks: Mapping[str, str]) -> SpecifierSet | None:
    """Django's Requires-Python as any lock of that series records it (None: unknown)."""
    for path, text in sorted(locks.items()):
        match = LOCK_NAME.search(path)
        if not match or match["django"] != django:
            continue
        for line in text.splitlines():
            line = line.lstrip("# ").strip()
            if line.startswith(REQUIRES_PYTHON_HEADER):
                try:
                    return SpecifierSet(line.removeprefix(REQUIRES_PYTHON_HEADER).strip())
                except InvalidSpecifier:
                    return None
    return None


def served_series(versions: Collection[str]) -> list[str]:
    """The X.Y series among the package index's Django versions, oldest first (finals only)."""
    series = set()
    for text in versions:
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if not version.is_prerelease:
            series.add((version.major, version.minor))
    return [f"{major}.{minor}" for major, minor in sorted(series)]


def _supports(spec: SpecifierSet, python: str) -> bool:
    # A series X.Y is supported when its first patch release is (Django writes >=3.12).
    return spec.contains(f"{python}.0", prereleases=True)


def _check_pythons(pythons: list[str], pythons_here: Collection[str]) -> None:
    """Each Python must be one the app supports and this machine has."""
    app_floor = SpecifierSet(APP_REQUIRES_PYTHON)
    for python in pythons:
        if not _supports(app_floor, python):
            raise MatrixError(
                f"Python {python} is too old for the app (requires-python {APP_REQUIRES_PYTHON}): "
                "pass 3.11 or newer"
            )
        if python not in pythons_here:
            have = ", ".join(sorted(pythons_here, key=Version)) or "none"
            raise MatrixError(
                f"Python {python} is not on this machine: it has {have} "
                "(install it with pyenv, or pick one of these)"
            )


def _check_djangos(
    djangos: list[str],
    locked: set[Combination],
    index_versions: Callable[[], Collection[str]],
    python: str,
) -> None:
    """Each Django series needs a committed lock; without one, the package index says
    whether it exists at all."""
    for django in djangos:
        if any(c.django == django for c in locked):
            continue
        served = served_series(index_versions())
        if django not in served:
            older = f" (and {len(served) - 8} older series)" if len(served) > 8 else ""
            raise MatrixError(
                f"Django {django} is not on the package index: it serves "
                f"{', '.join(served[-8:]) or 'nothing (is the index reachable?)'}{older}"
            )
        raise MatrixError(
            f"Django {django} has no lock here: run `make lock DJANGO={django} "
            f"HOST_PYTHON={python}` and commit it"
        )


def expand(
    djangos: list[str],
    pythons: list[str],
    *,
    locks: Mapping[str, str],
    pythons_here: Collection[str],
    index_versions: Callable[[], Collection[str]],
) -> Matrix:
    """The product djangos x pythons: combinations to measure and those skipped up front.

    Refuses (MatrixError) a Python the app does not support or this machine lacks, a
    Django the package index does not serve or that has no lock, a supported combination
    without its lock, and a product where no combination is supported.
    """
    if not djangos or not pythons:
        raise MatrixError("a matrix needs at least one --django and one --python version")
    _check_pythons(pythons, pythons_here)
    locked = locked_combinations(locks)
    _check_djangos(djangos, locked, index_versions, pythons[-1])
    specs = {django: requires_python(django, locks) for django in djangos}
    result = Matrix()
    for django in djangos:
        for python in pythons:
            combo = Combination(django, python)
            spec = specs[django]
            if spec is not None and not _supports(spec, python):
                result.skipped.append(Skipped(combo, f"Django {django} requires Python {spec}"))
                continue
            if combo not in locked:
                raise MatrixError(
                    f"{combo.label()} has no lock: run `make lock DJANGO={django} "
                    f"HOST_PYTHON={python}` and commit {combo.lock}"
                )
            result.combinations.append(combo)
    if not result.combinations:
        reasons = "; ".join(sorted({s.reason for s in result.skipped}))
        raise MatrixError(
            f"no supported combination in Django {','.join(djangos)} x Python "
            f"{','.join(pythons)}: {reasons}"
        )
    return result


def describe(matrix: Matrix) -> str:
    """One line: what runs and what was skipped (for the console and the report)."""
    runs = ", ".join(c.label() for c in matrix.combinations)
    text = f"{len(matrix.combinations)} combination(s): {runs}"
    if matrix.skipped:
        text += "; skipped: " + ", ".join(
            f"{s.combination.label()} ({s.reason})" for s in matrix.skipped
        )
    return text


def series(version: str) -> str:
    """The X.Y of a version ("6.1.3" -> "6.1"; "3.12.1" -> "3.12")."""
    return ".".join(str(version).split(".")[:2])


def matrix_deployments(
    deployments: list[tuple[str, dict[str, object]]], combinations: list[Combination]
) -> list[tuple[str, dict[str, object]]]:
    """Each (mode, deploy variables) of `deployments` for each combination in turn, with
    the combination's `django` and `python` deploy variables (both modes of a combination
    back to back, so that its pair is measured under the same conditions)."""
    return [
        (mode, {**config, "django": combo.django, "python": combo.python})
        for combo in combinations
        for mode, config in deployments
    ]


def combination_of(serving: Mapping[str, object]) -> Combination | None:
    """The combination a sample's serving config names (a matrix run's), else None."""
    django, python = serving.get("django"), serving.get("python")
    if not django or not python:
        return None
    return Combination(series(str(django)), series(str(python)))


def matrix_metadata(combinations: list[Combination], skipped: list[Skipped]) -> dict[str, object]:
    """The run metadata's "matrix": what was measured (with each lock) and what was skipped."""
    return {
        "combinations": [
            {"django": c.django, "python": c.python, "lock": c.lock} for c in combinations
        ],
        "skipped": [
            {"django": s.combination.django, "python": s.combination.python, "reason": s.reason}
            for s in skipped
        ],
    }
