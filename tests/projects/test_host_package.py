"""The harness's package for the host (abw_project), run here in a subprocess with the
controller's Django: generated settings, the entry wrappers, health, mode check, serve."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runner.projects import overlay
from tests.projects.sample import make_site

PROBE = str(Path(__file__).with_name("entry_probe.py"))


def unpack(tmp_path: Path, overrides: dict) -> tuple[Path, Path]:
    site = make_site(tmp_path / "src", static=True)
    harness = tmp_path / "harness"
    overlay.write_package(
        harness,
        {
            "PROJECT": {"name": "t", "commit": None},
            "SETTINGS": "mysite.settings",
            "WSGI": "mysite.wsgi:application",
            "ASGI": None,
            "OVERRIDES": overrides,
        },
    )
    return site / "site", harness


def run(workdir: Path, harness: Path, *args: str, mode: str = "wsgi") -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(harness),
        "BENCH_MODE": mode,
        "BENCH_INSTRUMENT": "1",
        "DJANGO_ALLOWED_HOSTS": "198.18.0.10",
        "ABW_STATIC_ROOT": str(workdir.parent / "static"),
        "BENCH_HOST": "198.18.0.10",
        "BENCH_WORKERS": "1",
    }
    done = subprocess.run(
        [sys.executable, *args], cwd=workdir, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]) if args[0] == PROBE else done.stdout


def test_both_entries_serve_the_project_with_health_and_counting(tmp_path: Path) -> None:
    workdir, harness = unpack(tmp_path, {"DEBUG": True})
    for mode in ("wsgi", "asgi"):
        out = run(workdir, harness, PROBE, mode, mode=mode)
        health = json.loads(out["/__bench__/health/"]["body"])
        assert health["mode"] == mode and health["target"] == "project"
        assert health["versions"]["django"] and health["versions"]["python"]
        assert out["/"]["status"] == "200" and "hello 3" in out["/"]["body"]
        assert "x-bench-hops" in out["/"]["headers"]
        assert out["allowed_hosts"] == ["198.18.0.10"] and out["debug"] is True


def test_the_other_mode_is_refused(tmp_path: Path) -> None:
    workdir, harness = unpack(tmp_path, {})
    out = run(workdir, harness, PROBE, "asgi", mode="wsgi")
    assert "BENCH_MODE='wsgi'" in out["refused"]


def test_check_and_serve_route_static_files_only_with_debug_off(tmp_path: Path) -> None:
    workdir, harness = unpack(tmp_path, {"DEBUG": False})
    report = json.loads(run(workdir, harness, "-m", "abw_project.check"))
    static_root = str(workdir.parent / "static")
    assert report["debug"] is False and report["static"] == [["/static", static_root]]
    argv = run(workdir, harness, "-m", "abw_project.serve", mode="asgi")
    assert f"--static-path-route /static --static-path-mount {static_root}" in argv
    assert argv.strip().endswith(f"--working-dir {workdir} abw_project.asgi:application")
    assert "--interface asginl" in argv
    workdir_on, harness_on = unpack(tmp_path / "on", {"DEBUG": True})
    assert json.loads(run(workdir_on, harness_on, "-m", "abw_project.check"))["static"] == []
