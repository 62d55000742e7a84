"""The runner's Fabric tasks: `fab bench`, `fab compare`, `fab report`.

`fab --list` is the menu and `fab --help TASK` each task's manual.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from fabric import task
from invoke import Collection
from invoke.exceptions import Exit

from runner.bench import Bench, BenchAbort, BenchOptions
from runner.deploy import DeployError, ansible_playbook
from runner.inventory import InventoryError, load_inventory
from runner.netsafety import UnsafeTargetError
from runner.plan import MODES, PRESETS, PlanError, build_levels, check_view
from runner.remote import RemoteError
from runner.report import build_report, report_run, summary_table
from runner.results import RunStore, RunStoreError, load_run, new_run_id
from runner.sweep import Sweep, deployments, parse_sweep
from runner.tune import run_search, run_tune, run_tuned

DEFAULT_INVENTORY = "inventory/local.yml"

BENCH_HELP = {
    "inventory": f"Ansible inventory with groups app and loadgen (default {DEFAULT_INVENTORY})",
    "scenario": "comma list of users, io, plain (default: the preset's)",
    "view": "original (ASGI->/async/, WSGI->/sync/), sync, async or async-wrapped",
    "concurrency": "comma list of concurrency levels, e.g. 5,80",
    "requests": "requests per repetition: one value, or one per concurrency level",
    "repeat": "repetitions per level (default: the preset's; 3 unless --preset original)",
    "keepalive": "reuse connections (ab -k)",
    "preset": f"one of {', '.join(PRESETS)}: {'; '.join(p.description for p in PRESETS.values())}",
    "results": "folder for results/<run-id>/ (default results)",
    "resume": "a run id to continue: measures only what that run is missing",
    "timeout": "ab's per-request timeout in seconds (-s; default 30, as ab's own)",
    "instrument": "after each level, a separate sequential pass that asks the app for its "
    "thread hops and CPU per request (default on; --no-instrument skips it)",
}


def _options(
    scenario: str,
    view: str,
    concurrency: str,
    requests: str,
    repeat: int,
    keepalive: bool,
    preset: str,
    timeout: int,
    instrument: bool = True,
) -> BenchOptions:
    """Check every option before any host is touched."""
    check_view(view)
    _, levels = build_levels(scenario, concurrency, requests, preset)
    reps = repeat if repeat else PRESETS[preset or "default"].repeat
    if reps < 1:
        raise PlanError(f"--repeat must be at least 1, not {reps}")
    if timeout < 1:
        raise PlanError(f"--timeout must be at least 1 second, not {timeout}")
    return BenchOptions(
        levels=levels,
        view=view,
        repeat=reps,
        keepalive=keepalive,
        timeout_s=timeout,
        command="fab " + shlex.join(sys.argv[1:]),
        instrument=instrument,
    )


def _store(results: str, resume: str) -> RunStore:
    """A new run folder, or the one to resume."""
    if resume:
        if not (Path(results) / resume).is_dir():
            raise RunStoreError(
                f"no run {resume} under {results}/: check the run id (ls {results})"
            )
        return RunStore(Path(results), resume)
    return RunStore(Path(results), new_run_id())


def run_bench(inventory: str, store: RunStore, options: BenchOptions) -> None:
    """Measure what is deployed into `store`; a BenchAbort or RemoteError stops the run."""
    inv = load_inventory(inventory)
    Bench(inv, store, options).run()


FAILURES = (PlanError, InventoryError, RunStoreError, UnsafeTargetError, RemoteError, BenchAbort)


@task(help=BENCH_HELP)
def bench(
    c,
    inventory=DEFAULT_INVENTORY,
    scenario="",
    view="original",
    concurrency="",
    requests="",
    repeat=0,
    keepalive=False,
    preset="",
    results="results",
    resume="",
    timeout=30,
    instrument=True,
):
    """Measure the deployed app with ApacheBench from the load-generator host(s)."""
    try:
        options = _options(
            scenario, view, concurrency, requests, repeat, keepalive, preset, timeout, instrument
        )
        inv = load_inventory(inventory)
        store = _store(results, resume)
        print(f"run {store.run_id}: results in {store.run_dir}", file=sys.stderr)
        Bench(inv, store, options).run()
    except FAILURES as exc:
        raise Exit(f"fab bench: {exc}", code=1) from None
    except KeyboardInterrupt:
        raise Exit("fab bench: interrupted; completed samples are kept", code=130) from None
    print(summary_table([load_run(store.run_dir)]))


@task(
    help={
        **BENCH_HELP,
        "modes": "comma list of modes to deploy and bench in turn (default asgi,wsgi)",
        "workers": "Granian workers, a comma list to sweep (default: one per CPU of the app host)",
        "blocking_threads": "Granian blocking threads, a comma list (above 1: WSGI only)",
        "backpressure": "Granian backpressure per worker, a comma list (default Granian's)",
        "middleware": "middleware stacks to sweep: comma list of stock, minimal, async",
        "loop": "ASGI event loops to sweep: comma list of asyncio, uvloop (auto, rloop)",
        "serving_preset": "serving preset, e.g. original (4 workers, 6 blocking threads)",
        "deploy_vars": "extra deploy variables as k=v,k=v (e.g. debug=true)",
        "search": "concurrency search instead of levels: the io crossover and each mode's "
        "best zero-error concurrency (scenario from --scenario, default io; --concurrency "
        "START,CAP bounds the doubling, default 8,1024)",
        "tuned": "compare each mode at its best serving config (found by fab tune within "
        "--budget) and at the original's settings (serving preset original)",
        "budget": "seconds --search or --tuned may spend (default 600)",
        "stacks": "AWS: N fresh stacks in turn (terraform apply, compare, destroy), and the "
        "spread of the ASGI/WSGI ratio across them (results/stacks-<id>/stacks.md); "
        "the infra/aws variables come from TF_VAR_* / terraform.tfvars; --inventory is unused",
        "stack_minutes": "AWS --stacks: the planned compare time per stack, checked against "
        "--ttl-minutes before anything is created (default 60)",
        "ttl_minutes": "AWS --stacks: each stack's TTL in minutes (default 180)",
        "prefix": "AWS --stacks: name prefix of the stacks (<prefix>s1, <prefix>s2...; "
        "default abw)",
    }
)
def compare(
    c,
    inventory=DEFAULT_INVENTORY,
    modes="asgi,wsgi",
    scenario="",
    view="original",
    concurrency="",
    requests="",
    repeat=0,
    keepalive=False,
    preset="",
    results="results",
    resume="",
    timeout=30,
    instrument=True,
    workers="",
    blocking_threads="",
    backpressure="",
    middleware="",
    loop="",
    serving_preset="",
    deploy_vars="",
    search=False,
    tuned=False,
    budget=600,
    stacks=0,
    stack_minutes=60,
    ttl_minutes=180,
    prefix="abw",
):
    """Deploy each mode (and each serving config swept) in turn, bench it into one run,
    and write the report. With --stacks N (AWS): the same on N fresh stacks in turn."""
    if stacks:
        from runner.tasks_aws import compare_on_stacks

        options = _options(
            scenario, view, concurrency, requests, repeat, keepalive, preset, timeout, instrument
        )
        sweep = parse_sweep(middleware, loop, workers, blocking_threads, backpressure)
        extra = _deploy_vars(serving_preset, deploy_vars)
        compare_on_stacks(
            int(stacks),
            int(stack_minutes),
            int(ttl_minutes),
            prefix,
            results,
            lambda inv: run_compare(
                str(inv), modes, options, results=results, deploy_extra=extra, sweep=sweep
            ),
        )
        return
    try:
        sweep = parse_sweep(middleware, loop, workers, blocking_threads, backpressure)
        extra = _deploy_vars(serving_preset, deploy_vars)
        if search and tuned:
            raise PlanError("--search and --tuned are separate runs: pass one of them")
        if (search or tuned) and budget < 1:
            raise PlanError(f"--budget must be at least 1 second, not {budget}")
        if search:
            if "," in (scenario or "io"):
                raise PlanError("--search takes one --scenario (default io)")
            build_levels(scenario or "io", "", "", "")  # checks the scenario's name
            bounds = [int(v) for v in concurrency.split(",")] if concurrency else [8, 1024]
            if len(bounds) != 2 or not 1 <= bounds[0] <= bounds[1]:
                raise PlanError("--search takes --concurrency START,CAP (e.g. 8,1024)")
            run_dir = run_search(
                inventory,
                mode_list_of(modes),
                scenario or "io",
                check_view(view),
                budget,
                results,
                extra,
                start=bounds[0],
                cap=bounds[1],
                timeout_s=timeout,
            )
            print(f"report: {run_dir / 'report.md'}")
            return
        options = _options(
            scenario, view, concurrency, requests, repeat, keepalive, preset, timeout, instrument
        )
        if tuned:
            run_dir = run_tuned(inventory, mode_list_of(modes), options, budget, results, extra)
            print(f"report: {run_dir / 'report.md'}")
            return
        run_dir = run_compare(
            inventory,
            modes,
            options,
            results=results,
            resume=resume,
            deploy_extra=extra,
            sweep=sweep,
        )
    except (*FAILURES, DeployError) as exc:
        raise Exit(f"fab compare: {exc}", code=1) from None
    except KeyboardInterrupt:
        raise Exit("fab compare: interrupted; completed samples are kept", code=130) from None
    print(f"report: {run_dir / 'report.md'}")


def _deploy_vars(preset: str, extra: str) -> dict[str, object]:
    out: dict[str, object] = {}
    if preset:
        out["serving_preset"] = preset
    for pair in filter(None, (p.strip() for p in extra.split(","))):
        if "=" not in pair:
            raise PlanError(f"--deploy-vars takes k=v pairs separated by commas, not {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def run_compare(
    inventory: str,
    modes: str,
    options: BenchOptions,
    results: str = "results",
    resume: str = "",
    deploy_extra: dict[str, object] | None = None,
    sweep: Sweep | None = None,
) -> Path:
    """Deploy and bench each mode (times each serving config of `sweep`) into one run
    folder; write its report; return the folder."""
    plan, notes = deployments(mode_list_of(modes), sweep or Sweep(), deploy_extra)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    inv = load_inventory(inventory)
    store = _store(results, resume)
    print(f"run {store.run_id}: results in {store.run_dir}", file=sys.stderr)
    try:
        for i, (mode, extra) in enumerate(plan, 1):
            label = " ".join(f"{k}={v}" for k, v in extra.items())
            print(f"deploying {mode} {label} ({i}/{len(plan)}) ...", file=sys.stderr, flush=True)
            seconds = ansible_playbook("deploy.yml", inventory, {"mode": mode, **extra})
            store.note_deploy(mode, seconds)
            Bench(inv, store, options).run()
    finally:
        run = report_run(store)
        if run is not None:
            print(summary_table([run]))
    return store.run_dir


@task(
    help={
        "run": "run id(s), comma separated (default: the newest run)",
        "results": "folder holding the runs (default results)",
        "out": "folder for report.md and plots (default: the run's own folder)",
    }
)
def report(c, run="", results="results", out=""):
    """Turn one or more runs into report.md with tables, plots and a verdict per cell."""
    root = Path(results)
    try:
        ids = [r for r in run.split(",") if r] or [_newest_run(root)]
        runs = [load_run(root / rid) for rid in ids]
        target = Path(out) if out else root / ids[0]
        path = build_report(runs, target)
    except (RunStoreError, FileNotFoundError) as exc:
        raise Exit(f"fab report: {exc}", code=1) from None
    print(summary_table(runs))
    print(f"report: {path}")


@task(
    help={
        "inventory": BENCH_HELP["inventory"],
        "modes": "comma list of modes to tune (default asgi,wsgi)",
        "scenario": "the one scenario to tune for (default io)",
        "view": BENCH_HELP["view"],
        "concurrency": "the one concurrency level each configuration is measured at (default 100)",
        "requests": "requests per measurement (default 4 x concurrency, at least 100)",
        "repeat": "repetitions per configuration (default 1)",
        "budget": "seconds the whole search may take (default 600); it stops when spent",
        "results": BENCH_HELP["results"],
        "deploy_vars": "fixed deploy variables as k=v,k=v (e.g. middleware=minimal)",
    }
)
def tune(
    c,
    inventory=DEFAULT_INVENTORY,
    modes="asgi,wsgi",
    scenario="io",
    view="original",
    concurrency=100,
    requests=0,
    repeat=1,
    budget=600,
    results="results",
    deploy_vars="",
):
    """Find each mode's best serving config (workers, blocking threads, loop, backpressure)
    at zero errors, by a coordinate search within --budget seconds."""
    try:
        check_view(view)
        n = requests or max(4 * concurrency, 100)
        _, levels = build_levels(scenario, str(concurrency), str(n), "")
        if len(levels) != 1:
            raise PlanError("fab tune takes one --scenario and one --concurrency")
        if repeat < 1 or budget < 1:
            raise PlanError("--repeat and --budget must be at least 1")
        run_dir = run_tune(
            inventory,
            mode_list_of(modes),
            scenario,
            concurrency,
            n,
            repeat,
            view,
            budget,
            results,
            _deploy_vars("", deploy_vars),
        )
    except (*FAILURES, DeployError) as exc:
        raise Exit(f"fab tune: {exc}", code=1) from None
    except KeyboardInterrupt:
        raise Exit("fab tune: interrupted; completed samples are kept", code=130) from None
    tuned = load_run(run_dir).metadata.get("tune", {})
    for mode, t in tuned.items():
        spent = " (budget spent before every candidate was tried)" if t.get("exhausted") else ""
        print(f"{mode}: best {t.get('best_label')} at {t.get('best_rps') or 0:.1f} req/s{spent}")
    print(f"report: {run_dir / 'report.md'}")


def mode_list_of(modes: str) -> list[str]:
    """The --modes comma list, each checked."""
    out = [m.strip() for m in modes.split(",") if m.strip()]
    if not out:
        raise PlanError("--modes is empty: pass asgi, wsgi or asgi,wsgi")
    for mode in out:
        if mode not in MODES:
            raise PlanError(f"unknown mode {mode!r}: choose from {', '.join(MODES)}")
    return out


def _newest_run(root: Path) -> str:
    runs = sorted(p.name for p in root.glob("*") if (p / "results.json").exists())
    if not runs:
        raise RunStoreError(f"no runs under {root}/: run `fab bench` first")
    return runs[-1]


namespace = Collection(bench, compare, report, tune)
try:  # the cloud tasks, when their module is present
    from runner import tasks_aws

    namespace.add_task(tasks_aws.aws_specs)
    namespace.add_task(tasks_aws.aws_reap)
    namespace.add_task(tasks_aws.aws_ami)
except ImportError:  # pragma: no cover
    pass
