"""deploy.yml, stop.yml and facts.yml for real on the session's local hosts.

The tests run in file order on one stack: deploy asgi, check from the load generator,
an identical second run changes nothing, switch to wsgi (Granian alone restarts), bad
input leaves the running app alone, a deploy that cannot come up says why with Granian's
log, facts, and stop.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.deploy import Deployer, changed_tasks, play_recap

pytestmark = [pytest.mark.hosts, pytest.mark.timeout(600)]


def assert_succeeded(proc) -> dict[str, dict[str, int]]:
    """The run exited 0 with no failed or unreachable host; return its recap."""
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    recap = play_recap(proc.stdout)
    assert recap, proc.stdout[-2000:]
    for host, counts in recap.items():
        assert counts["failed"] == 0 and counts["unreachable"] == 0, (host, counts)
    return recap


def supervised_pid(deployer: Deployer, host, program: str) -> int:
    """The pid supervisord reports for a RUNNING program on a host."""
    proc = deployer.supervisorctl(host, "status", program)
    assert proc.returncode == 0 and "RUNNING" in proc.stdout, proc.stdout + proc.stderr
    return int(proc.stdout.split("pid ")[1].split(",")[0])


def supervisord_pid(deployer: Deployer, host) -> int:
    """supervisord's own pid on a host."""
    proc = deployer.supervisorctl(host, "pid")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return int(proc.stdout.strip())


def marker_mtime(deployer: Deployer, host) -> str:
    """When the host's venv was last installed (its marker file's mtime)."""
    proc = deployer.stack.ssh(host, f"stat -c %Y.%y {host.bench_root}/venv/.bench-installed")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def users_rows(page: str) -> int:
    """Rows of the users table's body."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr")


def test_deploy_asgi_answers_from_the_load_generator(deployer: Deployer) -> None:
    assert_succeeded(deployer.deploy("asgi"))
    health = deployer.health()
    assert health["mode"] == "asgi"
    assert health["users"] == 1000
    assert health["serving"]["host"] == deployer.stack.app.address
    status, page = deployer.get("/users/sync/")
    assert status == 200
    assert users_rows(page) == 1000
    # The io scenario's upstream answers on the load generator's private address.
    lg = deployer.stack.loadgens[0]
    assert health["upstream"]["url"] == f"http://{lg.address}:8001/"
    status, _ = deployer.get("/io/sync/")
    assert status == 200


def test_deploy_keeps_the_secret_key_private(deployer: Deployer) -> None:
    app = deployer.stack.app
    proc = deployer.stack.ssh(app, f"stat -c %a {app.bench_root}/secret_key")
    assert proc.stdout.strip() == "600"


def test_second_identical_run_changes_nothing(deployer: Deployer) -> None:
    app = deployer.stack.app
    before = supervised_pid(deployer, app, "granian")
    recap = assert_succeeded(deployer.deploy("asgi"))
    assert {host: counts["changed"] for host, counts in recap.items()} == dict.fromkeys(recap, 0)
    assert supervised_pid(deployer, app, "granian") == before


def test_switch_to_wsgi_restarts_granian_only(deployer: Deployer) -> None:
    app, lg = deployer.stack.app, deployer.stack.loadgens[0]
    granian = supervised_pid(deployer, app, "granian")
    upstream = supervised_pid(deployer, lg, "upstream")
    supervisors = (supervisord_pid(deployer, app), supervisord_pid(deployer, lg))
    venv_marker = marker_mtime(deployer, app)

    proc = deployer.deploy("wsgi")
    recap = assert_succeeded(proc)
    assert deployer.health()["mode"] == "wsgi"
    status, page = deployer.get("/users/sync/")
    assert status == 200 and users_rows(page) == 1000

    assert recap[lg.name]["changed"] == 0
    # Granian's program definition changed and Granian restarted; nothing was reinstalled.
    changed = changed_tasks(proc.stdout)
    assert "Write Granian's supervisor program" in changed
    assert not changed & {"Install the requirements from the wheelhouse", "Unpack the app archive"}
    assert marker_mtime(deployer, app) == venv_marker
    assert supervised_pid(deployer, app, "granian") != granian
    assert supervised_pid(deployer, lg, "upstream") == upstream
    assert (supervisord_pid(deployer, app), supervisord_pid(deployer, lg)) == supervisors
    conf = deployer.stack.ssh(app, f"cat {app.bench_root}/supervisor/conf.d/granian.conf")
    assert 'BENCH_MODE="wsgi"' in conf.stdout


def test_bad_mode_fails_with_the_valid_values_and_leaves_the_app_alone(
    deployer: Deployer,
) -> None:
    proc = deployer.deploy("fastest")
    assert proc.returncode != 0
    assert "mode must be one of: asgi, wsgi" in proc.stdout
    assert set(play_recap(proc.stdout)) == {"localhost"}
    assert deployer.health()["mode"] == "wsgi"


def test_workers_zero_fails_clearly(deployer: Deployer) -> None:
    proc = deployer.deploy("asgi", workers=0)
    assert proc.returncode != 0
    assert "workers must be a whole number from 1 to 256" in proc.stdout
    assert deployer.health()["mode"] == "wsgi"


def test_deploy_that_cannot_come_up_says_why_with_granians_log(deployer: Deployer) -> None:
    # Nothing listens on port 9 of the app host's loopback: serving.py's database check fails.
    proc = deployer.deploy(
        "asgi", database_url="postgres://bench@127.0.0.1:9/bench", app_health_timeout_s=15
    )
    assert proc.returncode != 0
    out = proc.stdout
    assert "the app did not come up in mode asgi" in out
    assert "last lines of" in out and "granian.log" in out
    assert "database postgresql unreachable" in out  # the log's own line, shown by the deploy


def test_redeploy_after_a_failure_recovers(deployer: Deployer) -> None:
    assert_succeeded(deployer.deploy("asgi", workers=1))
    health = deployer.health()
    assert health["mode"] == "asgi" and health["serving"]["workers"] == 1
    assert health["database"] == "sqlite"


def test_facts_are_written_per_host_from_the_cgroup(deployer: Deployer, tmp_path: Path) -> None:
    assert_succeeded(deployer.run("facts.yml", facts_dir=tmp_path))
    for host in deployer.stack.hosts.values():
        facts = json.loads((tmp_path / f"{host.name}.json").read_text())
        assert facts["vcpus"] == host.vars["machine_class"]["cpus"]
        assert facts["vcpus_source"] == "cgroup v1 cpuset"
        assert facts["memory_mib"] == host.vars["machine_class"]["memory_mib"]
        assert facts["memory_source"] == "cgroup v1 memory limit"
        assert facts["cpu_model"] and facts["kernel"]
        assert facts["versions"]["ab"].startswith("This is ApacheBench")
    app = json.loads((tmp_path / f"{deployer.stack.app.name}.json").read_text())
    assert app["versions"]["django"].startswith("5.2")
    assert app["versions"]["granian"].startswith("2.8")


def test_stop_stops_every_process_and_a_deploy_starts_them_again(deployer: Deployer) -> None:
    assert_succeeded(deployer.stop())
    for host in deployer.stack.hosts.values():
        proc = deployer.supervisorctl(host, "pid")
        assert proc.returncode != 0, f"supervisord still answers on {host.name}"
    status, _ = deployer.get("/health/")
    assert status == 0
    assert_succeeded(deployer.stop())  # stopping what is stopped is harmless
    assert_succeeded(deployer.deploy("wsgi"))
    assert deployer.health()["mode"] == "wsgi"
