"""SSH to the inventory's hosts with Fabric: connections with keep-alive and timeouts,
the probe copied to each host, and commands whose output lands in files."""

from __future__ import annotations

import errno
import json
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
from fabric import Connection
from invoke.exceptions import CommandTimedOut, UnexpectedExit

from runner.inventory import Host
from runner.netsafety import check_lab_address

PROBE_SOURCE = Path(__file__).with_name("probe.py")
# The probe imports it from its own folder on the host.
RESOURCES_SOURCE = Path(__file__).with_name("host_resources.py")
KEEPALIVE_S = 5
CONNECT_TIMEOUT_S = 10
# A peer whose link went down never answers, and neither paramiko's keep-alive nor a
# blocked read notices that by itself (TCP retransmits for ~15 minutes). With
# TCP_USER_TIMEOUT the kernel drops the connection once data (the keep-alive) has gone
# unacknowledged this long, and the command waiting on it fails at once.
DEAD_PEER_S = 15


class RemoteError(Exception):
    """A host could not be reached, or a command on it failed or timed out."""


# Errors of the controller's own disk while it writes a fetched file.
LOCAL_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


class LocalWriteError(OSError):
    """A fetched file could not be written on the controller (its errno and path kept)."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__(exc.errno, exc.strerror or str(exc), str(path))


@dataclass
class Remote:
    """One host and its open Fabric connection."""

    host: Host
    conn: Connection

    @property
    def probe_path(self) -> str:
        """Where the probe lives on this host."""
        return f"{self.host.bench_root}/probe.py"

    def run(self, command: str, timeout: float = 60, warn: bool = False, label: str = "") -> Any:
        """Run a command; a timeout or a lost connection becomes a RemoteError whose
        message names the command by `label` (default: its first 80 characters)."""
        label = label or command[:80]
        try:
            return self.conn.run(command, hide=True, timeout=timeout, warn=warn, in_stream=False)
        except CommandTimedOut as exc:
            raise RemoteError(f"{self.host.name}: `{label}` timed out after {timeout}s") from exc
        except UnexpectedExit as exc:
            err = (exc.result.stderr or exc.result.stdout).strip().splitlines()
            raise RemoteError(
                f"{self.host.name}: `{label}` exited {exc.result.exited}: "
                f"{err[-1] if err else 'no output'}"
            ) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise RemoteError(
                f"{self.host.name} ({self.host.address}) is unreachable: {exc}"
            ) from exc
        finally:
            self._check_alive(label)

    def _check_alive(self, command: str) -> None:
        """A connection that died under a command ends it as if it exited -1 (paramiko
        closes the channel): say what happened instead."""
        transport = self.conn.transport
        if transport is not None and not transport.is_active():
            raise RemoteError(
                f"{self.host.name} ({self.host.address}) stopped answering: SSH connection "
                f"lost during `{command}` (no reply for {DEAD_PEER_S}s; is its link up?)"
            )

    def probe(self, *args: str, timeout: float = 60) -> dict[str, Any]:
        """Run the probe with args and return its JSON."""
        quoted = " ".join(shlex.quote(a) for a in args)
        result = self.run(f"python3 {shlex.quote(self.probe_path)} {quoted}", timeout=timeout)
        return json.loads(result.stdout)

    def get(self, remote_path: str, local_path: Path) -> None:
        """Bring one file back. A local folder that cannot take it (disk full, read-only)
        raises LocalWriteError: that is the controller's problem, not the host's."""
        try:
            local_path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(local_path, "wb")  # noqa: SIM115 -- closed below, its errors are local
        except OSError as exc:
            raise LocalWriteError(local_path, exc) from exc
        try:
            try:
                self.conn.get(remote_path, fh)
            finally:
                fh.close()
        except OSError as exc:
            if exc.errno in LOCAL_WRITE_ERRNOS:
                raise LocalWriteError(local_path, exc) from exc
            self._check_alive(f"get {remote_path}")
            raise RemoteError(f"{self.host.name}: could not fetch {remote_path}: {exc}") from exc
        except (EOFError, paramiko.SSHException) as exc:
            self._check_alive(f"get {remote_path}")
            raise RemoteError(f"{self.host.name}: could not fetch {remote_path}: {exc}") from exc

    def stop_and_get(
        self, pid: int, out: str, local_path: Path, wait_s: float, poll_s: float
    ) -> None:
        """Stop a background process of ours (TERM, then wait up to `wait_s` for it to
        end, polling on the host: one round trip), bring its output file `out` back and
        remove it (with its `.err`)."""
        self.run(stop_command(pid, wait_s, poll_s), warn=True, timeout=wait_s + 20)
        self.get(out, local_path)
        self.run(f"rm -f {shlex.quote(out)} {shlex.quote(out)}.err", warn=True, timeout=20)

    def signal_stop(self, pid: int) -> None:
        """Ask a background process of ours to stop (TERM) without waiting: it winds down
        while other work goes on; `stop_and_get` later finds it ended or waits for it."""
        self.run(f"kill -TERM {int(pid)} 2>/dev/null", warn=True, timeout=20)

    def close(self) -> None:
        """Close the connection (harmless if already closed)."""
        self.conn.close()


def stop_command(pid: int, wait_s: float, poll_s: float) -> str:
    """A shell command: TERM `pid`, then wait for it to end, at most `wait_s` in steps of
    `poll_s` (bounded in count as well as time); it prints how many steps it waited."""
    steps, pid = max(round(wait_s / poll_s), 1), int(pid)
    # A zombie has ended: its output is closed. Whoever adopted it (PID 1 of a container
    # may be a slow reaper) need not have collected it yet, and kill -0 still succeeds.
    return (
        f"kill -TERM {pid} 2>/dev/null; i=0; "
        f"while kill -0 {pid} 2>/dev/null && [ $i -lt {steps} ] && "
        f"! grep -qs '^State:[[:space:]]*[ZX]' /proc/{pid}/status; "
        f"do sleep {poll_s:g}; i=$((i+1)); done; echo $i"
    )


def connect(host: Host) -> Remote:
    """Open a connection to host with keep-alive, after checking the route is safe."""
    check_lab_address(host.address)
    connect_kwargs: dict[str, Any] = {"banner_timeout": CONNECT_TIMEOUT_S, "auth_timeout": 10}
    if host.key_file:
        connect_kwargs["key_filename"] = host.key_file
        connect_kwargs["look_for_keys"] = False
        connect_kwargs["allow_agent"] = host.allow_agent
    conn = Connection(
        host.address,
        user=host.user,
        connect_timeout=CONNECT_TIMEOUT_S,
        connect_kwargs=connect_kwargs,
    )
    if host.known_hosts_file:
        conn.client.load_host_keys(host.known_hosts_file)
        conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        conn.open()
    except (OSError, EOFError, paramiko.SSHException) as exc:
        raise RemoteError(
            f"{host.name} ({host.address}) is unreachable over SSH: {exc}; "
            "is the stack up (terraform apply) and the inventory current?"
        ) from exc
    conn.transport.set_keepalive(KEEPALIVE_S)
    _detect_dead_peer(conn.transport.sock)
    remote = Remote(host, conn)
    remote.run(f"mkdir -p {shlex.quote(host.bench_root)}", timeout=20)
    try:
        conn.put(str(PROBE_SOURCE), remote.probe_path)
        conn.put(str(RESOURCES_SOURCE), f"{host.bench_root}/host_resources.py")
    except (OSError, paramiko.SSHException) as exc:
        raise RemoteError(f"{host.name}: could not copy the probe: {exc}") from exc
    return remote


def _detect_dead_peer(sock: object) -> None:
    """Make the kernel drop the SSH connection after DEAD_PEER_S without any answer:
    TCP_USER_TIMEOUT while data is unacknowledged, TCP keep-alive probes while idle."""
    if not isinstance(sock, socket.socket):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    options = {
        "TCP_KEEPIDLE": KEEPALIVE_S,
        "TCP_KEEPINTVL": KEEPALIVE_S,
        "TCP_KEEPCNT": max(DEAD_PEER_S // KEEPALIVE_S, 1),
        "TCP_USER_TIMEOUT": DEAD_PEER_S * 1000,
    }
    for name, value in options.items():
        if hasattr(socket, name):  # Linux; other systems keep paramiko's keep-alive only
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
