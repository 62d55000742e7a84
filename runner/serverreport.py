"""The report's "server's account" section: PostgreSQL's connections and Granian's own
metrics beside throughput, per mode and level, from the timed samples' ``extra.server``
(written by ``runner/watcher.py``; see ``runner/serverwatch.py`` for the figures).

Pure: samples in, markdown lines out. Invalid samples count here too (a configuration
that exhausts ``max_connections`` is invalid, and its refusals are what this shows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from statistics import fmean
from typing import Any

HEADER = [
    "scenario",
    "view",
    "mode",
    "c",
    "config",
    "req/s (valid)",
    "failed + non-2xx",
    "PG conns peak",
    "PG conns mean",
    "by state (peak)",
    "refused",
    "PG CPU ms/req",
    "GIL wait ms/req",
    "blocking busy ms/req",
    "blocking queue peak",
]

EXPLAIN = (
    "Sampled on the app host every second during each timed repetition "
    "(`app/tools/watch.py`): PostgreSQL's client backends of the app's database in "
    "`pg_stat_activity` (peak over the repetitions, mean of the per-second counts), the "
    'connections it refused (its log\'s "too many clients" and reserved-slot refusals), '
    "its CPU per request; and Granian's exporter (1 s scrape): GIL wait per request "
    "(Δ`granian_py_wait_cumulative` µs / Δ`granian_requests_handled`), the blocking pool's "
    "busy time per request, and the blocking queue's depth. What they cannot see: Granian "
    "measures the GIL wait only in its own blocking threads, which run the app under WSGI "
    "but only hand work to the event loop under ASGI; asgiref's `sync_to_async` threads "
    "(sync views and the stock middleware under ASGI) wait for the GIL unseen, so ASGI's "
    "figure is a lower bound. Neither sees the event loop's own scheduling delay."
)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return fmean(kept) if kept else None


def _peak(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return max(kept) if kept else None


def _config(serving: dict[str, Any], server: dict[str, Any]) -> str:
    """What bounds the connections: blocking threads, pool or CONN_MAX_AGE, max_connections."""
    parts = []
    if serving.get("blocking_threads"):
        parts.append(f"{serving['blocking_threads']} threads")
    conns = server.get("app_connections") or {}
    if conns:
        pool = conns.get("pool")
        parts.append(f"pool {pool.get('max_size')}" if pool else "no pool")
        parts.append(f"CONN_MAX_AGE {conns.get('conn_max_age', 0)}")
    limit = (server.get("settings") or {}).get("max_connections")
    if limit:
        parts.append(f"max_connections {limit}")
    return ", ".join(parts) or "default"


def rows(samples: Iterable[Any]) -> list[list[str]]:
    """One row per (scenario, view, mode, concurrency, configuration) with a watcher account."""
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for s in samples:
        server = (s.extra or {}).get("server")
        if getattr(s, "kind", "timed") != "timed" or not isinstance(server, dict):
            continue
        if server.get("error"):
            continue
        config = _config(s.serving or {}, server)
        groups[(s.scenario, s.view, s.mode, s.concurrency, config)].append(s)
    out = []
    for (scenario, view, mode, c, config), group in sorted(groups.items()):
        servers = [s.extra["server"] for s in group]
        conns = [sv.get("connections") or {} for sv in servers]
        states: dict[str, float] = {}
        for cn in conns:
            for state, figures in (cn.get("by_state") or {}).items():
                states[state] = max(states.get(state, 0.0), figures.get("peak") or 0.0)
        granian = [sv.get("granian") or {} for sv in servers]
        requests = [s.completed or None for s in group]
        pg_cpu = [
            sv["postgres_cpu_s"] * 1000 / n if sv.get("postgres_cpu_s") is not None and n else None
            for sv, n in zip(servers, requests, strict=True)
        ]
        queue = [
            ((sv.get("gauges") or {}).get("blocking_queue") or {}).get("peak") for sv in servers
        ]
        refused = sum(
            int(sv.get("refused_too_many_clients") or 0)
            + int(sv.get("refused_reserved_slots") or 0)
            for sv in servers
        )
        valid = [s.rps for s in group if s.status == "ok" and s.rps is not None]
        errors = sum(int(s.failed or 0) + int(s.non_2xx or 0) for s in group)
        out.append([
            scenario, view, str(mode).upper(), str(c), config,
            _fmt(_mean(valid), 2) if valid else f"none of {len(group)}",
            str(errors),
            _fmt(_peak((cn.get("total") or {}).get("peak") for cn in conns), 0),
            _fmt(_mean((cn.get("total") or {}).get("mean") for cn in conns)),
            ", ".join(f"{k} {v:.0f}" for k, v in sorted(states.items())) or "-",
            str(refused),
            _fmt(_mean(pg_cpu), 2),
            _fmt(_mean(g.get("gil_wait_ms_per_request") for g in granian), 2),
            _fmt(_mean(g.get("blocking_busy_ms_per_request") for g in granian), 2),
            _fmt(_peak(queue), 0),
        ])  # fmt: skip
    return out


def server_section(samples: Iterable[Any]) -> list[str]:
    """The section's markdown lines; [] when no sample carries a watcher's account."""
    body = rows(samples)
    if not body:
        return []
    lines = ["## The server's account: connections and Granian's metrics", "", EXPLAIN, ""]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "---|" * len(HEADER))
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return [*lines, ""]
