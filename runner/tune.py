"""Each mode at its best, on the current hosts: `fab tune`, `fab compare --tuned` and the
concurrency search of `fab compare --search`. Every measurement is an ordinary sample
of an ordinary run folder (so `fab report` reads it); what the search decided goes to
the run's metadata (`tune`, `search`), which the report's sections read."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from runner.bench import Bench, BenchOptions
from runner.deploy import ansible_playbook
from runner.inventory import Inventory, load_inventory
from runner.model import Sample
from runner.plan import Level
from runner.report import report_run
from runner.results import RunStore, load_run, new_run_id
from runner.search import (
    Config,
    Points,
    Tried,
    best_concurrency,
    config_key,
    coordinate_search,
    crossover,
    doubling,
    refine,
)

ORIGINAL = {"serving_preset": "original"}


def tune_dims(mode: str, cpus: int) -> list[tuple[str, list[Any]]]:
    """The grid a coordinate search walks for `mode` on an app host with `cpus` CPUs
    (None = the deploy's default). Blocking threads matter only under WSGI (ASGI takes
    one), the event loop only under ASGI."""
    dims: list[tuple[str, list[Any]]] = [("workers", sorted({cpus, 2 * cpus, 4 * cpus}))]
    if mode == "wsgi":
        dims.append(("blocking_threads", [8, 32, 128]))
    else:
        dims.append(("event_loop", ["asyncio", "uvloop"]))
    dims.append(("backpressure", [64, 256]))
    return dims


class Deadline:
    """A time budget in seconds; `left()` is what remains."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    def left(self) -> float:
        """Seconds left (negative once spent)."""
        return self.seconds - (time.monotonic() - self.started)

    def spent(self) -> float:
        """Seconds used so far."""
        return time.monotonic() - self.started


def usable(sample: Sample) -> bool:
    """Whether a sample's requests/s can rank a configuration: no failed, non-2xx or
    changed response and ab not aborted. A sample invalid only because the load generator
    was near saturation still ranks (every candidate shares that limit; the report keeps
    the sample marked invalid)."""
    if sample.status == "ok":
        return sample.rps is not None
    if sample.status != "invalid" or sample.failed or sample.non_2xx or sample.rps is None:
        return False
    return all(r.startswith("load generator CPU") for r in sample.reason.split("; "))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure_config(
    inventory: str,
    inv: Inventory,
    store: RunStore,
    mode: str,
    config: Config,
    options: BenchOptions,
    base: dict[str, object],
) -> Tried:
    """Deploy `mode` with `config`, bench `options` into `store`; the mean requests/s of
    its valid repetitions, or None (with the reason) when any request failed."""
    _say(f"deploying {mode} {config_key(config)} ...")
    seconds = ansible_playbook("deploy.yml", inventory, {"mode": mode, **base, **config})
    store.note_deploy(mode, seconds)
    samples = [s for s in Bench(inv, store, options).run() if not s.extra.get("instrumented")]
    bad = [s for s in samples if not usable(s)]
    if bad or not samples:
        reason = bad[0].reason if bad else "nothing measured"
        _say(f"  {mode} {config_key(config)}: rejected ({reason})")
        return Tried(config, None, reason)
    rps = sum(float(s.rps or 0) for s in samples) / len(samples)
    _say(f"  {mode} {config_key(config)}: {rps:.1f} req/s")
    return Tried(config, rps)


def tune_modes(
    inventory: str,
    modes: list[str],
    scenario: str,
    concurrency: int,
    requests: int,
    repeat: int,
    view: str,
    budget_s: float,
    store: RunStore,
    base: dict[str, object] | None = None,
    timeout_s: int = 30,
) -> dict[str, dict[str, Any]]:
    """Coordinate-search each mode's serving config within `budget_s` (shared fairly: each
    mode gets what is left divided by the modes still to tune); record and return
    metadata["tune"] = {mode: {best, best_rps, tried, exhausted, ...}}."""
    inv = load_inventory(inventory)
    cpus = int(inv.app.machine_class.get("cpus") or 1)
    options = BenchOptions(
        levels=[Level(scenario, concurrency, requests)],
        view=view,
        repeat=repeat,
        keepalive=False,
        timeout_s=timeout_s,
        instrument=False,
        command="fab " + " ".join(sys.argv[1:]),
    )
    deadline = Deadline(budget_s)
    summary: dict[str, dict[str, Any]] = {}
    for i, mode in enumerate(modes):
        share = Deadline(max(deadline.left(), 0) / (len(modes) - i))
        result = coordinate_search(
            tune_dims(mode, cpus),
            lambda cfg, m=mode: measure_config(inventory, inv, store, m, cfg, options, base or {}),
            lambda share=share: share.left() > 0,
            start={},
            extra_candidates=[dict(ORIGINAL)],
        )
        default_rps, original_rps = result.rps_of({}), result.rps_of(ORIGINAL)
        summary[mode] = {
            "scenario": scenario,
            "concurrency": concurrency,
            "requests": requests,
            "best": result.best,
            "best_label": config_key(result.best) if result.best is not None else None,
            "best_rps": result.best_rps,
            "default_rps": default_rps,
            "original_rps": original_rps,
            "tried": [
                {
                    "config": t.config,
                    "label": config_key(t.config),
                    "rps": t.rps,
                    "reason": t.reason,
                }
                for t in result.tried
            ],
            "exhausted": result.exhausted,
            "budget_s": round(share.seconds, 1),
            "spent_s": round(share.spent(), 1),
        }
        if result.exhausted:
            _say(f"{mode}: budget spent after {len(result.tried)} configurations")
        store.set_metadata({"tune": {**store.metadata.get("tune", {}), **summary}})
    return summary


