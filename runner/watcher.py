"""Start and stop ``app/tools/watch.py`` on the app host around one repetition.

The thin I/O side of ``runner/serverwatch.py``: the watcher runs detached on the app host
(so a dropped SSH connection does not stop it, and it stops by itself after its bound),
writes one JSON line per second there, and is pulled back with the repetition's raw
files. A watcher that fails never costs the sample: its error is stored instead.
"""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.remote import LocalWriteError, Remote, RemoteError
from runner.serverwatch import WatchFormatError, parse, summarize

STOP_WAIT_S = 10.0
MARGIN_S = 60.0
WATCH_FILE = "server-watch.jsonl"  # beside the repetition's raw files


@dataclass
class Watch:
    """A watcher running on the app host."""

    remote: Remote
    out: str
    pid: int


def watch_argv(
    root: str, out: str, health: dict[str, Any], address: str, bound_s: float
) -> list[str]:
    """The watcher's command line for what the deployed app uses, or [] when nothing to watch.

    PostgreSQL is watched when the app runs on it and the deploy's postgres role left its
    ``postgres.json`` (an external ``database_url`` is not on this host); Granian's
    exporter when the app's serving configuration has a metrics port.
    """
    argv = [f"{root}/venv/bin/python", f"{root}/app/tools/watch.py", "--out", out]
    watched = False
    if health.get("database") == "postgresql":
        argv += ["--pg-config", f"{root}/postgres.json"]
        watched = True
    port = (health.get("serving") or {}).get("metrics_port")
    if port:
        argv += ["--metrics-url", f"http://{address}:{port}/"]
        watched = True
    argv += ["--max-seconds", str(int(bound_s + MARGIN_S))]
    return argv if watched else []


def start(
    app: Remote, health: dict[str, Any], name: str, bound_s: float
) -> tuple[Watch | None, str | None]:
    """Start the watcher for one repetition: (watch, None), (None, None) when there is
    nothing to watch, or (None, error) when it could not start."""
    root = app.host.bench_root
    out = f"{root}/runs/watch-{name}.jsonl"
    argv = watch_argv(root, out, health, app.host.address, bound_s)
    if not argv:
        return None, None
    if health.get("database") == "postgresql":
        probe = app.run(f"test -f {shlex.quote(root)}/postgres.json", warn=True)
        if probe.exited != 0:  # PostgreSQL elsewhere (database_url): only Granian's side
            argv = [a for a in argv if a != "--pg-config" and not a.endswith("postgres.json")]
    command = (
        f"mkdir -p {shlex.quote(root)}/runs && rm -f {shlex.quote(out)} && "
        f"(setsid {shlex.join(argv)} >{shlex.quote(out)}.err 2>&1 </dev/null & echo $!)"
    )
    try:
        pid = int(app.run(command, timeout=30, label="start watch.py").stdout.split()[-1])
    except (RemoteError, ValueError, IndexError) as exc:
        return None, f"the server watcher did not start: {exc}"
    return Watch(app, out, pid), None


def signal_stop(watch: Watch | None) -> None:
    """Ask the watcher to stop without waiting: as soon as the load ends (its settle,
    Granian's workers report each second, then runs while the runner reads the hosts;
    `stop` waits for the rest), or for a repetition that failed (its bound would stop it
    anyway). Nothing when there is none or it was already stopped; a failure here is left
    to `stop` to report."""
    if watch is None or watch.pid == 0:
        return
    with contextlib.suppress(RemoteError):
        watch.remote.signal_stop(watch.pid)


def stop(watch: Watch, local: Path) -> dict[str, Any]:
    """Stop the watcher, bring its lines back to ``local`` and summarize them.

    Returns the summary as stored in a sample's ``extra.server`` (with
    ``invalid_reason``), or ``{"error": ...}`` when the watcher's account is missing.
    """
    remote, pid = watch.remote, watch.pid
    watch.pid = 0  # stopped: signal_stop() leaves it alone (the pid may be reused)
    try:
        remote.stop_and_get(pid, watch.out, local, STOP_WAIT_S, poll_s=0.3)
    except LocalWriteError:
        raise
    except RemoteError as exc:
        return {"error": f"the server watcher's account is missing: {exc}"}
    try:
        return summarize(parse(local.read_text(encoding="utf-8"))).as_dict()
    except (OSError, WatchFormatError) as exc:
        return {"error": f"the server watcher's account is unreadable: {exc}"}
