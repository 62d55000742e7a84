"""What the app host's server side did during one repetition, from ``app/tools/watch.py``.

Pure functions over the watcher's JSON lines (one per second, recorded on the app host
and pulled back with the raw files), so they are tested on recorded outputs:

- PostgreSQL's connections from ``pg_stat_activity``: peak and mean of the client
  backends, in total and by state (``active``, ``idle``, ``idle in transaction``...);
- connections PostgreSQL refused (its log's "sorry, too many clients already" and
  "remaining connection slots are reserved ..."): a refused connection never appears in
  ``pg_stat_activity``, so it is counted apart, and any refusal makes the repetition
  invalid with that reason;
- PostgreSQL's CPU seconds during the repetition (apart from Granian's);
- Granian's exporter: the counters' differences from the first to the final reading
  (GIL wait per request...) and its gauges sampled every second (``blocking_queue``,
  ``connections_active``), see ``runner/granian_metrics.py``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from runner.granian_metrics import GaugeSummary, compare, summarize_gauge

GRANIAN_GAUGES = ("blocking_queue", "connections_active", "blocking_threads")


class WatchFormatError(ValueError):
    """The text is not the watcher's output."""


@dataclasses.dataclass(frozen=True)
class WatchSummary:
    """One repetition's server-side account (stored in a sample's ``extra.server``)."""

    samples: int
    settings: dict[str, Any]
    connections: dict[str, Any] | None
    refused_too_many_clients: int
    refused_reserved_slots: int
    postgres_cpu_s: float | None
    granian: dict[str, Any] | None
    gauges: dict[str, GaugeSummary]

    @property
    def invalid_reason(self) -> str | None:
        """Why the repetition cannot count, from the server side; None when nothing."""
        refused = self.refused_too_many_clients + self.refused_reserved_slots
        if refused > 0:
            limit = self.settings.get("max_connections", "?")
            reserved = self.settings.get("superuser_reserved_connections", "?")
            return (
                f"PostgreSQL refused {refused} connections: too many clients "
                f"(max_connections={limit}, {reserved} reserved for superusers)"
            )
        if self.granian and self.granian.get("error"):
            return str(self.granian["error"])
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, with the reason when there is one."""
        data = dataclasses.asdict(self)
        data["invalid_reason"] = self.invalid_reason
        return data


def parse(text: str) -> list[dict[str, Any]]:
    """The watcher's lines; a half-written last line (the watcher was killed) is left out."""
    records: list[dict[str, Any]] = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise WatchFormatError(f"line {number} is not JSON: {line[:80]!r}") from None
        if not isinstance(record, dict):
            raise WatchFormatError(f"line {number} is not a JSON object")
        records.append(record)
    return records


def _peak_mean(values: list[float]) -> dict[str, float | None]:
    summary = summarize_gauge(values)
    return {"peak": summary.peak, "mean": summary.mean}


def connections(readings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Peak and mean of PostgreSQL's client backends, in total and per state."""
    with_pg = [r for r in readings if isinstance(r.get("pg"), dict)]
    if not with_pg:
        return None
    states = sorted({state for r in with_pg for state in r["pg"]})
    return {
        "samples": len(with_pg),
        "total": _peak_mean([float(sum(r["pg"].values())) for r in with_pg]),
        "by_state": {s: _peak_mean([float(r["pg"].get(s, 0)) for r in with_pg]) for s in states},
    }


def summarize(records: Iterable[dict[str, Any]]) -> WatchSummary:
    """The repetition's account from the watcher's records (settings line first)."""
    records = list(records)
    settings = next((r for r in records if r.get("kind") == "settings"), {})
    readings = [r for r in records if r.get("kind") != "settings"]
    if not readings:
        raise WatchFormatError("the watcher wrote no reading")
    first, last = readings[0], readings[-1]
    # The watcher counts refusals from its own start, which comes before the load.
    refused = int(last.get("too_many_clients") or 0)
    reserved = int(last.get("reserved_slots") or 0)
    cpu = None
    if first.get("pg_cpu_s") is not None and last.get("pg_cpu_s") is not None:
        cpu = round(float(last["pg_cpu_s"]) - float(first["pg_cpu_s"]), 3)
    granian_readings = [r["granian"] for r in readings if isinstance(r.get("granian"), dict)]
    granian = None
    gauges: dict[str, GaugeSummary] = {}
    if granian_readings:
        granian = compare(granian_readings[0], granian_readings[-1]).as_dict()
        gauges = {
            name: summarize_gauge(float(g[name]) for g in granian_readings if name in g)
            for name in GRANIAN_GAUGES
        }
    return WatchSummary(
        samples=len(readings),
        settings={k: v for k, v in settings.items() if k != "kind"},
        connections=connections(readings),
        refused_too_many_clients=refused,
        refused_reserved_slots=reserved,
        postgres_cpu_s=cpu,
        granian=granian,
        gauges=gauges,
    )


# Reason codes kept beside the text in a sample's extra["reason_codes"] (runner/judge.py).
PG_REFUSED = "pg_refused"
WORKER_RESTART = "worker_restart"


def note_server(sample: Any, server: dict[str, Any]) -> None:
    """Store a repetition's server-side account in ``sample.extra["server"]`` and mark
    the sample invalid with its reason (refused connections, a restarted worker).

    A failed or aborted sample keeps its status; an invalid one gets the reason added.
    """
    sample.extra["server"] = server
    reason = server.get("invalid_reason")
    if not reason or sample.status not in ("ok", "invalid"):
        return
    code = PG_REFUSED if str(reason).startswith("PostgreSQL refused") else WORKER_RESTART
    codes = sample.extra.setdefault("reason_codes", [])
    if code not in codes:
        codes.append(code)
    sample.reason = f"{sample.reason}; {reason}" if sample.reason else str(reason)
    sample.status = "invalid"
    sample.valid = False
