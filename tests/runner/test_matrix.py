"""The version matrix: list parsing, the product, skip rules and refusals (runner/matrix.py),
and the committed locks it reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from runner import locks, matrix
from runner.matrix import Combination, MatrixError

ROOT = Path(__file__).resolve().parents[2]
HERE = {"3.10", "3.11", "3.12", "3.13"}
LOCKS = {
    "requirements/app.lock": "django==5.2.19\n",
    "requirements/app-django5.2-py3.12.lock": "# requires-python django: >=3.10\ndjango==5.2.19\n",
    "requirements/app-django6.1-py3.12.lock": "# requires-python django: >=3.12\ndjango==6.1.3\n",
    "requirements/app-django6.1-py3.13.lock": "# requires-python django: >=3.12\ndjango==6.1.3\n",
}


def no_index() -> list[str]:
    raise AssertionError("the package index is asked only about a Django without a lock")


def expand(djangos: list[str], pythons: list[str], **kwargs) -> matrix.Matrix:
    args = {"locks": LOCKS, "pythons_here": HERE, "index_versions": no_index, **kwargs}
    return matrix.expand(djangos, pythons, **args)


def test_product_in_order_with_unsupported_combinations_skipped() -> None:
    result = expand(["5.2", "6.1"], ["3.11", "3.12"])
    assert result.combinations == [
        Combination("5.2", "3.11"),
        Combination("5.2", "3.12"),
        Combination("6.1", "3.12"),
    ]
    assert [(s.combination, s.reason) for s in result.skipped] == [
        (Combination("6.1", "3.11"), "Django 6.1 requires Python >=3.12")
    ]
    assert "skipped: Django 6.1 / Python 3.11 (Django 6.1 requires Python >=3.12)" in (
        matrix.describe(result)
    )


def test_no_supported_combination_is_refused() -> None:
    with pytest.raises(MatrixError, match=r"no supported combination .*requires Python >=3.12"):
        expand(["6.1"], ["3.11"])


def test_a_python_this_machine_lacks_lists_the_ones_it_has() -> None:
    with pytest.raises(MatrixError) as err:
        expand(["5.2"], ["3.14"])
    assert str(err.value).startswith("Python 3.14 is not on this machine: it has 3.10, 3.11,")


def test_a_python_older_than_the_app_supports_is_refused() -> None:
    with pytest.raises(MatrixError, match=r"Python 3.10 is too old for the app"):
        expand(["5.2"], ["3.10"])


def test_a_django_the_index_does_not_serve_names_the_ones_it_does() -> None:
    served = ["4.2.30", "5.1", "5.2.19", "6.0", "6.1.3", "6.2a1"]
    with pytest.raises(MatrixError) as err:
        expand(["5.5"], ["3.12"], index_versions=lambda: served)
    assert str(err.value) == (
        "Django 5.5 is not on the package index: it serves 4.2, 5.1, 5.2, 6.0, 6.1"
    )


def test_a_served_django_without_a_lock_says_how_to_make_it() -> None:
    with pytest.raises(MatrixError, match=r"make lock DJANGO=6.0 HOST_PYTHON=3.12"):
        expand(["6.0"], ["3.12"], index_versions=lambda: ["6.0.10"])


def test_a_supported_combination_without_its_lock_is_refused() -> None:
    with pytest.raises(MatrixError, match=r"Django 5.2 / Python 3.13 has no lock"):
        expand(["5.2"], ["3.13"])


@pytest.mark.parametrize(
    ("text", "what", "message"),
    [
        ("5.2,", "django", "has an empty item"),
        ("5.2,,6.1", "django", "has an empty item"),
        ("", "python", "has an empty item"),
        ("five", "django", "not a Django version: 'five'"),
        ("6.1.3", "django", "write a release series X.Y"),
        ("3", "python", "not a Python version: '3'"),
        ("2.7", "python", "not a Python version"),
    ],
)
def test_bad_lists_are_refused_in_one_line(text: str, what: str, message: str) -> None:
    check = matrix.check_django if what == "django" else matrix.check_python
    with pytest.raises(MatrixError, match=message) as err:
        matrix.parse_list(text, what, check)
    assert "\n" not in str(err.value)


def test_lists_keep_order_and_drop_duplicates() -> None:
    assert matrix.parse_list(" 6.1, 5.2,6.1", "django", matrix.check_django) == ["6.1", "5.2"]


def test_paths_of_the_default_combination_are_today_s() -> None:
    assert Combination("5.2", "3.11").lock == "requirements/app.lock"
    assert Combination("5.2", "3.11").wheelhouse == "build/wheelhouse"
    assert Combination("6.1", "3.12").lock == "requirements/app-django6.1-py3.12.lock"
    assert Combination("6.1", "3.12").wheelhouse == "build/wheelhouse-django6.1-py3.12"
    assert Combination("6.1", "3.12").key == "django6.1-py3.12"


# The committed locks themselves.


def pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[canonicalize_name(name)] = version
    return out


def test_committed_locks_are_what_their_names_say() -> None:
    committed = locks.committed_locks(ROOT)
    combos = matrix.locked_combinations(committed)
    assert {Combination("5.2", "3.11"), Combination("6.1", "3.12")} <= combos
    for combo in combos:
        assert pins(ROOT / combo.lock)["django"].startswith(combo.django + "."), combo
        if combo.lock != matrix.DEFAULT_LOCK:
            spec = matrix.requires_python(combo.django, committed)
            assert spec is not None and spec.contains(combo.python + ".0"), combo


def test_only_django_moves_across_the_locks() -> None:
    """Every other pin follows requirements/app.lock, so the matrix varies Django and Python."""
    # k6 is the load generators' tool (the app role leaves it out); only app.lock has it.
    default = {k: v for k, v in pins(ROOT / matrix.DEFAULT_LOCK).items() if k != "k6"}
    for path in sorted((ROOT / "requirements").glob("app-django*.lock")):
        other = pins(path)
        assert set(other) == set(default), path.name
        moved = {name for name in default if default[name] != other[name]}
        assert moved <= locks.FOLLOW_DJANGO, (path.name, moved)


def test_the_app_floor_is_pyproject_s() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == matrix.APP_REQUIRES_PYTHON


def test_the_real_matrix_on_this_machine() -> None:
    """The committed locks and this machine's interpreters: 6.1 on 3.11 skipped."""
    result = locks.plan("5.2,6.1", "3.11,3.12")
    assert [c.key for c in result.combinations] == [
        "django5.2-py3.11",
        "django5.2-py3.12",
        "django6.1-py3.12",
    ]
    assert [s.combination.key for s in result.skipped] == ["django6.1-py3.11"]


