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
from runner.report import build_report, summary_table
from runner.results import RunStore, RunStoreError, load_run, new_run_id

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
):
    """Measure the deployed app with ApacheBench from the load-generator host(s)."""
    try:
        options = _options(
            scenario, view, concurrency, requests, repeat, keepalive, preset, timeout
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
        "workers": "Granian workers (default: one per CPU of the app host)",
        "blocking_threads": "Granian blocking threads (WSGI only may go above 1)",
        "serving_preset": "serving preset, e.g. original (4 workers, 6 blocking threads)",
        "deploy_vars": "extra deploy variables as k=v,k=v (e.g. debug=true,loop=uvloop)",
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
    workers=0,
    blocking_threads=0,
    serving_preset="",
    deploy_vars="",
):
    """Deploy each mode in turn, bench it into one run, and write the report."""
    try:
        run_dir = run_compare(
            inventory,
            modes,
            _options(scenario, view, concurrency, requests, repeat, keepalive, preset, timeout),
            results=results,
            resume=resume,
            deploy_extra=_deploy_vars(workers, blocking_threads, serving_preset, deploy_vars),
        )
    except (*FAILURES, DeployError) as exc:
        raise Exit(f"fab compare: {exc}", code=1) from None
    except KeyboardInterrupt:
        raise Exit("fab compare: interrupted; completed samples are kept", code=130) from None
    print(f"report: {run_dir / 'report.md'}")


def _deploy_vars(workers: int, blocking_threads: int, preset: str, extra: str) -> dict[str, object]:
    out: dict[str, object] = {}
    if workers:
        out["workers"] = workers
    if blocking_threads:
        out["blocking_threads"] = blocking_threads
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
) -> Path:
    """Deploy and bench each mode into one run folder; write its report; return the folder."""
    mode_list = [m.strip() for m in modes.split(",") if m.strip()]
    for mode in mode_list:
        if mode not in MODES:
            raise PlanError(f"unknown mode {mode!r}: choose from {', '.join(MODES)}")
    inv = load_inventory(inventory)
    store = _store(results, resume)
    print(f"run {store.run_id}: results in {store.run_dir}", file=sys.stderr)
    try:
        for mode in mode_list:
            print(f"deploying {mode} ...", file=sys.stderr, flush=True)
            seconds = ansible_playbook(
                "deploy.yml", inventory, {"mode": mode, **(deploy_extra or {})}
            )
            store.note_deploy(mode, seconds)
            Bench(inv, store, options).run()
    finally:
        if store.has_samples():
            build_report([load_run(store.run_dir)], store.run_dir)
            print(summary_table([load_run(store.run_dir)]))
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


def _newest_run(root: Path) -> str:
    runs = sorted(p.name for p in root.glob("*") if (p / "results.json").exists())
    if not runs:
        raise RunStoreError(f"no runs under {root}/: run `fab bench` first")
    return runs[-1]


namespace = Collection(bench, compare, report)
try:  # the cloud tasks, when their module is present
    from runner import tasks_aws

    namespace.add_task(tasks_aws.aws_specs)
    namespace.add_task(tasks_aws.aws_reap)
except ImportError:  # pragma: no cover
    pass
