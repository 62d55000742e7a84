"""The harness measures itself: load-generator headroom, accuracy against wrk, precision,
the CPU limit, the cost of the main job and scale with two load generators.

Not a test: it prints figures and writes ``benchmarks/latest.json``; it asserts no
times. It runs on stacks of its own (infra/local with its own prefixes, subnets,
Terraform state and state folder under ``--workdir``) and always destroys them.

    .venv/bin/python -m benchmarks.selfbench            # everything, full counts
    .venv/bin/python -m benchmarks.selfbench --quick --items limit,headroom

See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import signal
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import abwrk
from benchmarks.figures import (
    Goal,
    best_cell,
    cells,
    diff_pct,
    judge,
    parse_wrk,
    table,
    under_load_share,
)
from runner import mainjob
from runner.deploy import DeployError, ansible_playbook
from runner.inventory import Inventory, InventoryError, load_inventory
from runner.load import get_load_generator
from runner.load.execute import reparse
from runner.plan import Level, Plan, PlanError, route
from runner.remote import RemoteError, connect
from runner.results import RunStore, RunStoreError, load_run, new_run_id
from runner.session import BenchAbort, Session, git_commit
from runner.stack import ROOT, Stack, StackError
from runner.underload import under_load_s

ITEMS = ("limit", "headroom", "accuracy", "precision", "scale", "switch", "cost")
MODES = ("asgi", "wsgi")
ERRORS = (
    BenchAbort,
    DeployError,
    InventoryError,
    PlanError,
    RemoteError,
    RunStoreError,
    StackError,
    ValueError,
    OSError,
)


@dataclass(frozen=True)
class Sizes:
    """Request counts of each experiment (full, or --quick for a first look)."""

    limit_requests: int = 30
    plain_concurrency: int = 50
    plain_requests: int = 2000
    users_concurrency: int = 5
    users_requests: int = 100
    repeat: int = 5
    accuracy_pairs: int = abwrk.PAIRS
    accuracy_seconds: int = abwrk.SECONDS
    scale_concurrency: int = 10
    scale_requests: int = 100
    scale_repeat: int = 3
    main_preset: str = ""  # the main job's own default preset


QUICK = Sizes(
    limit_requests=8,
    plain_concurrency=10,
    plain_requests=300,
    users_concurrency=2,
    users_requests=10,
    repeat=2,
    accuracy_pairs=2,
    accuracy_seconds=1,
    scale_concurrency=2,
    scale_requests=10,
    scale_repeat=2,
    main_preset="smoke",
)


class Measurer:
    """The experiments on one deployed stack; every figure lands in `self.figures`."""

    def __init__(self, inventory: Inventory, results: Path, sizes: Sizes) -> None:
        self.inv_all = inventory
        self.inv1 = replace(inventory, loadgens=inventory.loadgens[:1])
        self.results = results
        self.sizes = sizes
        self.samples: list[dict[str, Any]] = []
        self.run_ids: list[str] = []
        self.figures: dict[str, Any] = {}

    # -- the runner's own pieces -----------------------------------------------------
    def bench(
        self,
        levels: list[Level],
        repeat: int,
        *,
        keepalive: bool = False,
        instrument: bool = False,
        two_loadgens: bool = False,
        store: RunStore | None = None,
        tag: str = "",
        load: str = "ab",
    ) -> list[dict[str, Any]]:
        """One `fab bench` (runner.session.Session) into its own run folder (or `store`);
        return the samples it stored this time, as dicts tagged with the experiment
        (and, from several load generators, each host's own ab figures)."""
        if store is None:
            store = RunStore(self.results, new_run_id())
            self.run_ids.append(store.run_id)
        plan = Plan(
            levels=tuple(levels),
            repeat=repeat,
            keepalive=keepalive,
            command="benchmarks.selfbench",
            instrument=instrument,
            load=load,
        )
        inv = self.inv_all if two_loadgens else self.inv1
        new = [s.to_dict() for s in Session(plan, inv, store).bench(plan)]
        for sample in new:
            sample["experiment"] = tag
            if len(inv.loadgens) > 1:
                sample["per_host"] = per_host(store.run_dir, sample)
        self.samples += new
        return new

    def wrk(self, mode: str, concurrency: int, seconds: int) -> dict[str, Any]:
        """wrk on the first load generator against the same URL ab used."""
        url = self.inv1.app_url(route("users", "original", mode))
        cmd = f"wrk -t1 -c{concurrency} -d{seconds}s --timeout 30s --latency {shlex.quote(url)}"
        remote = connect(self.inv1.loadgens[0])
        try:
            out = remote.run(cmd, timeout=seconds + 60).stdout
        finally:
            remote.close()
        return {**parse_wrk(out).to_dict(), "command": cmd}

    # -- the experiments -------------------------------------------------------------
    def limit(self, mode: str) -> None:
        """CPU of one users-page request alone (concurrency 1), and the throughput the
        app host's CPUs could give at that cost."""
        level = Level("users", 1, self.sizes.limit_requests)
        got = self.bench([level], 1, instrument=True, tag="limit")
        timed = [s for s in got if s.get("kind") == "timed"]
        counted = [s for s in got if s.get("kind") == "instrumented"]
        cpu_s = timed[0].get("server_cpu_s_per_request") if timed else None
        cpus = int(self.inv1.app.machine_class.get("cpus") or 1)
        self.figures.setdefault("limit", {})[mode] = {
            "path": route("users", "original", mode),
            "app_cpus": cpus,
            "host_cpu_ms_per_request": _r(cpu_s * 1000 if cpu_s else None),
            "app_cpu_ms_per_request": counted[0].get("cpu_ms_per_request") if counted else None,
            "hops_per_request": counted[0].get("hops_per_request") if counted else None,
            "limit_rps": _r(cpus / cpu_s if cpu_s else None),
            "status": timed[0].get("status") if timed else "missing",
        }

    def headroom(self, mode: str) -> None:
        """The plain page from one load generator: what the load side can drive."""
        s = self.sizes
        level = Level("plain", s.plain_concurrency, s.plain_requests)
        self.bench([level], min(s.repeat, 3), tag="headroom")

    def accuracy(self, mode: str) -> None:
        """ab against wrk (benchmarks/abwrk.py): alternating pairs on the users page at
        c=5 with keep-alive, both through the runner, into one run folder per mode."""
        s = self.sizes
        store = RunStore(self.results, new_run_id())
        self.run_ids.append(store.run_id)

        def bench(levels: list[Level], repeat: int, **kw: Any) -> list[dict[str, Any]]:
            return self.bench(levels, repeat, store=store, **kw)

        pairs = abwrk.measure_pairs(bench, s.accuracy_pairs, s.accuracy_seconds, 5)
        self.figures.setdefault("accuracy", {})[mode] = {
            "concurrency": 5,
            "seconds": s.accuracy_seconds,
            **abwrk.summarize(pairs),
        }

    def precision(self, mode: str) -> None:
        """R repetitions of the users page (the runner's defaults: no keep-alive)."""
        s = self.sizes
        level = Level("users", s.users_concurrency, s.users_requests)
        self.bench([level], s.repeat, tag="precision")

    def scale(self, mode: str) -> None:
        """The same users-page level from 1 and from 2 load generators (merged figures)."""
        if len(self.inv_all.loadgens) < 2:
            self.figures.setdefault("scale", {})[mode] = {"error": "the stack has 1 load generator"}
            return
        s = self.sizes
        level = Level("users", s.scale_concurrency, s.scale_requests)
        self.bench([level], s.scale_repeat, tag="scale")
        self.bench([level], s.scale_repeat, two_loadgens=True, tag="scale")
        plain = Level("plain", s.plain_concurrency, s.plain_requests)
        self.bench([plain], min(s.repeat, 3), two_loadgens=True, tag="scale")


def per_host(run_dir: Path, sample: dict[str, Any]) -> list[dict[str, Any]]:
    """Each load generator's own figures of one sample, read again from its raw files."""
    gen = get_load_generator(sample.get("load") or "ab")
    raw = sample.get("raw_files") or []
    hosts = sorted({Path(rel).parent.name for rel in raw})
    return [
        {"host": host, "completed": res.completed, "time_taken_s": res.duration_s, "rps": res.rps}
        for host, res in zip(hosts, reparse(gen, run_dir, raw), strict=True)
    ]


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def wait_quiet(threshold: float, max_wait_s: float, poll_s: float = 30) -> dict[str, Any]:
    """Wait until the 1-minute load average is below `threshold` or `max_wait_s` passed."""
    started = time.monotonic()
    while True:
        load = _loadavg()
        waited = time.monotonic() - started
        if load[0] < threshold or waited >= max_wait_s:
            return {"waited_s": round(waited), "loadavg": load, "quiet": load[0] < threshold}
        print(f"selfbench: load {load[0]:.2f} >= {threshold}; waiting", file=sys.stderr)
        time.sleep(poll_s)


def measure_stack(args: argparse.Namespace, sizes: Sizes, out: dict[str, Any]) -> None:
    """Items 1-4, 6 and the mode switch on the measurement stack (2 load generators)."""
    items = set(args.items)
    stack = Stack(args.prefix, args.subnet, args.workdir / args.prefix, loadgen_count=2)
    figures, errors = out["figures"], out["errors"]
    measurer: Measurer | None = None
    try:
        out["metadata"]["stacks"][args.prefix] = {"apply_s": round(stack.up(), 1)}
        inv = load_inventory(str(stack.inventory))
        out["metadata"]["machine_class"] = inv.app.machine_class
        measurer = Measurer(inv, args.results, sizes)
        deploys: list[dict[str, Any]] = []
        for mode in (*MODES, MODES[0]) if "switch" in items else MODES:
            seconds = ansible_playbook("deploy.yml", str(stack.inventory), {"mode": mode})
            deploys.append({"mode": mode, "seconds": round(seconds, 1)})
            if len(deploys) > len(MODES):
                break  # the last deploy is only a second switch, measured for its time
            for item in ("limit", "headroom", "accuracy", "precision", "scale"):
                if item not in items:
                    continue
                print(f"selfbench: {mode} {item}", file=sys.stderr, flush=True)
                try:
                    getattr(measurer, item)(mode)
                except ERRORS as exc:
                    errors.append(f"{mode} {item}: {exc}")
                    print(f"selfbench: {mode} {item} failed: {exc}", file=sys.stderr)
        figures["deploys"] = deploys
    finally:
        down_started = time.monotonic()
        stack.down()
        destroy_s = round(time.monotonic() - down_started, 1)
        out["metadata"]["stacks"].setdefault(args.prefix, {})["destroy_s"] = destroy_s
        if measurer is not None:
            figures.update(measurer.figures)
            out["cells"] = cells(measurer.samples)
            out["metadata"]["run_ids"] += measurer.run_ids


def main_job(args: argparse.Namespace, sizes: Sizes, out: dict[str, Any]) -> None:
    """Item 5: the main job itself (runner.mainjob, what `make bench` runs: apply, fab
    compare on the default preset, report, destroy) on a stack of our own, timed end to
    end. `make setup`, which `make bench` runs first, is a no-op once installed."""
    folder = args.workdir / args.main_prefix
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    argv = ["--name-prefix", args.main_prefix, "--subnet", args.main_subnet]
    argv += ["--stack-dir", str(folder), "--results", str(args.results)]
    if sizes.main_preset:
        argv += ["--preset", sizes.main_preset]
    before = set(args.results.glob("*")) if args.results.is_dir() else set()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    cost: dict[str, Any] = {
        "preset": sizes.main_preset or "default",
        "command": "python -m runner.mainjob " + shlex.join(argv),
    }
    out["figures"]["cost"] = cost
    print("selfbench: the main job (runner.mainjob)", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        cost["exit"] = mainjob.main(argv)
    finally:
        cost["wall_s"] = round(time.monotonic() - started, 1)
        for sig, handler in handlers.items():  # the main job ignores SIGINT in its teardown
            signal.signal(sig, handler)
        Stack(args.main_prefix, args.main_subnet, folder).clean()  # a backstop, normally a no-op
    if cost["exit"]:
        out["errors"].append(f"the main job exited {cost['exit']}")
    runs = sorted(p for p in set(args.results.glob("*")) - before if (p / "results.json").exists())
    if not runs:
        raise RunStoreError(f"the main job wrote no run under {args.results} (exit {cost['exit']})")
    doc = json.loads((runs[-1] / "results.json").read_text())
    samples = [s.to_dict() for s in load_run(runs[-1]).samples]
    deploys = doc["metadata"].get("deploys") or []
    cost.update(
        run_id=doc["metadata"].get("run_id"),
        under_load_s=round(under_load_s(samples), 1),
        under_load_share=_r(under_load_share(samples, cost["wall_s"])),
        deploys=deploys,
        # Interleaved (side by side): a switch is SIGSTOP/SIGCONT, not a second deploy.
        switch_s=doc["metadata"].get("last_switch_s")
        or (deploys[1]["seconds"] if len(deploys) > 1 else None),
        cells=cells(samples),
    )
    out["metadata"]["run_ids"].append(cost["run_id"])


def goals(out: dict[str, Any]) -> list[Goal]:
    """Each item's figure against its goal (issue 7)."""
    f = out["figures"]
    all_cells = {**out.get("cells", {}), **(f.get("cost") or {}).get("cells", {})}
    result: list[Goal] = []
    plain = best_cell(out.get("cells", {}), experiment="headroom")
    users = best_cell(all_cells, scenario="users", load="ab")
    if plain and users:
        ratio = plain["rps_mean"] / users["rps_mean"]
        f["headroom"] = {
            "plain_cell": plain["cell"],
            "plain_rps": plain["rps_mean"],
            "plain_loadgen_cpu_pct_max": plain["loadgen_cpu_pct_max"],
            "best_users_cell": users["cell"],
            "best_users_rps": users["rps_mean"],
            "ratio": _r(ratio),
        }
        fig = f"{ratio:.1f}x ({plain['rps_mean']:.0f} / {users['rps_mean']:.1f} req/s)"
        result.append(Goal("1 headroom", fig, ">= 10x", judge(ratio, ">= 10")))
    for mode, acc in (f.get("accuracy") or {}).items():
        met = acc.get("within_5pct")
        fig = abwrk.figure_text(acc)
        result.append(Goal(f"2 accuracy {mode}", fig, "95% CI within 1 +- 5%", met))
    for key, cell in sorted(out.get("cells", {}).items()):
        if cell.get("experiment") == "precision" and len(cell["rps"]) >= 2:
            cv = cell["cv_pct"]
            fig = f"CV {cv:.1f}% over {len(cell['rps'])} reps ({key})"
            result.append(Goal(f"3 precision {cell['mode']}", fig, "<= 3%", judge(cv, "<= 3")))
    for mode, lim in (f.get("limit") or {}).items():
        best = best_cell(all_cells, scenario="users", mode=mode, load="ab")
        if lim.get("limit_rps") and best:
            lim["best_rps"] = best["rps_mean"]
            lim["best_cell"] = best["cell"]
            lim["share_of_limit"] = _r(best["rps_mean"] / lim["limit_rps"])
            fig = (
                f"{lim['host_cpu_ms_per_request']:.1f} ms CPU/request -> {lim['limit_rps']:.2f} "
                f"req/s; best {best['rps_mean']:.2f} = {lim['share_of_limit'] * 100:.0f}%"
            )
            result.append(Goal(f"4 limit {mode}", fig, "(figure)", None))
    cost = f.get("cost") or {}
    if cost.get("wall_s") is not None and cost.get("under_load_share") is not None:
        result.append(
            Goal("5 main job wall", f"{cost['wall_s']:.0f} s", "< 600 s", cost["wall_s"] < 600)
        )
        share = cost["under_load_share"] * 100
        result.append(Goal("5 under load", f"{share:.0f}%", "> 50%", judge(share, "> 50")))
    switches = [d["seconds"] for d in (f.get("deploys") or [])[1:]]
    if cost.get("switch_s"):
        switches.append(cost["switch_s"])
    if switches:
        fig = f"{max(switches):.1f} s (max of {', '.join(f'{s:.1f}' for s in switches)})"
        result.append(Goal("5 mode switch", fig, "< 15 s", judge(max(switches), "< 15")))
    scale = {}
    for cell in out.get("cells", {}).values():
        if cell.get("experiment") in ("scale", "headroom") and cell["rps_mean"] is not None:
            key = (cell["mode"], cell["scenario"])
            scale.setdefault(key, {})[cell["loadgens"]] = cell
    f["scale"] = {}
    for (mode, scenario), by_lg in sorted(scale.items()):
        if 1 in by_lg and 2 in by_lg:
            one, two = by_lg[1], by_lg[2]
            f["scale"][f"{mode}/{scenario}"] = {
                "lg1_rps": one["rps_mean"],
                "lg2_merged_rps": two["rps_mean"],
                "lg1_cv_pct": one["cv_pct"],
                "lg2_cv_pct": two["cv_pct"],
                "lg1_loadgen_cpu_pct_max": one["loadgen_cpu_pct_max"],
                "lg2_loadgen_cpu_pct_max": two["loadgen_cpu_pct_max"],
                "lg2_span_ratio_min": two.get("span_ratio_min"),
                "diff_pct": _r(diff_pct(two["rps_mean"], one["rps_mean"])),
            }
            span = two.get("span_ratio_min")
            fig = (
                f"1 lg {one['rps_mean']:.1f}, 2 lg {two['rps_mean']:.1f} req/s merged "
                f"({diff_pct(two['rps_mean'], one['rps_mean']):+.1f}%)"
                + (f"; hosts' spans within {(1 - span) * 100:.0f}%" if span else "")
            )
            result.append(Goal(f"6 scale {mode} {scenario}", fig, "(figure)", None))
    return result


def save(out: dict[str, Any], path: Path) -> list[Goal]:
    """Judge the goals and write the figures atomically; return the goals."""
    result = goals(out)
    out["goals"] = [g.to_dict() for g in result]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(out, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(path)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; every option has a default that needs no other stack."""
    p = argparse.ArgumentParser(prog="selfbench", description=__doc__.splitlines()[0])
    p.add_argument("--items", default=",".join(ITEMS), help=f"comma list of {', '.join(ITEMS)}")
    p.add_argument("--quick", action="store_true", help="tiny counts, to check the script")
    p.add_argument("--workdir", type=Path, default=Path("/root/f7"), help="state (made 0700)")
    p.add_argument(
        "--results", type=Path, default=None, help="run folders (default WORKDIR/results)"
    )
    p.add_argument("--prefix", default="abwb2", help="measurement stack (2 load generators)")
    p.add_argument("--subnet", default="198.19.71.0/24")
    p.add_argument("--main-prefix", default="abwb", help="stack of the timed main-job flow")
    p.add_argument("--main-subnet", default="198.19.70.0/24")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "latest.json")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the 1-minute load to drop below --quiet-load",
    )
    p.add_argument("--quiet-load", type=float, default=1.0)
    args = p.parse_args(argv)  # fmt: skip
    args.items = [i.strip() for i in args.items.split(",") if i.strip()]
    unknown = [i for i in args.items if i not in ITEMS]
    if unknown:
        p.error(f"unknown item {unknown[0]!r}: choose from {', '.join(ITEMS)}")
    if os.geteuid() != 0:
        p.error("local stacks need root (namespaces, cgroups, sshd): run as root")
    args.results = args.results or args.workdir / "results"
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure, write latest.json, print the table; 0 when every item was measured."""
    args = parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    args.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(args.workdir, 0o700)
    quiet = wait_quiet(args.quiet_load, args.wait_quiet) if args.wait_quiet else None
    out: dict[str, Any] = {
        "schema": 1,
        "metadata": {
            "command": "python -m benchmarks.selfbench " + shlex.join(argv or sys.argv[1:]),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "loadavg_start": _loadavg(),
            "wait_quiet": quiet,
            "commit": git_commit(),
            "machine": {"cpu_model": _cpu_model(), "cpus": os.cpu_count()},
            "items": args.items,
            "quick": args.quick,
            "sizes": sizes.__dict__,
            "stacks": {},
            "run_ids": [],
        },
        "figures": {},
        "errors": [],
    }
    code = 0
    try:
        if set(args.items) - {"cost"}:
            try:
                measure_stack(args, sizes, out)
            finally:
                save(out, args.out)  # what was measured survives a failure of what follows
        if "cost" in args.items:
            main_job(args, sizes, out)
    except KeyboardInterrupt:
        out["errors"].append("interrupted")
        code = 130
    except ERRORS as exc:
        out["errors"].append(str(exc))
        print(f"selfbench: {exc}", file=sys.stderr)
        code = 1
    out["metadata"]["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    out["metadata"]["loadavg_end"] = _loadavg()
    result = save(out, args.out)
    print(table(result))
    for error in out["errors"]:
        print(f"error: {error}")
    print(f"figures: {args.out}")
    return code or (1 if out["errors"] else 0)


if __name__ == "__main__":
    sys.exit(main())
