"""The report's data model: samples grouped into cells (one scenario x view x
concurrency x keep-alive x mode x serving config) and ASGI/WSGI pairs of cells."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from runner.model import Sample
from runner.report import pairing, stats
from runner.report.pairing import RatioVerdict
from runner.results import DONE_STATUSES, RunData

_CONFIG_SKIP = ("mode", "host", "port")


def config_label(serving: dict[str, Any]) -> str:
    """A short text for a serving config (mode, host and port left out): 'workers=1 ...'."""
    parts = [
        f"{k}={v}" for k, v in sorted(serving.items()) if k not in _CONFIG_SKIP and v is not None
    ]
    return " ".join(parts) or "default"


@dataclass
class Cell:
    """The repetitions of one scenario x view x concurrency x keep-alive x mode x config."""

    scenario: str
    view: str
    concurrency: int
    keepalive: bool
    mode: str
    config: str
    preset: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def valid(self) -> list[Sample]:
        """Repetitions that count: status ok with a requests/s figure."""
        return [s for s in self.samples if s.status == "ok" and s.rps is not None]

    @property
    def rps(self) -> list[float]:
        """Requests/s of each valid repetition."""
        return [float(s.rps) for s in self.valid if s.rps is not None]

    @property
    def paths(self) -> str:
        """The route(s) measured."""
        return ", ".join(sorted({s.path for s in self.samples}))

    @property
    def requests(self) -> str:
        """Requests per repetition."""
        return ", ".join(str(n) for n in sorted({s.requests for s in self.samples}))

    def rps_mean(self) -> float | None:
        """Mean requests/s over valid repetitions."""
        return stats.mean(self.rps)

    def rps_half_ci(self) -> float | None:
        """Half-width of the 95% confidence interval of the mean requests/s."""
        ci = stats.ci95(self.rps)
        return (ci[1] - ci[0]) / 2 if ci else None

    def latency(self, name: str) -> float | None:
        """Mean over valid repetitions of one latency figure (mean, p50, p90, p99, max)."""
        values = [getattr(s.latency_ms, name) for s in self.valid if s.latency_ms]
        return stats.mean(values)

    def latency_half_ci(self, name: str) -> float | None:
        """Half-width of the 95% CI of one latency figure across valid repetitions."""
        ci = stats.ci95([getattr(s.latency_ms, name) for s in self.valid if s.latency_ms])
        return (ci[1] - ci[0]) / 2 if ci else None

    def cpu_ms(self) -> float | None:
        """Mean server CPU per request (ms) over valid repetitions."""
        values = [
            s.server_cpu_s_per_request * 1000
            for s in self.valid
            if s.server_cpu_s_per_request is not None
        ]
        return stats.mean(values)

    def counts(self) -> Counter[str]:
        """Samples per status."""
        return Counter(s.status for s in self.samples)

    def reasons(self) -> list[str]:
        """Why samples were left out, most frequent first: 'reason (xN)'."""
        c = Counter(s.reason or s.error or s.status for s in self.samples if s.status != "ok")
        return [f"{r} (x{n})" if n > 1 else r for r, n in c.most_common()]


@dataclass
class Pair:
    """ASGI against WSGI at equal scenario, view, concurrency and keep-alive."""

    scenario: str
    view: str
    concurrency: int
    keepalive: bool
    asgi: Cell
    wsgi: Cell
    verdict: RatioVerdict


def timed_samples(runs: Iterable[RunData]) -> list[Sample]:
    """Every timed sample of the runs, without failed ones that a resume re-measured."""
    samples = [s for run in runs for s in run.samples if s.kind == "timed"]
    redone = {s.identity() for s in samples if s.status in DONE_STATUSES}
    return [s for s in samples if not (s.status == "failed" and s.identity() in redone)]


def build_cells(samples: list[Sample]) -> list[Cell]:
    """Group samples into cells, sorted by scenario, view, keep-alive, concurrency, mode."""
    cells: dict[tuple[Any, ...], Cell] = {}
    for s in samples:
        label = config_label(s.serving)
        key = (s.scenario, s.view, s.keepalive, s.concurrency, s.mode, label)
        if key not in cells:
            preset = str(s.serving.get("preset") or "none")
            cells[key] = Cell(s.scenario, s.view, s.concurrency, s.keepalive, s.mode, label, preset)
        cells[key].samples.append(s)
    return [cells[k] for k in sorted(cells)]


def pair_cells(cells: list[Cell]) -> list[Pair]:
    """Pair ASGI and WSGI cells at equal scenario/view/concurrency/keep-alive/preset. When a
    mode has several configs there (a tuning sweep), its best-throughput one is paired.
    The 'original' view pairs ASGI on /async/ with WSGI on /sync/, as the original did."""
    groups: dict[tuple[Any, ...], dict[str, list[Cell]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        key = (cell.scenario, cell.view, cell.concurrency, cell.keepalive, cell.preset)
        groups[key][cell.mode].append(cell)
    chosen = []
    for key, by_mode in sorted(groups.items()):
        if not by_mode.get("asgi") or not by_mode.get("wsgi"):
            continue
        asgi = max(by_mode["asgi"], key=lambda c: c.rps_mean() or 0.0)
        wsgi = max(by_mode["wsgi"], key=lambda c: c.rps_mean() or 0.0)
        chosen.append((key, asgi, wsgi))
    # Every cell's ratio first: the adjustment needs all of the report's p-values.
    ratios = pairing.adjust([pairing.cell_ratio(_keyed(a), _keyed(w)) for _, a, w in chosen])
    return [
        Pair(key[0], key[1], key[2], key[3], asgi, wsgi, pairing.judge(ratio))
        for (key, asgi, wsgi), ratio in zip(chosen, ratios, strict=True)
    ]


def _keyed(cell: Cell) -> list[tuple[Any, float]]:
    """(pair number or None, requests/s) of each valid repetition."""
    return [(s.extra.get("pair"), float(s.rps)) for s in cell.valid if s.rps]
