"""Both modes deployed side by side on the session's local hosts, switched for real.

In file order on one stack: a side-by-side deploy serves the asked mode and pauses the
other; the runner's switch (runner.modeswitch) flips them over SSH and proves the mode
from the load generator; a bad mode says so; a plain `-e mode=wsgi` deploy goes back to
one program; stop.yml stops paused servers too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.inventory import load_inventory
from runner.modeswitch import ModeSwitchError, Switched, mode_port, switch_mode
from runner.remote import Remote, connect
from tests.deploy.test_deploy_local import assert_succeeded, supervised_pid
from tests.fixtures.deploy import Deployer

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(1000)]


@pytest.fixture(scope="module")
def remotes(deployer: Deployer) -> Iterator[tuple[Remote, Remote]]:
    """The runner's own connections: (app host, first load generator)."""
    inventory = load_inventory(deployer.stack.inventory_path)
    app, lg = connect(inventory.app), connect(inventory.loadgens[0])
    try:
        yield app, lg
    finally:
        app.close()
        lg.close()


def group_states(deployer: Deployer, pid: int) -> set[str]:
    """The states of every process in the group `pid` leads (Granian and its workers)."""
    command = f"for p in $(pgrep -g {pid}); do sed 's/.*) //' /proc/$p/stat; done"
    proc = deployer.stack.ssh(deployer.stack.app, command)
    assert proc.returncode == 0, proc.stderr
    return {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}


def programs(deployer: Deployer) -> set[str]:
    """The Granian program files on the app host."""
    app = deployer.stack.app
    proc = deployer.stack.ssh(app, f"ls {app.bench_root}/supervisor/conf.d")
    return {name.removesuffix(".conf") for name in proc.stdout.split() if "granian" in name}


def test_side_by_side_serves_the_asked_mode_and_pauses_the_other(deployer: Deployer) -> None:
    # The session's first deploy installs the venvs: slow on a busy machine.
    assert_succeeded(deployer.deploy("asgi", timeout=900, side_by_side="true"))
    assert programs(deployer) == {"granian-asgi", "granian-wsgi"}
    assert deployer.health()["mode"] == "asgi"  # on app_port, as a single deploy
    app = deployer.stack.app
    wsgi = supervised_pid(deployer, app, "granian-wsgi")
    asgi = supervised_pid(deployer, app, "granian-asgi")
    assert group_states(deployer, wsgi) == {"T"}
    assert "T" not in group_states(deployer, asgi)
    assert len(group_states(deployer, asgi)) >= 1
    # The migrations ran once in the deploy, not in the servers' start.
    conf = deployer.stack.ssh(app, f"cat {app.bench_root}/supervisor/conf.d/granian-wsgi.conf")
    assert "--migrate" not in conf.stdout and 'BENCH_MODE="wsgi"' in conf.stdout


def test_switch_flips_the_modes_and_the_health_check_proves_it(
    deployer: Deployer, remotes: tuple[Remote, Remote]
) -> None:
    app_remote, lg_remote = remotes
    app, port = deployer.stack.app, int(deployer.stack.app.vars.get("app_port", 8000))
    switched = switch_mode(app_remote, lg_remote, "wsgi")
    assert isinstance(switched, Switched)
    assert (switched.mode, switched.port, switched.paused) == (
        "wsgi",
        mode_port("wsgi", port),
        "asgi",
    )
    assert switched.health["mode"] == "wsgi" and switched.health["users"] == 1000
    print(f"switch to wsgi: {switched.seconds:.3f} s")
    assert group_states(deployer, supervised_pid(deployer, app, "granian-asgi")) == {"T"}
    answer = lg_remote.probe("http", f"http://{app.address}:{switched.port}/users/sync/")
    assert answer["status"] == 200 and answer["rows"] == 1000

    back = switch_mode(app_remote, lg_remote, "asgi")
    assert (back.mode, back.port, back.paused) == ("asgi", port, "wsgi")
    print(f"switch to asgi: {back.seconds:.3f} s")
    assert group_states(deployer, supervised_pid(deployer, app, "granian-wsgi")) == {"T"}
    assert deployer.health()["mode"] == "asgi"


def test_switch_to_an_unknown_mode_says_so_and_changes_nothing(
    deployer: Deployer, remotes: tuple[Remote, Remote]
) -> None:
    with pytest.raises(ModeSwitchError, match="say asgi, wsgi or resume"):
        switch_mode(*remotes, "fastest")
    assert deployer.health()["mode"] == "asgi"


def test_plain_deploy_goes_back_to_one_program(deployer: Deployer) -> None:
    assert_succeeded(deployer.deploy("wsgi"))
    assert programs(deployer) == {"granian"}
    assert deployer.health()["mode"] == "wsgi"
    pid = supervised_pid(deployer, deployer.stack.app, "granian")
    assert "T" not in group_states(deployer, pid)


def test_switch_without_a_side_by_side_deploy_says_how_to_get_one(
    deployer: Deployer, remotes: tuple[Remote, Remote]
) -> None:
    with pytest.raises(ModeSwitchError, match="side_by_side=true"):
        switch_mode(*remotes, "asgi")
    assert deployer.health()["mode"] == "wsgi"


def test_stop_stops_a_paused_server_too(deployer: Deployer) -> None:
    assert_succeeded(deployer.deploy("wsgi", side_by_side="true"))
    app = deployer.stack.app
    assert group_states(deployer, supervised_pid(deployer, app, "granian-asgi")) == {"T"}
    assert_succeeded(deployer.stop())
    # The bracket keeps pgrep from matching this very command line.
    left = deployer.stack.ssh(app, f"pgrep -af '{app.bench_root}/venv/bin/[p]ython' || true")
    assert left.stdout.strip() == "", left.stdout
