"""report.md from one or more runs: per scenario x concurrency x mode x view tables,
a verdict per cell (runner.stats.compare), PNG plots, the hosts' specs, a "why" section
(CPU and thread hops per request) and the original study's figures beside ours.

Only valid repetitions (status ok) enter the means, intervals and verdicts; invalid,
aborted and failed samples are counted and their reasons listed, and the report says so.
Records are read by `kind` (docs/RESULTS.md): timed repetitions feed the figures,
instrumented ones (the separate counting pass) only the "why" section.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner import stats
from runner.model import Sample
from runner.original import original_figure, original_study
from runner.plots import Series, line_plot
from runner.results import DONE_STATUSES, RunData, RunStore, load_run

REPORT = "report.md"
PLOTS = "plots"
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
    verdict: stats.Verdict


# -- gathering ---------------------------------------------------------------------------
def _timed_samples(runs: Iterable[RunData]) -> list[Sample]:
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
    pairs = []
    for key, by_mode in sorted(groups.items()):
        if not by_mode.get("asgi") or not by_mode.get("wsgi"):
            continue
        asgi = max(by_mode["asgi"], key=lambda c: c.rps_mean() or 0.0)
        wsgi = max(by_mode["wsgi"], key=lambda c: c.rps_mean() or 0.0)
        verdict = stats.compare(asgi.rps, wsgi.rps)
        pairs.append(Pair(key[0], key[1], key[2], key[3], asgi, wsgi, verdict))
    return pairs


# -- formatting --------------------------------------------------------------------------
def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rps(cell: Cell) -> str:
    m, h = cell.rps_mean(), cell.rps_half_ci()
    if m is None:
        return "-"
    return f"{m:,.2f} ± {h:,.2f}" if h is not None else f"{m:,.2f} (n=1, no CI)"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def _cell_rows(cells: list[Cell]) -> list[list[str]]:
    rows = []
    for c in cells:
        counts = c.counts()
        excluded = ", ".join(
            f"{counts[k]} {k}" for k in ("invalid", "aborted", "failed") if counts[k]
        )
        cv = stats.cv(c.rps)
        rows.append(
            [
                str(c.concurrency),
                c.mode.upper(),
                c.view,
                f"`{c.paths}`",
                c.requests,
                f"{len(c.valid)}/{len(c.samples)}",
                _rps(c),
                "-" if cv is None else f"{cv * 100:.1f}%",
                _f(c.latency("mean")),
                _f(c.latency("p50")),
                _f(c.latency("p90")),
                _f(c.latency("p99")),
                _f(c.latency("max")),
                str(sum(s.failed for s in c.samples)),
                str(sum(s.non_2xx for s in c.samples)),
                _f(c.cpu_ms(), 2),
                excluded or "-",
            ]
        )
    return rows


CELL_HEADER = [
    "c",
    "mode",
    "view",
    "path",
    "requests",
    "valid reps",
    "req/s (mean ± 95% CI)",
    "CV",
    "mean ms",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "failed",
    "non-2xx",
    "CPU ms/req",
    "excluded",
]


def _verdict_rows(pairs: list[Pair]) -> list[list[str]]:
    rows = []
    for p in pairs:
        v = p.verdict
        ci = (
            f"{v.ci_low_pct:+.1f}% .. {v.ci_high_pct:+.1f}%"
            if v.ci_low_pct is not None and v.ci_high_pct is not None
            else "-"
        )
        rows.append(
            [
                p.scenario,
                p.view,
                str(p.concurrency),
                "yes" if p.keepalive else "no",
                _rps(p.asgi),
                _rps(p.wsgi),
                _pct(v.diff_pct),
                ci,
                "-" if v.p_value is None else f"{v.p_value:.3g}",
                f"{v.n_asgi}/{v.n_wsgi}",
                f"**{v.verdict}**",
            ]
        )
    return rows


VERDICT_HEADER = [
    "scenario",
    "view",
    "c",
    "keep-alive",
    "ASGI req/s",
    "WSGI req/s",
    "ASGI vs WSGI",
    "95% CI of the difference",
    "p",
    "n (ASGI/WSGI)",
    "verdict",
]


def _plots(cells: list[Cell], out_dir: Path) -> dict[str, list[Path]]:
    """Throughput and p99 against concurrency per scenario (and keep-alive), one line per
    mode x view x config; error bars are the 95% CI across repetitions."""
    by_scenario: dict[tuple[str, bool], dict[tuple[str, str, str], list[Cell]]] = defaultdict(
        lambda: defaultdict(list)
    )
    configs = {(c.mode, c.config) for c in cells}
    several = len(configs) > len({m for m, _ in configs})
    for c in cells:
        if c.valid:
            by_scenario[(c.scenario, c.keepalive)][(c.mode, c.view, c.config)].append(c)
    made: dict[str, list[Path]] = {}
    for (scenario, keepalive), lines in sorted(by_scenario.items()):
        thr, p99 = [], []
        for (mode, view, config), line in sorted(lines.items()):
            line.sort(key=lambda c: c.concurrency)
            label = f"{mode.upper()} {view}" + (f" [{config}]" if several else "")
            thr.append(
                Series(
                    label,
                    [c.concurrency for c in line],
                    [c.rps_mean() or 0.0 for c in line],
                    [c.rps_half_ci() or 0.0 for c in line],
                    mode,
                )
            )
            pts = [c for c in line if c.latency("p99") is not None]
            p99.append(
                Series(
                    label,
                    [c.concurrency for c in pts],
                    [c.latency("p99") or 0.0 for c in pts],
                    [c.latency_half_ci("p99") or 0.0 for c in pts],
                    mode,
                )
            )
        suffix = "-keepalive" if keepalive else ""
        name = f"{scenario}{suffix}"
        logx = max((c.concurrency for ln in lines.values() for c in ln), default=1) >= 50
        made[name] = [
            line_plot(
                thr,
                f"{scenario}{' (keep-alive)' if keepalive else ''}: throughput",
                "concurrency",
                "requests/s (mean, 95% CI)",
                out_dir / PLOTS / f"{name}-throughput.png",
                logx=logx,
            ),
            line_plot(
                p99,
                f"{scenario}{' (keep-alive)' if keepalive else ''}: p99 latency",
                "concurrency",
                "p99 latency, ms (mean, 95% CI)",
                out_dir / PLOTS / f"{name}-p99.png",
                logx=logx,
            ),
        ]
    return made


def _hosts_section(runs: list[RunData]) -> list[str]:
    out = ["## Hosts", ""]
    rows = []
    for run in runs:
        meta = run.metadata
        hosts: dict[str, Any] = dict(meta.get("hosts") or {})
        for mode_meta in (meta.get("modes") or {}).values():
            for name, spec in (mode_meta.get("hosts") or {}).items():
                hosts.setdefault(name, spec)
        for name, spec in sorted(hosts.items()):
            mc = spec.get("machine_class") or {}
            rows.append(
                [
                    run.run_id,
                    name,
                    str(spec.get("cpu_model", "-")),
                    str(spec.get("cpus", mc.get("cpus", "-"))),
                    str(spec.get("cpuset", "-")),
                    str(spec.get("memory_mib", mc.get("memory_mib", "-"))),
                    str(spec.get("kernel", "-")),
                    str(mc.get("name", "-")),
                ]
            )
    if rows:
        out += _table(
            ["run", "host", "CPU model", "CPUs", "cpuset", "memory MiB", "kernel", "class"], rows
        )
    else:
        out.append("No host specs were recorded in these runs.")
    out.append("")
    for run in runs:
        meta = run.metadata
        bits = []
        if meta.get("versions"):
            versions = ", ".join(f"{k} {v}" for k, v in sorted(meta["versions"].items()))
            bits.append(f"versions: {versions}")
        if meta.get("commit"):
            bits.append(f"commit `{meta['commit']}`")
        for dep in meta.get("deploys") or []:
            bits.append(f"deploy of {dep.get('mode')} took {dep.get('seconds')} s")
        for command in meta.get("commands") or []:
            bits.append(f"command `{command}`")
        if bits:
            out.append(f"- run `{run.run_id}`: " + "; ".join(bits))
    steals = [s.steal_s for run in runs for s in run.samples if s.steal_s]
    if steals:
        out.append(f"- CPU steal time during the runs: up to {max(steals):.2f} s per repetition")
    out.append("")
    return out


def _why_section(runs: list[RunData], cells: list[Cell]) -> list[str]:
    """CPU and thread hops per request next to throughput, when the counting pass ran."""
    per: dict[tuple[str, str, str, str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for run in runs:
        for s in run.samples:
            if s.kind != "instrumented" or s.status != "ok":  # failed or not counted
                continue
            key = (s.scenario, s.view, s.mode, s.path, config_label(s.serving))
            if s.hops_per_request is not None:
                per[key]["hops"].append(s.hops_per_request)
            if s.cpu_ms_per_request is not None:
                per[key]["cpu"].append(s.cpu_ms_per_request)
            if (host := s.extra.get("host_cpu_ms_per_request")) is not None:
                per[key]["host"].append(float(host))
    if not per:
        return []
    best: dict[tuple[str, str, str, str, str], float] = {}
    cpus = _app_cpus(runs)
    for c in cells:
        for path in {s.path for s in c.valid}:
            key = (c.scenario, c.view, c.mode, path, c.config)
            if (m := c.rps_mean()) is not None:
                best[key] = max(best.get(key, 0.0), m)
    several = len({key[4] for key in per}) > 1
    rows = []
    for key, vals in sorted(per.items()):
        cpu = stats.mean(vals["cpu"])
        limit = cpus * 1000 / cpu if cpu and cpus else None
        top = best.get(key)
        rows.append(
            [
                key[0],
                key[1],
                key[2].upper(),
                f"`{key[3]}`",
                *([key[4]] if several else []),
                _f(cpu, 2),
                _f(stats.mean(vals["host"]), 2),
                _f(stats.mean(vals["hops"]), 1),
                _f(top, 2),
                _f(limit, 1),
                "-" if not (limit and top) else f"{top / limit * 100:.0f}%",
            ]
        )
    return [
        "## Why: the cost of each mode per request",
        "",
        "Measured in a separate instrumented pass after the timed runs (a few sequential "
        "requests that ask the app to count; the timed runs never do): the app's CPU time "
        "per request (its worker process, arrival to response start; median), the app "
        "host's CPU per request over the pass (cgroup: Granian's Rust side included), and "
        "the thread hops (sync→async and async→sync bridges) it made. The CPU-bound limit "
        f"is the app host's CPUs ({cpus or '?'}) divided by the app's CPU per request. "
        "docs/EXPLAIN.md says how to read it.",
        "",
        *_table(
            [
                "scenario",
                "view",
                "mode",
                "path",
                *(["config"] if several else []),
                "CPU ms/request",
                "host CPU ms/request",
                "hops/request",
                "best req/s",
                "CPU-bound limit req/s",
                "share of limit",
            ],
            rows,
        ),
        "",
    ]


def _configs_section(runs: list[RunData], cells: list[Cell]) -> list[str]:
    """Which serving configuration won, per scenario x view x concurrency x mode, and by
    how much over the runner-up and over the original's settings (a sweep, `fab tune`,
    `fab compare --tuned`); then what the tuning and concurrency searches decided."""
    groups: dict[tuple[Any, ...], list[Cell]] = defaultdict(list)
    for c in cells:
        groups[(c.scenario, c.view, c.keepalive, c.concurrency, c.mode)].append(c)
    rows = []
    for (scenario, view, _, conc, mode), group in sorted(groups.items()):
        ranked = sorted(
            (c for c in group if c.rps_mean() is not None),
            key=lambda c: c.rps_mean() or 0.0,
            reverse=True,
        )
        if len(group) < 2 or not ranked:
            continue
        win = ranked[0]
        top = win.rps_mean() or 0.0
        runner_up = ranked[1].rps_mean() if len(ranked) > 1 else None
        original = next((c for c in ranked if c.preset == "original"), None)
        orig_rps = original.rps_mean() if original else None
        rows.append(
            [
                scenario,
                view,
                str(conc),
                mode.upper(),
                f"`{win.config}`",
                _rps(win),
                f"{len(group)}",
                _pct((top - runner_up) / runner_up * 100 if runner_up else None),
                _pct(
                    (top - orig_rps) / orig_rps * 100 if orig_rps and original is not win else None
                ),
            ]
        )
    out: list[str] = []
    if rows:
        out += [
            "## Serving configurations: which won",
            "",
            "Per cell, the configuration with the highest mean requests/s over its valid "
            "repetitions (configs with any failed request have none), against the next best "
            "and against the original's settings (serving preset `original`) when measured.",
            "",
            *_table(
                [
                    "scenario",
                    "view",
                    "c",
                    "mode",
                    "winner",
                    "req/s",
                    "configs",
                    "over runner-up",
                    "over original",
                ],
                rows,
            ),
            "",
        ]
    for run in runs:
        out += _tune_lines(run.metadata.get("tune") or {}, run.run_id)
        out += _search_lines(run.metadata.get("search") or {}, run.run_id)
    return out


def _tune_lines(tune: dict[str, Any], run_id: str) -> list[str]:
    if not tune:
        return []
    out = [f"## Tuning (`fab tune`, run `{run_id}`)", ""]
    for mode, t in sorted(tune.items()):
        best, rps = t.get("best_label"), t.get("best_rps")
        gains = []
        for name, key in (
            ("the deploy's defaults", "default_rps"),
            ("the original's", "original_rps"),
        ):
            base = t.get(key)
            if rps and base:
                gains.append(f"{(rps - base) / base * 100:+.1f}% over {name} ({base:.1f})")
        spent = (
            f"budget of {t.get('budget_s')} s spent before every candidate was tried"
            if t.get("exhausted")
            else f"every candidate tried in {t.get('spent_s')} s"
        )
        tried = len(t.get("tried") or [])
        rejected = sum(1 for x in t.get("tried") or [] if x.get("rps") is None)
        out.append(
            f"- **{mode.upper()}** ({t.get('scenario')}, c={t.get('concurrency')}): best "
            f"`{best}` at {_f(rps, 1)} req/s"
            + (f", {'; '.join(gains)}" if gains else "")
            + f". {tried} configurations measured ({rejected} rejected for errors); {spent}."
        )
    out.append("")
    return out


def _search_lines(search: dict[str, Any], run_id: str) -> list[str]:
    if not search:
        return []
    out = [f"## Concurrency search (`fab compare --search`, run `{run_id}`)", ""]
    points = search.get("points") or {}
    levels = sorted({int(c) for p in points.values() for c in p})
    modes = list(points)
    rows = [[str(c), *[_f(points[m].get(str(c)), 1) for m in modes]] for c in levels]
    out += _table(["c", *[f"{m.upper()} req/s" for m in modes]], rows)
    out.append("")
    for mode, best in (search.get("best") or {}).items():
        if best:
            out.append(
                f"- {mode.upper()}: best zero-error concurrency {best['concurrency']} "
                f"({best['rps']:.1f} req/s)"
            )
        else:
            out.append(f"- {mode.upper()}: no level without errors")
    cross = search.get("crossover")
    if cross:
        a, b = modes[0], modes[1]
        lo, hi = cross
        ahead_lo = a if (points[a][str(lo)] or 0) > (points[b][str(lo)] or 0) else b
        other = b if ahead_lo == a else a
        out.append(
            f"- crossover of `{search.get('scenario')}`: {ahead_lo.upper()} leads at c={lo}, "
            f"{other.upper()} at c={hi}: the crossover lies in ({lo}, {hi}]"
        )
    else:
        out.append("- no crossover: one mode leads (or ties) at every level measured by both")
    if search.get("exhausted"):
        out.append(f"- stopped: the budget of {search.get('budget_s')} s was spent")
    out.append("")
    return out


def _ceiling_section(runs: list[RunData], cells: list[Cell]) -> list[str]:
    """Each mode's best requests/s against what the app host's CPUs can give, from the
    server CPU the timed runs cost (the app host's cgroup accounting)."""
    cpus = _app_cpus(runs)
    per: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        if c.cpu_ms() is None or c.rps_mean() is None:
            continue
        key = (c.scenario, c.view, c.mode)
        per[key]["cpu"] += [
            s.server_cpu_s_per_request * 1000
            for s in c.valid
            if s.server_cpu_s_per_request is not None
        ]
        per[key]["best"].append(c.rps_mean() or 0.0)
    if not cpus or not per:
        return []
    rows = []
    for (scenario, view, mode), vals in sorted(per.items()):
        cpu = stats.mean(vals["cpu"])
        limit = cpus * 1000 / cpu if cpu else None
        best = max(vals["best"])
        rows.append(
            [
                scenario,
                view,
                mode.upper(),
                _f(cpu, 2),
                _f(limit, 1),
                _f(best, 2),
                "-" if not limit else f"{best / limit * 100:.0f}%",
            ]
        )
    return [
        "## CPU ceiling",
        "",
        f"Server CPU per request from the app host's CPU accounting during the timed runs "
        f"(all its processes), and the throughput its {cpus} CPU(s) could give at that "
        "cost; a share near 100% means the mode is CPU-bound there.",
        "",
        *_table(
            [
                "scenario",
                "view",
                "mode",
                "CPU ms/request",
                "CPU-bound limit req/s",
                "best req/s",
                "share of limit",
            ],
            rows,
        ),
        "",
    ]


def _app_cpus(runs: list[RunData]) -> int | None:
    for run in runs:
        meta = run.metadata
        mc = meta.get("machine_class") or {}
        if isinstance(mc, dict) and mc.get("cpus"):
            return int(mc["cpus"])
    return None


def _original_section(cells: list[Cell], pairs: list[Pair]) -> list[str]:
    study = original_study()
    machine = study["machine"]
    rows = []
    for fig in sorted(study["figures"], key=lambda f: (f["concurrency"], f["mode"])):
        ours = [
            c
            for c in cells
            if c.scenario == "users"
            and c.mode == fig["mode"]
            and c.concurrency == fig["concurrency"]
            and any(s.path == fig["path"] for s in c.samples)
        ]
        ours.sort(key=lambda c: len(c.valid), reverse=True)
        mine = ours[0] if ours else None
        ours_rps = mine.rps_mean() if mine else None
        rows.append(
            [
                fig["mode"].upper(),
                f"`{fig['path']}`",
                str(fig["concurrency"]),
                f"{fig['rps']:.2f}",
                _rps(mine) if mine else "not measured",
                f"x{ours_rps / fig['rps']:.2f}" if ours_rps else "-",
                f"{fig['p50']:,} / {fig['p99']:,}",
                (f"{_f(mine.latency('p50'), 0)} / {_f(mine.latency('p99'), 0)}" if mine else "-"),
            ]
        )
    for miss in study.get("missing", []):
        rows.append(
            [
                miss["mode"].upper(),
                f"`{miss['path']}`",
                str(miss["concurrency"]),
                "none published",
                "see the tables above",
                "-",
                miss["note"],
                "-",
            ]
        )
    ours_c5 = next(
        (p for p in pairs if p.scenario == "users" and p.concurrency == 5 and p.view == "original"),
        None,
    )
    a5, w5 = original_figure("asgi", 5), original_figure("wsgi", 5)
    assert a5 and w5
    lines = [
        "## The original study beside ours",
        "",
        f"The original ({study['source']}) ran ab on the same {machine['name']} "
        f"({machine['cpu_model']}, {machine['cores']} cores / {machine['cpus']} threads, "
        f"{machine['memory_mib']:,} MiB) as the server, one run per figure, no repetitions. "
        "Its users page is CPU-bound, so absolute figures depend on the CPU: compare the "
        "ratio between modes, not the raw numbers.",
        "",
        *_table(
            [
                "mode",
                "path",
                "c",
                "original req/s",
                "ours req/s",
                "ours / original",
                "original p50 / p99 ms",
                "ours p50 / p99 ms",
            ],
            rows,
        ),
        "",
        f"The original's own figures differ by {(a5.rps - w5.rps) / w5.rps * 100:+.1f}% "
        "(ASGI against WSGI at concurrency 5) from a single run each: no interval, so no "
        "verdict can be drawn from them.",
    ]
    if ours_c5:
        lines.append(
            f"Ours at concurrency 5, {ours_c5.verdict.n_asgi}+{ours_c5.verdict.n_wsgi} "
            f"repetitions: {_pct(ours_c5.verdict.diff_pct)}, verdict "
            f"**{ours_c5.verdict.verdict}** ({ours_c5.verdict.reason})."
        )
    lines.append("")
    return lines


# -- the report --------------------------------------------------------------------------
def build_report(runs: list[RunData], out_dir: Path) -> Path:
    """Write out_dir/report.md (and out_dir/plots/*.png, verdicts.json); return its path."""
    if not runs:
        raise ValueError("build_report needs at least one run")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = _timed_samples(runs)
    cells = build_cells(samples)
    pairs = pair_cells(cells)
    plots = _plots(cells, out_dir)
    counts = Counter(s.status for s in samples)
    ids = ", ".join(f"`{r.run_id}`" for r in runs)
    lines = [
        "# ASGI against WSGI: report",
        "",
        f"Runs {ids}; written {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. "
        f"{len(samples)} samples: "
        + ", ".join(f"{counts[k]} {k}" for k in ("ok", "invalid", "aborted", "failed") if counts[k])
        + ".",
        "",
        "Only valid repetitions (status `ok`) enter the means, confidence intervals and "
        "verdicts. Invalid samples (a failed request, a non-2xx answer, a changed response "
        "length or a saturated load generator), aborted ab runs and failed stages are shown "
        "in the tables (column *excluded*, and the reasons below) but excluded from the "
        "statistics.",
        "",
        "## Verdicts",
        "",
        f"Test: {stats.TEST_NAME} on per-repetition requests/s (alpha 0.05). "
        "*No significant difference* only when the 95% CI of the difference lies within "
        "±5%; a wider interval that includes 0 is *inconclusive* (more repetitions needed), "
        "and fewer than 2 valid repetitions on a side is *inconclusive* too.",
        "",
    ]
    if pairs:
        lines += _table(VERDICT_HEADER, _verdict_rows(pairs))
    else:
        lines.append("No cell has both modes measured: no verdict.")
    lines.append("")
    scenarios = sorted({(c.scenario, c.keepalive) for c in cells})
    for scenario, keepalive in scenarios:
        chosen = [c for c in cells if c.scenario == scenario and c.keepalive == keepalive]
        name = f"{scenario}{'-keepalive' if keepalive else ''}"
        lines += [
            f"## Scenario `{scenario}`{' with keep-alive' if keepalive else ''}",
            "",
            *_table(CELL_HEADER, _cell_rows(chosen)),
            "",
        ]
        for png in plots.get(name, []):
            rel = png.relative_to(out_dir).as_posix()
            lines.append(f"![{png.stem}]({rel})")
        lines.append("")
        reasons = [(c, r) for c in chosen for r in c.reasons()]
        if reasons:
            lines.append("Excluded samples:")
            lines += [f"- c={c.concurrency} {c.mode.upper()} {c.view}: {r}" for c, r in reasons]
            lines.append("")
    lines += _ceiling_section(runs, cells)
    lines += _why_section(runs, cells)
    lines += _configs_section(runs, cells)
    lines += _hosts_section(runs)
    lines += _original_section(cells, pairs)
    path = out_dir / REPORT
    tmp = out_dir / f".{REPORT}.tmp"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    verdicts = [
        {
            "scenario": p.scenario,
            "view": p.view,
            "concurrency": p.concurrency,
            "keepalive": p.keepalive,
            **p.verdict.to_dict(),
        }
        for p in pairs
    ]
    (out_dir / "verdicts.json").write_text(json.dumps(verdicts, indent=1) + "\n")
    return path


def summary_table(runs: list[RunData]) -> str:
    """A short plain-text table for the terminal: one line per cell, then the verdicts."""
    cells = build_cells(_timed_samples(runs))
    pairs = pair_cells(cells)
    header = f"{'scenario':<9} {'c':>5} {'mode':<5} {'view':<13} {'req/s':>22} {'p99 ms':>9} valid"
    out = [header, "-" * len(header)]
    for c in cells:
        out.append(
            f"{c.scenario:<9} {c.concurrency:>5} {c.mode:<5} {c.view:<13} {_rps(c):>22} "
            f"{_f(c.latency('p99')):>9} {len(c.valid)}/{len(c.samples)}"
        )
    if pairs:
        out.append("")
        for p in pairs:
            out.append(
                f"{p.scenario} {p.view} c={p.concurrency}"
                f"{' keep-alive' if p.keepalive else ''}: {p.verdict.verdict} "
                f"(ASGI {_pct(p.verdict.diff_pct)} vs WSGI; {p.verdict.reason})"
            )
    return "\n".join(out)


def report_run(store: RunStore) -> RunData | None:
    """Write report.md for a run that stored anything (also after a failure: the runs'
    `finally`); return the run read back, or None when it has no samples yet."""
    if not store.has_samples():
        return None
    run = load_run(store.run_dir)
    build_report([run], store.run_dir)
    return run
