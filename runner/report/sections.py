"""The report's sections beyond the tables: the CPU ceiling, why (the instrumented
pass), which serving configuration won, tuning and concurrency searches, the hosts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from runner.judge import SHARE_SLACK
from runner.report import stats
from runner.report.cells import Cell, config_label
from runner.report.text import fmt, pct, rps_text, table
from runner.results import RunData


def ceiling_section(runs: list[RunData], cells: list[Cell]) -> list[str]:
    """Each mode's best requests/s against what the app host's CPUs can give at that
    same cell's CPU cost (the app host's cgroup over the timed windows). A share above
    100% cannot be right and is marked suspect with the reason."""
    cpus = app_cpus(runs)
    best: dict[tuple[str, str, str], Cell] = {}
    for c in cells:
        if c.cpu_ms() is None or c.rps_mean() is None:
            continue
        key = (c.scenario, c.view, c.mode)
        if key not in best or (c.rps_mean() or 0.0) > (best[key].rps_mean() or 0.0):
            best[key] = c
    if not cpus or not best:
        return []
    rows = [_ceiling_row(key, cell, cpus) for key, cell in sorted(best.items())]
    return [
        "## CPU ceiling",
        "",
        f"Server CPU per request from the app host's CPU accounting over the timed "
        f"windows (all its processes), at the level with the best requests/s, and the "
        f"throughput its {cpus} CPU(s) could give at that cost; a share near 100% means "
        "the mode is CPU-bound there (the share is the mean of each repetition's own "
        "requests/s x CPU per request). Above 100% the accounting missed work: marked suspect.",
        "",
        *table(CEILING_HEADER, rows),
        "",
    ]


CEILING_HEADER = [
    "scenario",
    "view",
    "mode",
    "c",
    "CPU ms/request",
    "CPU-bound limit req/s",
    "best req/s",
    "share of limit",
]


def share_text(share: float | None, why: str) -> str:
    """A share of the CPU-bound limit; above 100% marked suspect with `why`."""
    if share is None:
        return "-"
    if share > 100.0 + SHARE_SLACK:
        return f"{share:.0f}% (suspect: {why})"
    return f"{share:.0f}%"


def _ceiling_row(key: tuple[str, str, str], cell: Cell, cpus: int) -> list[str]:
    scenario, view, mode = key
    cpu = cell.cpu_ms()
    limit = cpus * 1000 / cpu if cpu else None
    best = cell.rps_mean() or 0.0
    marked = [s.extra["cpu_suspect"] for s in cell.valid if s.extra.get("cpu_suspect")]
    why = marked[0] if marked else "above the host's CPUs; CPU not read over the timed window"
    # Each repetition's own share, averaged: the mean throughput over the mean CPU cost
    # tops 100% when repetitions differ (a fast one with a cheap one), though none did.
    shares = [
        s.rps * s.server_cpu_s_per_request / cpus * 100
        for s in cell.valid
        if s.rps and s.server_cpu_s_per_request is not None
    ]
    return [
        scenario,
        view,
        mode.upper(),
        str(cell.concurrency),
        fmt(cpu, 2),
        fmt(limit, 1),
        fmt(best, 2),
        share_text(stats.mean(shares) if shares else (best / limit * 100 if limit else None), why),
    ]


def app_cpus(runs: list[RunData]) -> int | None:
    """The app host's CPUs, from the first run's machine class that names them."""
    for run in runs:
        meta = run.metadata
        mc = meta.get("machine_class") or {}
        if isinstance(mc, dict) and mc.get("cpus"):
            return int(mc["cpus"])
    return None


Key = tuple[str, str, str, str, str]  # scenario, view, mode, path, config


def _counted(runs: list[RunData]) -> dict[Key, dict[str, list[float]]]:
    """The instrumented records' figures (hops, app CPU, host CPU) per key."""
    per: dict[Key, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
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
    return per


def _best_rps(cells: list[Cell]) -> dict[Key, float]:
    best: dict[Key, float] = {}
    for c in cells:
        for path in {s.path for s in c.valid}:
            key = (c.scenario, c.view, c.mode, path, c.config)
            if (m := c.rps_mean()) is not None:
                best[key] = max(best.get(key, 0.0), m)
    return best


def _why_row(
    key: Key, vals: dict[str, list[float]], top: float | None, cpus: int | None
) -> list[str]:
    cpu = stats.mean(vals["cpu"])
    limit = cpus * 1000 / cpu if cpu and cpus else None
    return [
        key[0],
        key[1],
        key[2].upper(),
        f"`{key[3]}`",
        key[4],
        fmt(cpu, 2),
        fmt(stats.mean(vals["host"]), 2),
        fmt(stats.mean(vals["hops"]), 1),
        fmt(top, 2),
        fmt(limit, 1),
        share_text(
            top / limit * 100 if limit and top else None,
            "the sequential instrumented pass costs more per request than the timed load",
        ),
    ]


WHY_HEADER = [
    "scenario",
    "view",
    "mode",
    "path",
    "config",
    "CPU ms/request",
    "host CPU ms/request",
    "hops/request",
    "best req/s",
    "CPU-bound limit req/s",
    "share of limit",
]


def why_section(runs: list[RunData], cells: list[Cell]) -> list[str]:
    """CPU and thread hops per request next to throughput, when the counting pass ran."""
    per = _counted(runs)
    if not per:
        return []
    best, cpus = _best_rps(cells), app_cpus(runs)
    several = len({key[4] for key in per}) > 1
    rows = [_why_row(key, vals, best.get(key), cpus) for key, vals in sorted(per.items())]
    header = WHY_HEADER
    if not several:  # one config: no column for it
        header = [h for h in header if h != "config"]
        rows = [row[:4] + row[5:] for row in rows]
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
        *table(header, rows),
        "",
    ]


