"""Every route of the app, served by real Granian processes in both modes."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.app.conftest import APP_DIR, UPSTREAM_DELAY_MS, Process, http_get

USERS_ROUTES = ["/users/sync/", "/users/async/", "/users/async-wrapped/", "/sync/", "/async/"]
EXPECTED_ROUTES = {
    "/users/sync/",
    "/users/async/",
    "/users/async-wrapped/",
    "/io/sync/",
    "/io/async/",
    "/plain/sync/",
    "/plain/async/",
    "/sync/",
    "/async/",
    "/health/",
}


def _health(server: Process) -> dict:
    status, body = http_get(server.base_url + "/health/")
    assert status == 200
    return json.loads(body)


def test_health_reports_mode_data_routes_and_versions(server: Process) -> None:
    health = _health(server)
    assert health["mode"] == server.env["BENCH_MODE"]
    assert health["users"] == 1000
    assert set(health["routes"]) == EXPECTED_ROUTES
    assert set(health["versions"]) == {"python", "django", "granian", "asgiref"}
    assert health["versions"]["django"].startswith("5.2")
    assert health["versions"]["granian"].startswith("2.8")
    assert health["debug"] is False
    assert health["database"] == "sqlite"
    assert health["middleware"] == "stock"
    assert health["serving"]["mode"] == server.env["BENCH_MODE"]
    assert health["serving"]["workers"] == 1
    assert health["upstream"]["delay_ms"] == UPSTREAM_DELAY_MS
    assert health["upstream"]["client"] == "stdlib"


def test_every_listed_route_answers_200(server: Process) -> None:
    for route in _health(server)["routes"]:
        status, body = http_get(server.base_url + route)
        assert status == 200, (route, body[:300])


def test_users_page_has_a_header_and_1000_rows_of_six_fields(server: Process) -> None:
    status, body = http_get(server.base_url + "/users/sync/")
    assert status == 200
    page = body.decode()
    users = json.loads((APP_DIR / "bench" / "data" / "users.json").read_text())
    assert page.count("<tr>") == 1 + 1000
    assert page.count("<th>") == 6
    assert page.count("<td>") == 6 * 1000
    for user in (users[0], users[499], users[-1]):
        assert f"<td>{user['username']}</td>" in page
        assert f"<td>{user['email']}</td>" in page
    assert "password" not in page and "pbkdf2" not in page


def test_users_views_return_the_same_html(server: Process) -> None:
    bodies = {route: http_get(server.base_url + route)[1] for route in USERS_ROUTES}
    reference = bodies["/users/sync/"]
    assert len(reference) > 400_000
    for route, body in bodies.items():
        assert body == reference, f"{route} differs from /users/sync/"


def test_both_modes_serve_the_same_bytes(servers: dict[str, Process]) -> None:
    for route in ("/users/sync/", "/plain/async/", "/io/async/"):
        asgi = http_get(servers["asgi"].base_url + route)[1]
        wsgi = http_get(servers["wsgi"].base_url + route)[1]
        assert asgi == wsgi, route


def test_plain_and_io_views_agree_between_sync_and_async(server: Process) -> None:
    for scenario in ("plain", "io"):
        sync = http_get(f"{server.base_url}/{scenario}/sync/")
        native = http_get(f"{server.base_url}/{scenario}/async/")
        assert sync == native, scenario
        assert sync[0] == 200


def _upstream_stats(upstream: Process) -> dict:
    return json.loads(http_get(upstream.base_url + "/stats")[1])


@pytest.mark.parametrize("view", ["sync", "async"])
def test_io_really_waits_on_the_upstream(server: Process, upstream: Process, view: str) -> None:
    before = _upstream_stats(upstream)["delayed"]
    started = time.monotonic()
    status, body = http_get(f"{server.base_url}/io/{view}/")
    elapsed_ms = (time.monotonic() - started) * 1000
    assert status == 200
    assert b"upstream ok" in body
    assert re.search(rb"after %d ms" % UPSTREAM_DELAY_MS, body)
    assert _upstream_stats(upstream)["delayed"] == before + 1
    # Correctness, not speed: the reply cannot come before the upstream's delay.
    assert elapsed_ms >= UPSTREAM_DELAY_MS


def test_unknown_route_is_404(server: Process) -> None:
    assert http_get(server.base_url + "/nope/")[0] == 404
