"""A project deployed for real on the session's local hosts (ansible-playbook, sshd,
Granian), both modes, with small projects the tests make: manage.py in a subfolder, no
asgi.py, a view only Python 3.12 compiles, static files behind ManifestStaticFilesStorage
with DEBUG turned off by an override. Then the host-side bad input: settings that do not
import, a failing setup command, a URL that answers 404; each stops the deploy with one
reason and leaves no Granian serving.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.projects import interpreters
from tests.fixtures.deploy import Deployer
from tests.projects.sample import make_site, project_file
from tests.projects.test_prepare import snapshot

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(2400)]
# A first deploy on a fresh stack installs the venvs of both hosts and the project's (20 min
# were not enough on a 2-CPU machine at load 26).
DEPLOY_S = 1800

GENERIC = """
python = "3.12"
setup = ["migrate --noinput"]
[settings_overrides]
DEBUG = false
[urls]
home = "/"
info = "/info/"
css = "/static/mysite/app.css"
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "3.12" not in interpreters.available():
        pytest.skip("python 3.12 is not on this machine (pyenv install 3.12)")
    folder = tmp_path_factory.mktemp("projects")
    make_site(folder / "mysite", py312=True, static=True)
    return folder


def health(deployer: Deployer) -> dict:
    status, body = deployer.get("/__bench__/health/")
    assert status == 200, body[:500]
    return json.loads(body)


def granian_running(deployer: Deployer) -> bool:
    proc = deployer.supervisorctl(deployer.stack.app, "status", "granian")
    return "RUNNING" in proc.stdout


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
def test_a_generic_project_serves_in_both_modes(deployer: Deployer, site: Path, mode: str) -> None:
    before = snapshot(site / "mysite")
    path = project_file(site / "generic.toml", "mysite", GENERIC)
    proc = deployer.deploy(mode, DEPLOY_S, project=str(path), workers=1)
    assert proc.returncode == 0, proc.stdout[-5000:]
    body = health(deployer)
    assert body["mode"] == mode and body["project"]["name"] == "generic"
    assert body["versions"]["python"].startswith("3.12.") and body["debug"] is False
    status, page = deployer.get("/")
    assert status == 200 and "hello 3" in page
    # ManifestStaticFilesStorage names the collected, hashed file; Granian serves it.
    css = page.split('href="', 1)[1].split('"', 1)[0]
    assert css.startswith("/static/mysite/app.") and css != "/static/mysite/app.css"
    assert deployer.get(css) == (200, "body { color: #123456; }\n")
    assert json.loads(deployer.get("/info/")[1])["python"].startswith("3.12.")
    assert snapshot(site / "mysite") == before


def failed_deploy(deployer: Deployer, site: Path, name: str, body: str) -> str:
    """Deploy a broken variant; it must fail and leave nothing serving. Its output."""
    path = project_file(site / f"{name}.toml", f"{name}", body)
    proc = deployer.deploy("asgi", DEPLOY_S, project=str(path), workers=1)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert not granian_running(deployer)
    return proc.stdout


def test_settings_that_do_not_import_stop_the_deploy(deployer: Deployer, site: Path) -> None:
    make_site(site / "badsettings", py312=True, settings_extra="import no_such_module_abw")
    out = failed_deploy(deployer, site, "badsettings", 'python = "3.12"\n[urls]\nhome = "/"\n')
    assert "settings module mysite.settings does not import" in out
    assert "No module named 'no_such_module_abw'" in out


def test_a_failing_setup_command_shows_its_last_lines(deployer: Deployer, site: Path) -> None:
    make_site(site / "badsetup", py312=True)
    body = 'python = "3.12"\nsetup = ["loaddata nothing_abw"]\n[urls]\nhome = "/"\n'
    out = failed_deploy(deployer, site, "badsetup", body)
    assert "setup command `manage.py loaddata nothing_abw` failed" in out
    assert "nothing_abw" in out.split("failed", 1)[1]


def test_a_url_answering_404_stops_the_deploy(deployer: Deployer, site: Path) -> None:
    make_site(site / "badurl", py312=True)
    body = 'python = "3.12"\n[urls]\nhome = "/"\nboom = "/boom/"\n'
    out = failed_deploy(deployer, site, "badurl", body)
    assert "URL boom (/boom/) answered 404, not 2xx" in out
    assert "last lines of" in out and "granian.log" in out
