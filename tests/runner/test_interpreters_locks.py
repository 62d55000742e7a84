"""Which interpreters this machine has (runner/interpreters.py), a lock resolved by the
target interpreter's own pip (runner/locks.py), and the Makefile's per-combination paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import interpreters, locks
from runner.interpreters import InterpreterError

ROOT = Path(__file__).resolve().parents[2]


def fake_python(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_pyenv_newest_patch_per_minor_then_the_system(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    for version in ("3.12.1", "3.12.10", "3.13.0", "2.7.18", "3.11-dev"):
        minor = ".".join(version.split(".")[:2]).removesuffix("-dev")
        fake_python(root / "versions" / version / "bin" / f"python{minor}")
    system = tmp_path / "usr-bin"
    fake_python(system / "python3.11")
    fake_python(system / "python3.12")
    found = interpreters.available_pythons(root=root, system_bin=system, path="")
    assert found == {
        "3.11": system / "python3.11",
        "3.12": root / "versions" / "3.12.10" / "bin" / "python3.12",
        "3.13": root / "versions" / "3.13.0" / "bin" / "python3.13",
    }


def test_a_missing_python_lists_the_ones_this_machine_has() -> None:
    with pytest.raises(InterpreterError) as err:
        interpreters.resolve_python("3.99", {"3.11": Path("/a"), "3.12": Path("/b")})
    assert str(err.value).startswith("Python 3.99 is not on this machine: it has 3.11, 3.12")


def test_a_malformed_python_version_is_refused() -> None:
    with pytest.raises(InterpreterError, match="not a Python version: 'three'"):
        interpreters.resolve_python("three", {})


def test_this_machine_s_interpreters_are_what_they_claim() -> None:
    """The pyenv interpreters the matrix runs on (3.11, 3.12, 3.13 on this machine)."""
    found = interpreters.available_pythons()
    assert {"3.11", "3.12"} <= set(found), found
    for minor in ("3.11", "3.12"):
        exe = interpreters.resolve_python(minor)
        assert os.access(exe, os.X_OK)
        assert interpreters.exact_version(exe).startswith(minor + ".")


def test_the_cli_prints_a_path_or_one_line() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "runner.interpreters", "3.12"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stdout.strip().endswith("python3.12")
    bad = subprocess.run(
        [sys.executable, "-m", "runner.interpreters", "3.99"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "3.12" in bad.stderr and "Traceback" not in bad.stderr


def test_render_records_django_s_requires_python() -> None:
    installs = [
        {"metadata": {"name": "Django", "version": "6.1.3", "requires_python": ">=3.12"}},
        {"metadata": {"name": "typing_extensions", "version": "4.16.0"}},
    ]
    text = locks.render("6.1", "3.12", "3.12.1", installs)
    lines = text.splitlines()
    assert lines[1] == "# requires-python django: >=3.12"
    assert lines[2:] == ["django==6.1.3", "typing-extensions==4.16.0"]


def test_requirements_narrow_django_to_one_series() -> None:
    reqs = locks.requirements_for("6.1")
    assert "django==6.1.*" in reqs
    assert not any(r.startswith("django>") for r in reqs)


@pytest.mark.timeout(300)
def test_the_target_interpreter_s_pip_resolves_the_lock() -> None:
    """Python 3.12's pip finds Django 6.1; Python 3.11's cannot (its Requires-Python)."""
    installs = locks.resolve("6.1", interpreters.resolve_python("3.12"))
    names = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in installs}
    assert names["django"].startswith("6.1.")
    assert names["granian"] == locks.default_pins()["granian"]
    with pytest.raises(locks.LockError, match=r"could not resolve Django 6\.1"):
        locks.resolve("6.1", interpreters.resolve_python("3.11"))


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_makefile_paths_per_combination() -> None:
    default = make("-n", "-B", "wheelhouse").stdout
    assert "-r requirements/app.lock -d build/wheelhouse " in default
    assert "--python-version 3.11" in default
    other = make("-n", "-B", "wheelhouse", "DJANGO=6.1", "HOST_PYTHON=3.12").stdout
    assert "-r requirements/app-django6.1-py3.12.lock -d build/wheelhouse-django6.1-py3.12 " in (
        other
    )
    assert "--python-version 3.12" in other


def test_makefile_refuses_a_combination_without_a_lock() -> None:
    proc = make("wheelhouse", "DJANGO=6.0", "HOST_PYTHON=3.12")
    assert proc.returncode != 0
    assert "no lock requirements/app-django6.0-py3.12.lock: run make lock DJANGO=6.0" in (
        proc.stderr
    )
