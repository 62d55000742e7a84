"""The runner's Fabric tasks: `fab bench`, `fab compare`, `fab report`.

`fab --list` is the menu and `fab --help TASK` each task's manual.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from fabric import task
from invoke import Collection
from invoke.exceptions import Exit

from runner.load import LOAD_GENERATORS
from runner.openloop import summary_text as open_loop_summary
from runner.plan import PRESETS, PlanError, PlanOptions, build_plan, parse_deploy_vars
from runner.policies.sweep import parse_sweep
from runner.preflight import require_for_inventory
from runner.report import build_report, summary_table
from runner.results import RunStoreError, load_run
from runner.runs import FAILURES, run_plan

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
    "load": f"load generator: {', '.join(LOAD_GENERATORS)} (default ab)",
    "rate": "open loop (--load open): offered requests/s, an increasing comma list, e.g. "
    "50,100,200 (split across the load generators)",
    "cross_check": "a second opinion: one level per scenario (one) or every level (all) "
    "measured once more with wrk, shown beside ab in the report (default none)",
    "max_steal": "a repetition is disturbed (invalid; interleaved: its pair measured "
    "again) above this CPU steal, percent of its window (default 2)",
    "max_outside": "... or above this much other work on the app host's CPUs, percent of "
    "one CPU (default 5)",
    "duration": "seconds per repetition, above 0 and at most 3600 (default 10 unless the "
    "preset counts requests; wrk: 5; open: 20); ab -t D with the request count as a cap; "
    "--requests N without --duration: count-based",
}


@task(help=BENCH_HELP)
def bench(  # size: an Invoke task: one parameter per command-line option
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
    load="ab",
    duration="",
    rate="",
    cross_check="",
    max_steal=2.0,
    max_outside=5.0,
):
    """Measure the deployed app from the load-generator host(s) (ApacheBench by default)."""
    opts = PlanOptions(**_bench_options(locals()))
    run_dir = _carry_out("fab bench", opts, report=False)
    run = load_run(run_dir)
    print(summary_table([run]))
    if open_loop := open_loop_summary(run.samples):
        print(f"\nopen loop (k6):\n{open_loop}")


def _bench_options(values: dict[str, Any]) -> dict[str, Any]:
    """The PlanOptions fields among a task's parameters (by name)."""
    names = set(PlanOptions.__dataclass_fields__)
    return {k: v for k, v in values.items() if k in names}


