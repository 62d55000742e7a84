"""Switch the serving mode of a side-by-side deploy, and prove which mode answers.

`ansible-playbook playbooks/deploy.yml -e mode=asgi -e side_by_side=true` runs both
modes' Granian programs on the app host (asgi on `app_port`, wsgi on the next port) and
installs `bench_root/bench-mode`, which pauses one mode's process group (SIGSTOP: no CPU,
its caches stay warm) and resumes the other's (SIGCONT). A switch is that one SSH command
and a health check from a load generator: about a second, where a redeploy took 14-32 s,
so a comparison can alternate the modes within a level.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from runner.remote import RemoteError

MODES = ("asgi", "wsgi")
# Side by side, each mode listens on app_port + its offset (roles/app defaults).
PORT_OFFSET = {"asgi": 0, "wsgi": 1}
SWITCH_TIMEOUT_S = 10.0
POLL_S = 0.05


class ModeSwitchError(Exception):
    """The switch failed, or the mode asked for did not answer in time."""


class Runs(Protocol):
    """What the switch needs of a host connection (runner.remote.Remote has it)."""

    @property
    def host(self) -> Any: ...

    def run(
        self, command: str, timeout: float = 60, warn: bool = False, label: str = ""
    ) -> Any: ...

    def probe(self, *args: str, timeout: float = 60) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Switched:
    """One switch: the mode now answering, its port, the paused mode, and the seconds
    from the command to the first health answer in the new mode."""

    mode: str
    port: int
    paused: str
    seconds: float
    health: dict[str, Any]


def mode_port(mode: str, app_port: int) -> int:
    """The port a mode listens on in a side-by-side deploy."""
    if mode not in PORT_OFFSET:
        raise ValueError(f"mode must be one of: {', '.join(MODES)} (got {mode!r})")
    return app_port + PORT_OFFSET[mode]


def switch_mode(
    app: Runs,
    checker: Runs,
    mode: str,
    *,
    timeout_s: float = SWITCH_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
) -> Switched:
    """Serve `mode` on the app host and pause the other mode; return once a health
    check from `checker` (a load generator, whose probe is installed) says `mode`."""
    started = clock()
    script = f"{app.host.bench_root}/bench-mode"
    result = app.run(f"{shlex.quote(script)} {shlex.quote(mode)}", timeout=timeout_s, warn=True)
    if result.exited != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise ModeSwitchError(
            f"{app.host.name}: bench-mode {mode} failed: {said[-1] if said else 'no output'}"
            " (deploy with -e side_by_side=true first)"
        )
    switched = json.loads(result.stdout)
    url = f"http://{app.host.private_address}:{switched['port']}/health/"
    answer: dict[str, Any] = {}
    while True:
        left = timeout_s - (clock() - started)
        if left <= 0:
            break
        try:
            answer = checker.probe("http", url, timeout=max(left, 1.0))
        except RemoteError as exc:
            raise ModeSwitchError(f"health check of {url} after the switch failed: {exc}") from exc
        if answer.get("status") == 200 and (answer.get("json") or {}).get("mode") == mode:
            return Switched(
                mode, int(switched["port"]), switched["paused"], clock() - started, answer["json"]
            )
        time.sleep(POLL_S)
    got = answer.get("error") or (answer.get("json") or {}).get("mode") or answer.get("status")
    raise ModeSwitchError(
        f"after bench-mode {mode}, {url} did not answer in mode {mode} within "
        f"{timeout_s:g}s (last answer: {got})"
    )


def resume_all(app: Runs, timeout_s: float = SWITCH_TIMEOUT_S) -> None:
    """Continue every paused Granian program (before anything stops them)."""
    script = f"{app.host.bench_root}/bench-mode"
    app.run(f"test ! -x {shlex.quote(script)} || {shlex.quote(script)} resume", timeout=timeout_s)
