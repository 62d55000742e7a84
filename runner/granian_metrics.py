"""Granian's own Prometheus exporter, read: the text format parsed and two readings compared.

Pure functions over the exporter's text (``GET http://<host>:<metrics port>/``), so they
are tested on recorded outputs. Names, types and units are Granian's (README, "Metrics",
Granian >= 2.7; ``src/metrics.rs``): every name starts with ``granian_``; the per-worker
ones carry a ``worker`` label and are summed here over the workers.

What the figures mean, and what they cannot see:

- ``py_wait_cumulative`` (microseconds): time Granian's *blocking threads* waited to take
  the GIL back after being handed a task. Under WSGI those threads run the app, so it is
  the GIL contention between requests. Under ASGI the one blocking thread only hands work
  to the event loop; the threads of asgiref's executor (``sync_to_async``: sync views and
  the stock middleware under ASGI) wait for the GIL too, and Granian never sees them.
- ``blocking_busy_cumulative`` / ``blocking_idle_cumulative`` (microseconds): the
  blocking pool's time running tasks (GIL wait included) and waiting for one.
- ``blocking_queue`` (gauge): tasks waiting for a blocking thread, as of the last time a
  worker reported (every ``--metrics-scrape-interval``, 1 s here). A gauge is only worth
  something sampled during the load, not before and after it.
- ``requests_handled`` (counter): requests the workers finished; the denominator.

A worker that was respawned between two readings restarts its counters from zero; the
difference is then meaningless and :func:`compare` says so instead of returning one.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping

PREFIX = "granian_"
SAMPLE_LINE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)(?:\s+\S+)?$"
)
LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')
# Counters whose difference the report uses, per request or as a share.
COUNTERS = (
    "requests_handled",
    "connections_handled",
    "connections_err",
    "py_wait_cumulative",
    "blocking_busy_cumulative",
    "blocking_idle_cumulative",
    "workers_respawns_for_err",
)


class MetricsFormatError(ValueError):
    """The text is not Prometheus' exposition format, or not Granian's exporter."""


@dataclasses.dataclass(frozen=True)
class Series:
    """One line of the exposition: a metric name, its labels and its value."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def parse(text: str) -> tuple[list[Series], dict[str, str]]:
    """Every sample line and the ``# TYPE`` of each metric.

    Raises MetricsFormatError on a line that is neither a comment nor a sample.
    """
    series: list[Series] = []
    types: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        match = SAMPLE_LINE.match(line)
        if not match:
            raise MetricsFormatError(f"line {number} is not a Prometheus sample: {line[:80]!r}")
        try:
            value = float(match["value"])
        except ValueError:
            raise MetricsFormatError(f"line {number} has no numeric value: {line[:80]!r}") from None
        pairs = LABEL.finditer(match["labels"] or "")
        labels = tuple(sorted((m["key"], m["value"]) for m in pairs))
        series.append(Series(match["name"], labels, value))
    return series, types


def totals(text: str) -> dict[str, float]:
    """Granian's metrics without the prefix, each summed over the workers.

    ``{"requests_handled": 1234.0, "py_wait_cumulative": 5678.0, "workers": 1.0, ...}``
    (``workers`` = how many workers reported). Raises MetricsFormatError when the text
    holds no ``granian_`` metric at all (not Granian's exporter, or no worker reported yet).
    """
    series, _ = parse(text)
    found: dict[str, float] = {}
    workers: set[str] = set()
    for item in series:
        if not item.name.startswith(PREFIX):
            continue
        name = item.name[len(PREFIX) :]
        found[name] = found.get(name, 0.0) + item.value
        workers.update(value for key, value in item.labels if key == "worker")
    if not found:
        raise MetricsFormatError("no granian_ metric in the exporter's answer")
    found["workers"] = float(len(workers))
    return found


@dataclasses.dataclass(frozen=True)
class Difference:
    """What the server did between two readings (counters' differences, derived figures)."""

    requests: int
    counters: dict[str, float]
    gil_wait_ms_per_request: float | None
    blocking_busy_ms_per_request: float | None
    blocking_busy_share: float | None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-able, as stored in a sample's ``extra.granian``."""
        return dataclasses.asdict(self)


def compare(before: Mapping[str, float], after: Mapping[str, float]) -> Difference:
    """The difference of two :func:`totals` taken around a repetition.

    GIL wait per request = Δ``py_wait_cumulative`` (µs) / Δ``requests_handled``, in ms.
    A counter that went down means a worker restarted in between: no figure, an error.
    """
    counters = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in COUNTERS}
    went_down = sorted(name for name, delta in counters.items() if delta < 0)
    if went_down or counters["workers_respawns_for_err"] > 0:
        why = ", ".join(went_down) or "workers_respawns_for_err"
        return Difference(
            0, counters, None, None, None, error=f"a Granian worker restarted ({why} reset)"
        )
    requests = int(counters["requests_handled"])
    busy, idle = counters["blocking_busy_cumulative"], counters["blocking_idle_cumulative"]
    return Difference(
        requests=requests,
        counters=counters,
        gil_wait_ms_per_request=_per(counters["py_wait_cumulative"] / 1000, requests),
        blocking_busy_ms_per_request=_per(busy / 1000, requests),
        blocking_busy_share=busy / (busy + idle) if busy + idle > 0 else None,
    )


def _per(total: float, requests: int) -> float | None:
    return total / requests if requests > 0 else None


@dataclasses.dataclass(frozen=True)
class GaugeSummary:
    """A gauge sampled during a repetition: how often, its peak and its mean."""

    samples: int
    peak: float | None
    mean: float | None

    def as_dict(self) -> dict[str, object]:
        """JSON-able."""
        return dataclasses.asdict(self)


def summarize_gauge(values: Iterable[float]) -> GaugeSummary:
    """Peak and mean of a gauge's readings (NaN readings left out)."""
    kept = [v for v in values if not math.isnan(v)]
    if not kept:
        return GaugeSummary(0, None, None)
    return GaugeSummary(len(kept), max(kept), sum(kept) / len(kept))