def run_tune(
    inventory: str,
    modes: list[str],
    scenario: str,
    concurrency: int,
    requests: int,
    repeat: int,
    view: str,
    budget_s: float,
    results: str,
    base: dict[str, object] | None = None,
) -> Path:
    """`fab tune`: a run folder holding every candidate measured, its tune metadata and
    report; return the folder."""
    store = RunStore(Path(results), new_run_id())
    _say(f"run {store.run_id}: results in {store.run_dir}")
    try:
        tune_modes(
            inventory, modes, scenario, concurrency, requests, repeat, view, budget_s, store, base
        )
    finally:
        report_run(store)
    return store.run_dir


def run_tuned(
    inventory: str,
    modes: list[str],
    options: BenchOptions,
    budget_s: float,
    results: str,
    base: dict[str, object] | None = None,
) -> Path:
    """`fab compare --tuned`: tune each mode (a run of its own, 60% of the budget, at the
    options' first scenario and its highest concurrency), then measure `options` with
    each mode at its best and at the original's settings in one run, and report it."""
    level = max(
        options.levels, key=lambda lv: (lv.scenario == options.levels[0].scenario, lv.concurrency)
    )
    tune_dir = run_tune(
        inventory,
        modes,
        level.scenario,
        level.concurrency,
        level.requests,
        1,
        options.view,
        budget_s * 0.6,
        results,
        base,
    )
    tune = load_run(tune_dir).metadata.get("tune", {})
    store = RunStore(Path(results), new_run_id())
    _say(f"run {store.run_id}: each mode at its best and at the original's settings")
    store.set_metadata({"tuned_from": tune_dir.name, "tune": tune})
    inv = load_inventory(inventory)
    try:
        for mode in modes:
            best = (tune.get(mode) or {}).get("best")
            configs: list[Config] = [ORIGINAL]
            if best is not None and config_key(best) != config_key(ORIGINAL):
                configs.insert(0, best)
            for config in configs:
                measure_config(inventory, inv, store, mode, config, options, base or {})
    finally:
        report_run(store)
    return store.run_dir


def run_search(
    inventory: str,
    modes: list[str],
    scenario: str,
    view: str,
    budget_s: float,
    results: str,
    base: dict[str, object] | None = None,
    start: int = 8,
    cap: int = 1024,
    timeout_s: int = 30,
) -> Path:
    """`fab compare --search`: per mode, concurrency doubled from `start` to `cap`
    (1 repetition, 2 requests per client, at least 50), then log-spaced levels inside the
    crossover's bracket, both modes at each, until the bracket closes or the budget is
    spent. Records metadata["search"] and the report; returns the run folder."""
    inv = load_inventory(inventory)
    store = RunStore(Path(results), new_run_id())
    _say(f"run {store.run_id}: concurrency search for {scenario}, budget {budget_s:.0f}s")
    deadline = Deadline(budget_s)
    points: dict[str, Points] = {m: {} for m in modes}
    state: dict[str, Any] = {"exhausted": False}

    def measure_levels(levels: list[int]) -> bool:
        for mode in modes:
            todo = [c for c in levels if c not in points[mode]]
            if not todo:
                continue
            if deadline.left() <= 0:
                state["exhausted"] = True
                return False
            _say(f"deploying {mode} for c={todo} ...")
            seconds = ansible_playbook("deploy.yml", inventory, {"mode": mode, **(base or {})})
            store.note_deploy(mode, seconds)
            for c in todo:
                if deadline.left() <= 0:
                    state["exhausted"] = True
                    return False
                opts = BenchOptions(
                    levels=[Level(scenario, c, max(2 * c, 50))],
                    view=view,
                    repeat=1,
                    keepalive=False,
                    timeout_s=timeout_s,
                    instrument=False,
                    command="fab " + " ".join(sys.argv[1:]),
                )
                samples = [
                    s for s in Bench(inv, store, opts).run() if not s.extra.get("instrumented")
                ]
                ok = [s for s in samples if usable(s)]
                points[mode][c] = float(ok[0].rps) if ok and ok[0].rps else None
                _say(f"  {mode} c={c}: {points[mode][c]}")
                store.set_metadata({"search": _search_meta(scenario, points, state, deadline)})
        return True

    try:
        if measure_levels(doubling(start, cap)) and len(modes) == 2:
            while (bracket := crossover(points[modes[0]], points[modes[1]])) is not None:
                inside = refine(*bracket)
                if all(c in points[m] for m in modes for c in inside):
                    break  # nothing new between the bracket's ends: it is as narrow as it gets
                if not measure_levels(inside):
                    break
        store.set_metadata({"search": _search_meta(scenario, points, state, deadline)})
    finally:
        report_run(store)
    return store.run_dir


def _search_meta(
    scenario: str, points: dict[str, Points], state: dict[str, Any], deadline: Deadline
) -> dict[str, Any]:
    modes = list(points)
    cross = crossover(points[modes[0]], points[modes[1]]) if len(modes) == 2 else None
    best = {m: best_concurrency(p) for m, p in points.items()}
    return {
        "scenario": scenario,
        "modes": modes,
        "points": {m: {str(c): r for c, r in sorted(p.items())} for m, p in points.items()},
        "best": {m: ({"concurrency": b[0], "rps": b[1]} if b else None) for m, b in best.items()},
        "crossover": list(cross) if cross else None,
        "exhausted": state["exhausted"],
        "budget_s": deadline.seconds,
        "spent_s": round(deadline.spent(), 1),
    }
