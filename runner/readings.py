"""The hosts' readings around one repetition: each host read in one round trip, all
hosts at once, so the seconds between repetitions go to the measurement and not to SSH.

Before the load: the CPU of the app host and of each load generator. After it: the same,
with the app host's memory and its Granian processes in the same probe start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from runner.remote import Remote

GRANIAN = "procs:granian"


@dataclass(frozen=True)
class After:
    """What the hosts read right after the load."""

    app_cpu: dict[str, Any]
    loadgen_cpu: list[dict[str, Any]]
    memory: dict[str, Any]
    granian: dict[str, Any]


def _all(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call on its own thread (one SSH connection each); results in order, the
    first error raised."""
    with ThreadPoolExecutor(max_workers=max(len(calls), 1)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]


def before(app: Remote, loadgens: list[Remote]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The CPU readings of the app host and each load generator, read at once."""
    app_cpu, *lg_cpu = _all([lambda r=r: r.probe("cpu") for r in (app, *loadgens)])
    return app_cpu, lg_cpu


def after(app: Remote, loadgens: list[Remote], first: Callable[[], None] | None = None) -> After:
    """The readings after the load; `first` runs on the app host's thread before its
    probe (the watcher's stop signal, so its settle overlaps these reads)."""

    def app_side() -> dict[str, Any]:
        if first is not None:
            first()
        return app.probe("bundle", "cpu", "memory", GRANIAN)

    app_read, *lg_cpu = _all([app_side, *(lambda r=r: r.probe("cpu") for r in loadgens)])
    return After(app_read["cpu"], lg_cpu, app_read["memory"], app_read[GRANIAN])
