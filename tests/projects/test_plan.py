"""A project in the Plan: its URLs become the levels' scenarios, checked before any host."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.plan import PlanError, PlanOptions, build_plan
from tests.projects.sample import make_site, project_file

BODY = '[urls]\nhome = "/"\ninfo = "/info/"\n'


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    make_site(folder / "mysite")
    return project_file(folder / "plan.toml", "mysite", BODY)


def test_every_url_is_measured_at_the_users_levels(project: Path) -> None:
    plan = build_plan(PlanOptions(project=str(project), preset="smoke", modes="asgi,wsgi"))
    assert plan.target == "project" and plan.project == str(project)
    assert [(lv.scenario, lv.concurrency) for lv in plan.levels] == [("home", 2), ("info", 2)]
    extra = build_plan(
        PlanOptions(project=str(project), preset="smoke", project_urls=("x=/x/",), scenario="x")
    )
    assert [lv.scenario for lv in extra.levels] == ["x"]


def test_a_url_name_not_in_the_project_is_refused(project: Path) -> None:
    with pytest.raises(PlanError, match="'users' is not one of the project's URLs"):
        build_plan(PlanOptions(project=str(project), scenario="users"))


def test_a_bad_project_file_is_a_plan_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('source = "x"\n')
    with pytest.raises(PlanError, match=r"no \[urls\]"):
        build_plan(PlanOptions(project=str(bad)))
