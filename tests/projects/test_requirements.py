"""The host's install list: server pins dropped, the harness's pins added, clashes named."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from runner.projects import ProjectError
from runner.projects import requirements as reqs

PINS = [Requirement("granian==2.8.7"), Requirement("uvloop==0.23.0")]


def lines(*items: str) -> list[tuple[str, str]]:
    return [(item, f"requirements.txt line {n}") for n, item in enumerate(items, 1)]


def test_server_pins_are_dropped_and_the_harness_granian_added() -> None:
    result = reqs.build(
        lines("Django==5.1.2", "granian==1.6.1", "gunicorn", "uvicorn[standard]", "daphne"),
        (),
        PINS,
    )
    assert result.install == ["Django==5.1.2", "granian==2.8.7", "uvloop==0.23.0"]
    assert result.dropped_server == ["granian==1.6.1", "gunicorn", "uvicorn[standard]", "daphne"]


def test_a_clashing_pin_names_both_requirements() -> None:
    with pytest.raises(ProjectError) as error:
        reqs.build(lines("Django==5.1.2", "uvloop==0.21.0"), (), PINS)
    message = str(error.value)
    assert "uvloop==0.21.0 (requirements.txt line 2)" in message
    assert "uvloop==0.23.0" in message
    assert 'add "uvloop" to exclude' in message


def test_a_compatible_pin_and_an_excluded_one_do_not_clash() -> None:
    result = reqs.build(lines("Django", "uvloop>=0.20"), (), PINS)
    assert "uvloop>=0.20" not in result.install
    excluded = reqs.build(
        lines("Django", "uvloop==0.21.0", "psycopg2"), ("uvloop", "PsycoPG2"), PINS
    )
    assert excluded.excluded == ["uvloop==0.21.0", "psycopg2"]
    assert "psycopg2" not in excluded.install


def test_without_django_the_list_is_refused() -> None:
    with pytest.raises(ProjectError, match="do not list Django"):
        reqs.build(lines("requests"), (), PINS)


def test_the_harness_pins_come_from_the_app_lock() -> None:
    pins = {p.name: str(p.specifier) for p in reqs.harness_pins()}
    assert set(pins) == {"granian", "uvloop"}
    assert all(spec.startswith("==") for spec in pins.values())


def test_includes_are_followed_and_options_skipped(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("Django==5.2.1  # the framework\n")
    (tmp_path / "requirements.txt").write_text(
        "--index-url https://example.org/simple\n-r base.txt\n\n# comment\nrequests\n"
    )
    found = reqs.read_lines(tmp_path / "requirements.txt")
    assert [line for line, _ in found] == ["Django==5.2.1", "requests"]


def test_pyproject_dependencies_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\ndependencies=["Django>=5"]\n')
    assert reqs.read_lines(tmp_path / "pyproject.toml") == [("Django>=5", "pyproject.toml")]


def test_editable_lines_are_refused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-e ./lib\n")
    with pytest.raises(ProjectError, match="editable"):
        reqs.read_lines(tmp_path / "requirements.txt")