def test_each_combination_deploys_both_modes_back_to_back() -> None:
    base = [("asgi", {"workers": 1}), ("wsgi", {"workers": 1})]
    combos = [Combination("5.2", "3.11"), Combination("6.1", "3.12")]
    assert matrix.matrix_deployments(base, combos) == [
        ("asgi", {"workers": 1, "django": "5.2", "python": "3.11"}),
        ("wsgi", {"workers": 1, "django": "5.2", "python": "3.11"}),
        ("asgi", {"workers": 1, "django": "6.1", "python": "3.12"}),
        ("wsgi", {"workers": 1, "django": "6.1", "python": "3.12"}),
    ]


def test_a_sample_names_its_combination_by_series() -> None:
    serving = {"workers": 1, "django": "6.1.3", "python": "3.12.1"}
    assert matrix.combination_of(serving) == Combination("6.1", "3.12")
    assert matrix.combination_of({"workers": 1}) is None


def test_a_plan_with_a_matrix_deploys_each_supported_combination() -> None:
    from runner.plan import PlanOptions, build_plan

    plan = build_plan(
        PlanOptions(preset="smoke", modes="asgi,wsgi", django="5.2,6.1", python="3.11,3.12")
    )
    assert [c.key for c in plan.matrix] == [
        "django5.2-py3.11",
        "django5.2-py3.12",
        "django6.1-py3.12",
    ]
    assert [s.combination.key for s in plan.skipped] == ["django6.1-py3.11"]
    assert [(m, c["django"], c["python"]) for m, c in plan.deployments] == [
        ("asgi", "5.2", "3.11"),
        ("wsgi", "5.2", "3.11"),
        ("asgi", "5.2", "3.12"),
        ("wsgi", "5.2", "3.12"),
        ("asgi", "6.1", "3.12"),
        ("wsgi", "6.1", "3.12"),
    ]
    assert any("skipped: Django 6.1 / Python 3.11" in note for note in plan.notes)


def test_a_plan_without_versions_is_not_a_matrix() -> None:
    from runner.plan import PlanOptions, build_plan

    plan = build_plan(PlanOptions(preset="smoke", modes="asgi,wsgi"))
    assert plan.matrix == () and all("django" not in c for _, c in plan.deployments)
