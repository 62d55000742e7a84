"""SSH to the inventory's hosts with Fabric: connections with keep-alive and timeouts,
the probe copied to each host, and commands whose output lands in files."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
from fabric import Connection
from invoke.exceptions import CommandTimedOut, UnexpectedExit

from runner.inventory import Host
from runner.netsafety import check_lab_address

PROBE_SOURCE = Path(__file__).with_name("probe.py")
KEEPALIVE_S = 5
CONNECT_TIMEOUT_S = 10


class RemoteError(Exception):
    """A host could not be reached, or a command on it failed or timed out."""


@dataclass
class Remote:
    """One host and its open Fabric connection."""

    host: Host
    conn: Connection

    @property
    def probe_path(self) -> str:
        """Where the probe lives on this host."""
        return f"{self.host.bench_root}/probe.py"

    def run(self, command: str, timeout: float = 60, warn: bool = False) -> Any:
        """Run a command; a timeout or a lost connection becomes a RemoteError."""
        try:
            return self.conn.run(command, hide=True, timeout=timeout, warn=warn, in_stream=False)
        except CommandTimedOut as exc:
            raise RemoteError(
                f"{self.host.name}: `{command[:80]}` timed out after {timeout}s"
            ) from exc
        except UnexpectedExit as exc:
            err = (exc.result.stderr or exc.result.stdout).strip().splitlines()
            raise RemoteError(
                f"{self.host.name}: `{command[:80]}` exited {exc.result.exited}: "
                f"{err[-1] if err else 'no output'}"
            ) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise RemoteError(
                f"{self.host.name} ({self.host.address}) is unreachable: {exc}"
            ) from exc

    def probe(self, *args: str, timeout: float = 60) -> dict[str, Any]:
        """Run the probe with args and return its JSON."""
        quoted = " ".join(shlex.quote(a) for a in args)
        result = self.run(f"python3 {shlex.quote(self.probe_path)} {quoted}", timeout=timeout)
        return json.loads(result.stdout)

    def get(self, remote_path: str, local_path: Path) -> None:
        """Bring one file back."""
        local_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn.get(remote_path, str(local_path))
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise RemoteError(f"{self.host.name}: could not fetch {remote_path}: {exc}") from exc

    def close(self) -> None:
        """Close the connection (harmless if already closed)."""
        self.conn.close()


def connect(host: Host) -> Remote:
    """Open a connection to host with keep-alive, after checking the route is safe."""
    check_lab_address(host.address)
    connect_kwargs: dict[str, Any] = {"banner_timeout": CONNECT_TIMEOUT_S, "auth_timeout": 10}
    if host.key_file:
        connect_kwargs["key_filename"] = host.key_file
        connect_kwargs["look_for_keys"] = False
        connect_kwargs["allow_agent"] = False
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
    remote = Remote(host, conn)
    remote.run(f"mkdir -p {shlex.quote(host.bench_root)}", timeout=20)
    try:
        conn.put(str(PROBE_SOURCE), remote.probe_path)
    except (OSError, paramiko.SSHException) as exc:
        raise RemoteError(f"{host.name}: could not copy the probe: {exc}") from exc
    return remote
