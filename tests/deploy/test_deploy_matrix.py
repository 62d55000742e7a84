"""deploy.yml -e django=X -e python=Y: one Django x Python combination.

Bad versions stop the first play before any host is touched (an inventory without hosts
would otherwise succeed); on the session's local hosts, Django 6.1 on the machine's pyenv
Python 3.12 serves the app unchanged, in its own venv, and the default deploy comes back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.test_deploy_input import EMPTY_INVENTORY
from tests.fixtures.deploy import Deployer, play_recap, run_playbook

# A new venv for another interpreter (and a copy of its wheelhouse) on a busy machine.
DEPLOY_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def empty_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deploy-matrix") / "inventory.yml"
    path.write_text(EMPTY_INVENTORY)
    return path


@pytest.mark.timeout(200)
@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        ({"django": "6.1", "python": "3.11"}, "Django 6.1 requires Python >=3.12"),
        ({"django": "6.1"}, "Django 6.1 requires Python >=3.12"),
        ({"python": "3.99"}, "Python 3.99 is not on this machine: it has"),
        ({"django": "5.5", "python": "3.12"}, "Django 5.5 is not on the package index: it serves"),
        ({"django": "six", "python": "3.12"}, "not a Django version: 'six'"),
        ({"django": "5.2", "python": "3.10"}, "Python 3.10 is too old for the app"),
    ],
)
def test_bad_versions_fail_in_the_first_play(
    empty_inventory: Path, extra_vars: dict[str, str], message: str
) -> None:
    proc = run_playbook("deploy.yml", empty_inventory, {"mode": "asgi", **extra_vars}, 150)
    assert proc.returncode != 0
    output = " ".join((proc.stdout + proc.stderr).split())
    assert message in output, output[-2000:]
    assert "Traceback" not in output
    assert "Package the app code" not in output


def venv_target(deployer: Deployer) -> str:
    app = deployer.stack.app
    proc = deployer.stack.ssh(app, f"readlink {app.bench_root}/venv")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.hosts
@pytest.mark.timeout(2000)
def test_django_6_1_on_python_3_12_then_back_to_the_default(deployer: Deployer) -> None:
    proc = deployer.deploy("wsgi", DEPLOY_TIMEOUT_S, django="6.1", python="3.12")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert all(c["failed"] == 0 for c in play_recap(proc.stdout).values())
    health = deployer.health()
    versions = health["versions"]
    assert versions["django"].startswith("6.1."), versions
    assert versions["python"].startswith("3.12."), versions
    assert {"asgiref", "granian"} <= set(versions)
    assert health["mode"] == "wsgi" and health["users"] == 1000
    assert venv_target(deployer) == "venvs/py3.12"
    status, page = deployer.get("/users/async/")
    assert status == 200 and page.count("<tr") >= 1000

    # Back to the default: Debian's python3 and Django 5.2, in the venv it always had.
    proc = deployer.deploy("asgi", DEPLOY_TIMEOUT_S)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    versions = deployer.health()["versions"]
    assert versions["django"].startswith("5.2."), versions
    assert not versions["python"].startswith("3.12."), versions
    assert venv_target(deployer) == "venvs/system"
