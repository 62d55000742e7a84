"""Fixtures for the app's tests: real Granian servers and the real upstream delay server.

Every process is started in its own session (process group) on 127.0.0.1 with a free
port, and stopped in the fixture's teardown, workers included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP_DIR = REPO / "app"
PYTHON = sys.executable
START_TIMEOUT_S = 60
UPSTREAM_DELAY_MS = 300


def free_port() -> int:
    """A TCP port nobody listens on right now on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """GET ``url``; return (status, body) for any HTTP status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class Process:
    """A process a fixture started, with its log file."""

    proc: subprocess.Popen
    log: Path
    base_url: str
    env: dict[str, str] = field(default_factory=dict)

    def log_text(self) -> str:
        """What the process wrote so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, path: str) -> None:
        """Poll ``path`` until it answers 200; fail with the log if the process dies."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if http_get(self.base_url + path, timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready after {START_TIMEOUT_S} s:\n{self.log_text()}")

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL it if it lingers."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        # Workers of a server killed hard may outlive their parent: clear the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def spawn(argv: list[str], env: dict[str, str], log: Path, base_url: str) -> Process:
    """Start ``argv`` in the app folder, in its own process group, logging to ``log``."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=APP_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(proc=proc, log=log, base_url=base_url, env=env)


def app_env(data_dir: Path, mode: str, upstream_url: str, **extra: str) -> dict[str, str]:
    """The environment of an app server: a fresh data folder and a test secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        BENCH_MODE=mode,
        BENCH_DATA_DIR=str(data_dir),
        BENCH_WORKERS="1",
        BENCH_UPSTREAM_URL=upstream_url,
        BENCH_UPSTREAM_DELAY_MS=str(UPSTREAM_DELAY_MS),
        DJANGO_SECRET_KEY="test-only-" + os.urandom(16).hex(),
    )
    env.update(extra)
    return env


def start_app(tmp: Path, mode: str, upstream_url: str, **extra: str) -> Process:
    """Migrate and serve the app through ``benchsite.serving --migrate --exec``."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = app_env(tmp / "data", mode, upstream_url, **extra)
    argv = [PYTHON, "-m", "benchsite.serving", "--host", "127.0.0.1", "--port", str(port)]
    server = spawn(
        [*argv, "--migrate", "--exec"], env, tmp / "granian.log", f"http://127.0.0.1:{port}"
    )
    try:
        server.wait_ready("/health/")
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """The io scenario's upstream delay server on 127.0.0.1."""
    port = free_port()
    log = tmp_path_factory.mktemp("upstream") / "upstream.log"
    argv = [PYTHON, str(APP_DIR / "upstream_server.py"), "--host", "127.0.0.1", "--port", str(port)]
    server = spawn(argv, dict(os.environ), log, f"http://127.0.0.1:{port}")
    try:
        server.wait_ready("/health")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def servers(
    tmp_path_factory: pytest.TempPathFactory, upstream: Process
) -> Iterator[dict[str, Process]]:
    """One Granian server per mode (1 worker each, SQLite in a fresh folder)."""
    started: dict[str, Process] = {}
    try:
        for mode in ("asgi", "wsgi"):
            started[mode] = start_app(tmp_path_factory.mktemp(mode), mode, upstream.base_url + "/")
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=["asgi", "wsgi"])
def server(request: pytest.FixtureRequest, servers: dict[str, Process]) -> Process:
    """Each mode's server in turn."""
    return servers[request.param]


def run_serving(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run ``python -m benchsite.serving`` to completion and capture its output."""
    return subprocess.run(
        [PYTHON, "-m", "benchsite.serving", *args],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
