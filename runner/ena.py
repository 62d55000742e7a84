"""The EC2 network's allowance counters (ENA driver, `ethtool -S`), read around each
repetition: a repetition during which any allowance was exceeded is invalid, because a
throttled network (packets per second, tracked connections, bandwidth) looks like a slow
server. Pure functions over the command's text, so recorded outputs test them.

The counters count packets queued or dropped since the interface came up; only their
growth between two readings matters. A host whose interface has no such counters (a local
veth, a driver other than ENA) yields an empty reading, which never invalidates anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.model import Sample

# The interface of the default route (EC2 names it ens5, eth0 or other), then its stats.
# `ip route show default` only reads the routing table: it sends nothing anywhere.
COMMAND = (
    "dev=$(ip -o route show default 2>/dev/null | awk '{for (i=1;i<NF;i++) "
    'if ($i=="dev") {print $(i+1); exit}}\'); '
    'echo "interface: ${dev:-none}"; '
    '[ -n "$dev" ] && command -v ethtool >/dev/null && ethtool -S "$dev" 2>/dev/null; true'
)

# What each exceeded counter means (AWS ENA documentation), for the invalid reason.
MEANING = {
    "bw_in_allowance_exceeded": "inbound bandwidth",
    "bw_out_allowance_exceeded": "outbound bandwidth",
    "pps_allowance_exceeded": "packets per second",
    "conntrack_allowance_exceeded": "tracked connections",
    "linklocal_allowance_exceeded": "link-local (DNS, IMDS, NTP) packets per second",
}
AVAILABLE = "conntrack_allowance_available"


@dataclass(frozen=True)
class Allowances:
    """One reading of one host: its interface, the exceeded counters, and how many more
    connections it may track (None where the driver does not say)."""

    interface: str
    exceeded: dict[str, int] = field(default_factory=dict)
    conntrack_available: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "interface": self.interface,
            "exceeded": dict(self.exceeded),
            "conntrack_available": self.conntrack_available,
        }


def parse_stats(text: str) -> dict[str, int]:
    """Every `name: integer` line of `ethtool -S` (other lines are skipped)."""
    stats: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition(":")
        if sep and value.strip().lstrip("-").isdigit():
            stats[name.strip()] = int(value.strip())
    return stats


def parse_reading(text: str) -> Allowances:
    """The output of COMMAND: the interface line, then `ethtool -S`."""
    interface = "none"
    for line in text.splitlines():
        if line.startswith("interface:"):
            interface = line.split(":", 1)[1].strip() or "none"
            break
    stats = parse_stats(text)
    return Allowances(
        interface=interface,
        exceeded={k: v for k, v in stats.items() if k.endswith("_allowance_exceeded")},
        conntrack_available=stats.get(AVAILABLE),
    )


def growth(before: Allowances, after: Allowances) -> dict[str, int]:
    """Counters that grew between two readings of one host, by how much. A counter that
    went down (the interface was reset) counts from zero."""
    grew: dict[str, int] = {}
    for name, value in after.exceeded.items():
        start = before.exceeded.get(name, 0)
        delta = value - start if value >= start else value
        if delta > 0:
            grew[name] = delta
    return grew


def reason(per_host: dict[str, dict[str, int]]) -> str:
    """The invalid reason for the counters that grew, per host; '' when none did."""
    parts = []
    for host, grew in sorted(per_host.items()):
        for name, delta in sorted(grew.items()):
            what = MEANING.get(name, name)
            parts.append(f"{host} {name} +{delta} ({what})")
    if not parts:
        return ""
    return "network allowance exceeded during the repetition: " + ", ".join(parts)


def judge(
    before: dict[str, Allowances], after: dict[str, Allowances]
) -> tuple[str, dict[str, Any]]:
    """The invalid reason ('' when none) and what to record for one repetition, given
    per-host readings before and after it."""
    per_host = {host: growth(before[host], after[host]) for host in after if host in before}
    record = {host: {**after[host].as_dict(), "grew": per_host.get(host, {})} for host in after}
    return reason(per_host), record


def note(sample: Sample, before: dict[str, Allowances], after: dict[str, Allowances]) -> None:
    """Record the hosts' counters around a repetition in the sample; any that grew make
    it invalid with the counters as the first reason. No readings (local hosts): nothing."""
    if not after:
        return
    why, record = judge(before, after)
    sample.extra["network_allowances"] = record
    if not why:
        return
    sample.reason = "; ".join(filter(None, [why, sample.reason]))
    if sample.status == "ok":
        sample.status = "invalid"
    sample.valid = False
