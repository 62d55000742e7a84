"""Hosts from the Ansible inventory, read through `ansible-inventory --list` (its JSON is
the stable interface; Ansible's Python internals are not)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class InventoryError(Exception):
    """The inventory is missing, unreadable or lacks what the runner needs."""


@dataclass(frozen=True)
class Host:
    """One host of the inventory contract (see inventory/README.md)."""

    name: str
    address: str
    user: str
    key_file: str | None
    private_address: str
    bench_root: str
    machine_class: dict[str, Any] = field(default_factory=dict)
    app_port: int | None = None
    known_hosts_file: str | None = None
    cloud: str = ""  # "aws" for EC2 hosts (inventory bench_cloud): IMDS and ENA are read
    allow_agent: bool = False  # inventory bench_ssh_agent: a passphrase key in the agent

    def describe(self) -> dict[str, Any]:
        """What the results record about this host's identity."""
        return {
            "name": self.name,
            "address": self.address,
            "private_address": self.private_address,
            "machine_class": self.machine_class,
        }


@dataclass(frozen=True)
class Inventory:
    """The app host and the load-generator hosts of one stack."""

    path: str
    app: Host
    loadgens: tuple[Host, ...]

    @property
    def hosts(self) -> tuple[Host, ...]:
        """Every host, the app host first."""
        return (self.app, *self.loadgens)

    def app_url(self, path: str) -> str:
        """The URL of `path` on the app host, as the load generators reach it."""
        return f"http://{self.app.private_address}:{self.app.app_port}{path}"


REQUIRED_VARS = ("ansible_host", "private_address", "bench_root")


def _known_hosts_from(common_args: str | None) -> str | None:
    """The UserKnownHostsFile an inventory pins through ansible_ssh_common_args, if any."""
    if not common_args:
        return None
    words = shlex.split(common_args)
    for i, word in enumerate(words):
        option = word[2:] if word.startswith("-o") and len(word) > 2 else None
        if word == "-o" and i + 1 < len(words):
            option = words[i + 1]
        if option and option.lower().startswith("userknownhostsfile="):
            return option.split("=", 1)[1]
    return None


def host_from_vars(name: str, hostvars: dict[str, Any]) -> Host:
    """Build a Host from one host's variables, refusing a host that breaks the contract."""
    missing = [var for var in REQUIRED_VARS if not hostvars.get(var)]
    if missing:
        raise InventoryError(
            f"host {name} lacks {', '.join(missing)}: see inventory/README.md for the contract"
        )
    port = hostvars.get("app_port")
    return Host(
        name=name,
        address=str(hostvars["ansible_host"]),
        user=str(hostvars.get("ansible_user", "root")),
        key_file=hostvars.get("ansible_ssh_private_key_file"),
        private_address=str(hostvars["private_address"]),
        bench_root=str(hostvars["bench_root"]),
        machine_class=dict(hostvars.get("machine_class") or {}),
        app_port=int(port) if port is not None else None,
        known_hosts_file=_known_hosts_from(hostvars.get("ansible_ssh_common_args")),
        cloud=str(hostvars.get("bench_cloud") or ""),
        allow_agent=str(hostvars.get("bench_ssh_agent", "")).lower() in ("true", "1", "yes"),
    )


def untag(value: Any) -> Any:
    """Unwrap ansible-core 2.19's {"__ansible_unsafe": v}, which plugin-sourced values
    (dynamic inventories) carry in `ansible-inventory --list` output."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untag(v) for v in value]
    return value


def parse_inventory_json(data: dict[str, Any], path: str) -> Inventory:
    """Turn `ansible-inventory --list` output into an Inventory with one app host."""
    data = untag(data)
    hostvars = data.get("_meta", {}).get("hostvars", {})
    app_names = data.get("app", {}).get("hosts", [])
    loadgen_names = data.get("loadgen", {}).get("hosts", [])
    if not app_names:
        raise InventoryError(f"inventory {path} has no host in group 'app': run terraform apply")
    if not loadgen_names:
        raise InventoryError(
            f"inventory {path} has no host in group 'loadgen': run terraform apply"
        )
    if len(app_names) > 1:
        raise InventoryError(
            f"inventory {path} has {len(app_names)} app hosts; the runner takes one"
        )
    app = host_from_vars(app_names[0], hostvars.get(app_names[0], {}))
    if app.app_port is None:
        app = Host(**{**app.__dict__, "app_port": 8000})
    loadgens = tuple(host_from_vars(n, hostvars.get(n, {})) for n in loadgen_names)
    return Inventory(path=path, app=app, loadgens=loadgens)


def _ansible_inventory_binary() -> str:
    """The venv's ansible-inventory when running from it, else the one on PATH."""
    beside = Path(sys.executable).with_name("ansible-inventory")
    return str(beside) if beside.exists() else "ansible-inventory"


def load_inventory(path: str | Path, ansible_inventory: str | None = None) -> Inventory:
    """Read an inventory file through `ansible-inventory --list`."""
    path = str(path)
    ansible_inventory = ansible_inventory or _ansible_inventory_binary()
    if not Path(path).exists():
        raise InventoryError(
            f"inventory {path} does not exist: run `terraform -chdir=infra/local apply` "
            "(or pass --inventory)"
        )
    if Path(path).is_file() and Path(path).stat().st_size == 0:
        raise InventoryError(f"inventory {path} is empty: run terraform apply again")
    try:
        proc = subprocess.run(
            [ansible_inventory, "-i", path, "--list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InventoryError(f"{ansible_inventory} not found: run `make setup`") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InventoryError(f"ansible-inventory could not read {path}: {last}")
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise InventoryError(f"ansible-inventory gave no JSON for {path}: {exc}") from exc
    return parse_inventory_json(data, path)
