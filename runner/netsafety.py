"""Guard before traffic: an address in the benchmark lab range must belong to a network
namespace on this machine and be routed through a bridge, never the default route."""

from __future__ import annotations

import ipaddress
import json
import subprocess

from runner.host_resources import LAB_RANGE


class UnsafeTargetError(Exception):
    """Traffic to this address could leave the machine: refuse it."""


def _ip_json(*args: str) -> list[dict]:
    proc = subprocess.run(
        ["ip", "-j", *args], capture_output=True, text=True, timeout=10, check=False
    )
    if proc.returncode != 0:
        raise UnsafeTargetError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout or "[]")


def namespace_holding(address: str) -> str | None:
    """The name of the network namespace that has `address` on one of its links."""
    for ns in _ip_json("netns", "list"):
        name = ns["name"]
        try:
            links = _ip_json("-n", name, "addr", "show")
        except UnsafeTargetError:
            continue  # a namespace removed since the listing (another stack's teardown)
        for link in links:
            if any(a.get("local") == address for a in link.get("addr_info", [])):
                return name
    return None


def check_lab_address(address: str) -> None:
    """Refuse traffic to a lab address unless its namespace and bridge route exist.

    Addresses outside 198.18.0.0/15 are not local hosts (a cloud stack's, or loopback)
    and are left to the inventory's owner.
    """
    ip = ipaddress.ip_address(address)
    if ip not in LAB_RANGE:
        return
    if namespace_holding(address) is None:
        raise UnsafeTargetError(
            f"no network namespace on this machine holds {address}: the local hosts are "
            "down; run `terraform -chdir=infra/local apply` (or `make bench`)"
        )
    routes = _ip_json("route", "get", address)
    route = routes[0] if routes else {}
    if route.get("gateway") or not route.get("dev"):
        raise UnsafeTargetError(
            f"route to {address} goes via {route.get('gateway') or 'nothing'}, not a local "
            "bridge: refusing to send traffic that could leave this machine"
        )
    links = _ip_json("-d", "link", "show", "dev", route["dev"])
    kind = (links[0].get("linkinfo") or {}).get("info_kind") if links else None
    if kind != "bridge":
        raise UnsafeTargetError(
            f"route to {address} leaves through {route['dev']} ({kind or 'not a bridge'}): "
            "refusing; the local hosts' bridge is missing"
        )
