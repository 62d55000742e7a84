"""The project as a Target: its URLs, its health path, 2xx pages and length checks."""

from __future__ import annotations

from typing import Any

import pytest

from runner.targets.base import Endpoint, TargetError
from runner.targets.project import (
    ProjectTarget,
    check_lengths,
    header,
    report_lines,
    warm_and_measure,
)

RECORD: dict[str, Any] = {
    "name": "mysite",
    "urls": {"home": "/", "api": "/api/"},
    "commit": "abc123",
    "source": {"origin": "/src/mysite", "dirty": False},
    "settings_overrides": {"DEBUG": False},
    "debug_override": False,
    "python": "3.12",
    "django": "5.2.19",
}


def target() -> ProjectTarget:
    return ProjectTarget(RECORD, "bench.toml")


def health(**extra: Any) -> dict[str, Any]:
    body = {"mode": "wsgi", "target": "project", "project": {"name": "mysite"}, **extra}
    return {"status": 200, "json": body}


def test_scenarios_are_the_url_names_and_the_deploy_gets_the_file() -> None:
    t = target()
    assert t.scenarios == ("home", "api")
    assert t.endpoint("api", "original", "asgi") == Endpoint("api", "/api/")
    assert t.deploy_vars("asgi", {"workers": 2}) == {
        "mode": "asgi",
        "workers": 2,
        "project": "bench.toml",
    }
    with pytest.raises(TargetError, match="no URL named 'blog'"):
        t.endpoint("blog", "original", "asgi")


def test_health_must_be_this_project_in_a_known_mode() -> None:
    assert target().check_health(health()).mode == "wsgi"
    with pytest.raises(TargetError, match="not 'mysite'"):
        target().check_health(health(project={"name": "other"}))
    with pytest.raises(TargetError, match="not the harness's project"):
        target().check_health({"status": 200, "json": {"mode": "asgi", "users": 1000}})
    with pytest.raises(TargetError, match="deploy it first"):
        target().check_health({"error": "connection refused"})


def test_any_2xx_passes_and_an_error_page_shows_its_first_lines() -> None:
    t = target()
    ep = t.endpoint("home", "original", "asgi")
    assert t.check_page(ep, {"status": 203, "length": 10}, set()) == 10
    page = "<html><h1>Server Error (500)</h1>\n<p>ZeroDivisionError at /</p></html>"
    with pytest.raises(TargetError) as error:
        t.check_page(ep, {"status": 500, "length": len(page), "body": page}, set())
    assert "answered 500, not 2xx" in str(error.value)
    assert "ZeroDivisionError at /" in str(error.value)


def test_lengths_within_tolerance_pass_and_others_are_named() -> None:
    assert check_lengths({"home": {"asgi": [5000, 5010], "wsgi": [5005]}}) == []
    notes = check_lengths({"home": {"asgi": [5000, 9000], "wsgi": [5000]}})
    assert notes == ["home: asgi lengths vary from 5000 to 9000 bytes"]
    notes = check_lengths({"api": {"asgi": [100_000], "wsgi": [120_000]}})
    assert notes == ["api: the modes answer different sizes (asgi 100000, wsgi 120000 bytes)"]


def test_every_url_is_warmed_and_its_lengths_recorded() -> None:
    calls: list[str] = []

    def get(path: str) -> dict[str, Any]:
        calls.append(path)
        return {"status": 200, "length": 42}

    assert warm_and_measure(target(), get, count=3) == {"home": [42] * 3, "api": [42] * 3}
    assert calls == ["/"] * 3 + ["/api/"] * 3


def test_the_header_names_the_project_and_warns_about_debug() -> None:
    lines = header(RECORD, {"versions": {"django": "5.2.19", "python": "3.12.1"}, "debug": False})
    text = "\n".join(lines)
    assert "mysite" in text and "abc123" in text and "3.12.1" in text and "DEBUG" in text
    assert "Warning" not in text
    assert "Warning" in "\n".join(header(RECORD, {"debug": True}))


def test_the_report_header_compares_page_sizes_across_modes() -> None:
    def mode(lengths: list[int], debug: bool) -> dict[str, Any]:
        health = {"versions": {"django": "5.1.2", "python": "3.11.7"}, "debug": debug}
        return {"project": RECORD, "project_health": health, "page_lengths": {"home": lengths}}

    meta = {"modes": {"asgi": mode([5000, 5000], True), "wsgi": mode([9000], True)}}
    text = "\n".join(report_lines(meta))
    assert "## Project" in text and "abc123" in text and "5.1.2" in text
    assert "home /: asgi 5000 bytes, wsgi 9000 bytes" in text
    assert "the modes answer different sizes" in text and "DEBUG on" in text
    assert report_lines({"modes": {"asgi": {"target": "builtin"}}}) == []