def _config_row(key: tuple[Any, ...], group: list[Cell]) -> list[str] | None:
    """The winning config of one cell group, or None when nothing was compared."""
    scenario, view, _, conc, mode = key
    ranked = sorted(
        (c for c in group if c.rps_mean() is not None),
        key=lambda c: c.rps_mean() or 0.0,
        reverse=True,
    )
    if len(group) < 2 or not ranked:
        return None
    win = ranked[0]
    top = win.rps_mean() or 0.0
    runner_up = ranked[1].rps_mean() if len(ranked) > 1 else None
    original = next((c for c in ranked if c.preset == "original"), None)
    orig_rps = original.rps_mean() if original else None
    return [
        scenario,
        view,
        str(conc),
        mode.upper(),
        f"`{win.config}`",
        rps_text(win),
        f"{len(group)}",
        pct((top - runner_up) / runner_up * 100 if runner_up else None),
        pct((top - orig_rps) / orig_rps * 100 if orig_rps and original is not win else None),
    ]


CONFIG_HEADER = [
    "scenario",
    "view",
    "c",
    "mode",
    "winner",
    "req/s",
    "configs",
    "over runner-up",
    "over original",
]


def configs_section(runs: list[RunData], cells: list[Cell]) -> list[str]:
    """Which serving configuration won, per scenario x view x concurrency x mode, and by
    how much over the runner-up and over the original's settings (a sweep, `fab tune`,
    `fab compare --tuned`); then what the tuning and concurrency searches decided."""
    groups: dict[tuple[Any, ...], list[Cell]] = defaultdict(list)
    for c in cells:
        groups[(c.scenario, c.view, c.keepalive, c.concurrency, c.mode)].append(c)
    rows = [r for key, group in sorted(groups.items()) if (r := _config_row(key, group))]
    out: list[str] = []
    if rows:
        out += [
            "## Serving configurations: which won",
            "",
            "Per cell, the configuration with the highest mean requests/s over its valid "
            "repetitions (configs with any failed request have none), against the next best "
            "and against the original's settings (serving preset `original`) when measured.",
            "",
            *table(CONFIG_HEADER, rows),
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
            f"`{best}` at {fmt(rps, 1)} req/s"
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
    rows = [[str(c), *[fmt(points[m].get(str(c)), 1) for m in modes]] for c in levels]
    out += table(["c", *[f"{m.upper()} req/s" for m in modes]], rows)
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


def _run_facts(meta: dict[str, Any]) -> list[str]:
    """One run's versions, commit, load average, deploys and commands, as phrases."""
    bits = []
    if meta.get("versions"):
        versions = ", ".join(f"{k} {v}" for k, v in sorted(meta["versions"].items()))
        bits.append(f"versions: {versions}")
    if meta.get("commit"):
        bits.append(f"commit `{meta['commit']}`")
    if meta.get("loadavg_start"):
        end = meta.get("loadavg_end") or ["?"]
        bits.append(f"load average {meta['loadavg_start'][0]} at the start, {end[0]} at the end")
    for dep in meta.get("deploys") or []:
        bits.append(f"deploy of {dep.get('mode')} took {dep.get('seconds')} s")
    for command in meta.get("commands") or []:
        bits.append(f"command `{command}`")
    return bits


def hosts_section(runs: list[RunData]) -> list[str]:
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
        out += table(
            ["run", "host", "CPU model", "CPUs", "cpuset", "memory MiB", "kernel", "class"], rows
        )
    else:
        out.append("No host specs were recorded in these runs.")
    out.append("")
    for run in runs:
        if bits := _run_facts(run.metadata):
            out.append(f"- run `{run.run_id}`: " + "; ".join(bits))
    steals = [s.steal_s for run in runs for s in run.samples if s.steal_s]
    if steals:
        out.append(f"- CPU steal time during the runs: up to {max(steals):.2f} s per repetition")
    out.append("")
    return out