def _carry_out(name: str, opts: PlanOptions, report: bool = True) -> Path:
    """Build the plan and carry it out; every expected failure is one line and exit 1,
    an interrupt exit 130 (completed samples are kept either way)."""
    try:
        plan = build_plan(opts)
        require_for_inventory(opts.inventory)
        return run_plan(plan, report=report)
    except FAILURES as exc:
        raise Exit(f"{name}: {exc}", code=1) from None
    except KeyboardInterrupt:
        raise Exit(f"{name}: interrupted; completed samples are kept", code=130) from None


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
        "budget": "seconds --search, --tuned or --slo may spend (default 600)",
        "stacks": "AWS: N fresh stacks in turn (terraform apply, compare, destroy), and the "
        "spread of the ASGI/WSGI ratio across them (results/stacks-<id>/stacks.md); "
        "the infra/aws variables come from TF_VAR_* / terraform.tfvars; --inventory is unused",
        "stack_minutes": "AWS --stacks: the planned compare time per stack, checked against "
        "--ttl-minutes before anything is created (default 60)",
        "ttl_minutes": "AWS --stacks: each stack's TTL in minutes (default 180)",
        "prefix": "AWS --stacks: name prefix of the stacks (<prefix>s1, <prefix>s2...; "
        "default abw)",
        "django": "version matrix: comma list of Django series, e.g. 5.2,6.1 (each with a "
        "committed lock; docs/MATRIX.md); measures the product with --python",
        "python": "version matrix: comma list of the app host's Python, e.g. 3.11,3.12 "
        "(this machine's pyenv interpreters); unsupported combinations are skipped",
        "slo": "open loop: per mode, the capacity at this latency target, e.g. p99=250ms or "
        "p99.9=1s (--load open; --rate is where the search starts, default 50)",
        "repeat": "repetitions (pairs, interleaved) per level, or auto: at least 3 pairs, "
        "then more until the ratio's 95% CI is within --precision points",
        "interleave": "deploy both modes side by side and alternate them ABBA within each "
        "level (paired verdicts)",
        "precision": "--repeat auto's target half-width of the ratio's CI in points (default 5)",
        "max_pairs": "--repeat auto's cap of pairs per level (default 20)",
        "project": "a project file (TOML, docs/PROJECT.md): bench your Django project's URLs "
        "instead of the built-in app (--scenario then picks URL names)",
        "project_url": "name=/path: one more URL of the project to measure (repeatable)",
    },
    iterable=["project_url"],
)
def compare(  # size: an Invoke task: one parameter per command-line option
    c,
    inventory=DEFAULT_INVENTORY,
    modes="asgi,wsgi",
    scenario="",
    view="original",
    concurrency="",
    requests="",
    repeat="0",
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
    load="ab",
    duration="",
    stacks=0,
    stack_minutes=60,
    ttl_minutes=180,
    prefix="abw",
    django="",
    python="",
    rate="",
    slo="",
    interleave=False,
    precision=5.0,
    max_pairs=20,
    project="",
    project_url=None,
    cross_check="",
    max_steal=2.0,
    max_outside=5.0,
):
    """Deploy each mode (and each serving config swept) in turn, bench it into one run,
    and write the report. With --stacks N (AWS): the same on N fresh stacks in turn.
    With --interleave (or --repeat auto): both modes side by side, alternated in pairs
    within each level."""
    try:
        if search and tuned:
            raise PlanError("--search and --tuned are separate runs: pass one of them")
        auto_repeat = str(repeat).strip() == "auto"
        if not auto_repeat and not str(repeat).strip().isdigit():
            raise PlanError(f"--repeat must be a whole number or auto, not {repeat!r}")
        repeat = 0 if auto_repeat else int(repeat)
        sweep = parse_sweep(middleware, loop, workers, blocking_threads, backpressure)
        fixed = parse_deploy_vars(serving_preset, deploy_vars)
        policy = "search" if search else "tuned" if tuned else "capacity" if slo else "levels"
        values = {**locals(), "deploy_vars": fixed, "sweep": sweep, "policy": policy}
        values["project_urls"] = tuple(project_url or ())
        opts = PlanOptions(**_bench_options(values))
        plan = build_plan(opts) if stacks else None
    except PlanError as exc:
        raise Exit(f"fab compare: {exc}", code=1) from None
    if plan is not None:
        from runner.tasks_aws import compare_on_stacks

        compare_on_stacks(
            int(stacks),
            int(stack_minutes),
            int(ttl_minutes),
            prefix,
            results,
            lambda inv: run_plan(replace(plan, inventory=str(inv))),
        )
        return
    run_dir = _carry_out("fab compare", opts)
    print(f"report: {run_dir / 'report.md'}")


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
def tune(  # size: an Invoke task: one parameter per command-line option
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
    load="ab",
):
    """Find each mode's best serving config (workers, blocking threads, loop, backpressure)
    at zero errors, by a coordinate search within --budget seconds."""
    try:
        fixed = parse_deploy_vars("", deploy_vars)
        n = requests or max(4 * int(concurrency), 100)
    except (PlanError, ValueError) as exc:
        raise Exit(f"fab tune: {exc}", code=1) from None
    values = {**locals(), "deploy_vars": fixed, "policy": "tune", "instrument": False}
    values.update(concurrency=str(concurrency), requests=str(n))
    run_dir = _carry_out("fab tune", PlanOptions(**_bench_options(values)))
    tuned = load_run(run_dir).metadata.get("tune", {})
    for mode, t in tuned.items():
        spent = " (budget spent before every candidate was tried)" if t.get("exhausted") else ""
        print(f"{mode}: best {t.get('best_label')} at {t.get('best_rps') or 0:.1f} req/s{spent}")
    print(f"report: {run_dir / 'report.md'}")


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
