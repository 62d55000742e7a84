"""The original study's own repository (a git bundle of its one commit) through the
project path, end to end on the local hosts in both modes: examples/original-study.toml,
each mode deployed from the load generator's view and measured briefly with ab -l.

The bundle is read from ../shared/clients/ beside the checkout, or from the folder in
ABW_CLIENTS_DIR; it is never copied into the project (it carries no licence).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.fixtures.deploy import Deployer

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(2400)]

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = "asgi-wsgi-benchmark.bundle"
PAGE_BYTES = 458_570
# A first deploy on a fresh stack installs the venvs of both hosts and the project's (20 min
# were not enough on a 2-CPU machine at load 26).
DEPLOY_S = 1800


def clients_dir() -> Path:
    return Path(os.environ.get("ABW_CLIENTS_DIR") or ROOT.parent / "shared" / "clients")


@pytest.fixture(scope="module")
def study_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bundle = clients_dir() / BUNDLE
    if not bundle.is_file():
        reason = f"the original study's bundle is not at {bundle} (set ABW_CLIENTS_DIR)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    text = (ROOT / "examples" / "original-study.toml").read_text()
    text = re.sub(r"(?m)^source = .*$", f"source = {str(bundle)!r}", text)
    path = tmp_path_factory.mktemp("study") / "original-study.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("mode", ["asgi", "wsgi"])
def test_the_original_study_serves_and_measures_in_both_modes(
    deployer: Deployer, study_file: Path, mode: str
) -> None:
    proc = deployer.deploy(mode, DEPLOY_S, project=str(study_file), workers=1)
    assert proc.returncode == 0, proc.stdout[-5000:]
    status, body = deployer.get("/__bench__/health/")
    health = json.loads(body)
    assert status == 200 and health["mode"] == mode
    assert health["project"]["commit"] == "0e98c6b4407515c792e043816f66d7a7b5213ac0"
    assert health["versions"]["django"] == "5.1.2" and health["debug"] is True
    status, page = deployer.get("/async/")
    assert status == 200 and len(page.encode()) == PAGE_BYTES
    app = deployer.stack.app
    url = f"http://{app.address}:{app.vars.get('app_port', 8000)}/async/"
    ran = deployer.stack.ssh(deployer.stack.loadgens[0], f"ab -l -q -n 20 -c 2 {url}", timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"Complete requests:\s+20\b", ran.stdout), ran.stdout
    assert re.search(r"Failed requests:\s+0\b", ran.stdout), ran.stdout
    assert re.search(r"Document Length:\s+Variable", ran.stdout), ran.stdout
