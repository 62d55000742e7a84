"""The README's main command (`make bench`): local hosts up, both modes deployed and
benched in turn, the report written, and the hosts destroyed whatever happened."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from runner.deploy import DeployError
from runner.plan import Plan, PlanOptions, build_plan
from runner.preflight import PreflightError, require, state_dir_for, unfit_for_keys
from runner.results import load_run
from runner.runs import FAILURES, run_plan
from runner.stack import Stack, StackError
from runner.stagelines import ansible_error
from runner.underload import summary_line

ROOT = Path(__file__).resolve().parent.parent
CAPACITY_SLO = "p99=250ms"
CAPACITY_STEPS = 4  # per mode: the main job stays within its 10 minutes
CAPACITY_BUDGET_S = 240


def _preflight(stack: Stack) -> bool:
    """What the machine lacks, one line each, before any work; where the keys go when the
    checkout's folder cannot hold them. False when the main job cannot run."""
    try:
        require("bench", stack.name)
        unfit = unfit_for_keys(stack.workdir) if stack.workdir else None
        if unfit:
            raise PreflightError(
                f"--stack-dir {stack.workdir} cannot hold the stack's keys ({unfit}; sshd's "
                "StrictModes would refuse them): choose a private folder (mode 0700)"
            )
        if not stack.workdir:
            state_dir, note = state_dir_for(stack.name)
            if note:  # the checkout's folder cannot hold the keys: the user's private one
                stack.state_dir = state_dir
                print(f"make bench: {note}", file=sys.stderr)
    except PreflightError as exc:
        for line in str(exc).splitlines():
            print(f"make bench: {line}", file=sys.stderr)
        return False
    return True


def best_closed_loop(run_dir: Path, scenario: str) -> dict[str, float]:
    """Each mode's best valid closed-loop requests/s for `scenario` in the run (the mean
    over the repetitions of its best concurrency): where its capacity search starts."""
    import statistics

    from runner.results import load_run

    by_level: dict[tuple[str, int], list[float]] = {}
    for s in load_run(run_dir).samples:
        if s.kind == "timed" and s.scenario == scenario and s.status == "ok" and s.rps:
            by_level.setdefault((s.mode, s.concurrency), []).append(s.rps)
    best: dict[str, float] = {}
    for (mode, _), values in by_level.items():
        best[mode] = max(best.get(mode, 0.0), statistics.fmean(values))
    return {m: round(r, 1) for m, r in best.items()}


def capacity_plan(plan: Plan, run_dir: Path, slo: str) -> Plan:
    """The io scenario's capacity at `slo` per mode, into the same run: each search
    starts from the mode's best closed-loop rate and takes at most CAPACITY_STEPS steps."""
    starts = best_closed_loop(run_dir, "io")
    capacity = build_plan(
        PlanOptions(
            scenario="io",
            load="open",
            slo=slo,
            rate=str(min(starts.values(), default=50.0)),
            duration=5,
            policy="capacity",
            modes="asgi,wsgi",
            budget=CAPACITY_BUDGET_S,
            inventory=plan.inventory,
            results=plan.results,
            resume=run_dir.name,
        )
    )
    return replace(capacity, capacity_starts=tuple(starts.items()), capacity_steps=CAPACITY_STEPS)


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--preset", default="", help="runner preset (default, original, smoke)")
    parser.add_argument("--scenario", default="", help="comma list of users, io, plain")
    parser.add_argument("--concurrency", default="")
    parser.add_argument("--requests", default="")
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--django", default="", help="version matrix: Django series, e.g. 5.2,6.1")
    parser.add_argument("--python", default="", help="version matrix: Python, e.g. 3.11,3.12")
    parser.add_argument(
        "--slo",
        default=CAPACITY_SLO,
        help=f"the io scenario's open-loop capacity at this target, per mode, after the "
        f"closed-loop runs (default {CAPACITY_SLO}; '' skips it)",
    )
    parser.add_argument(
        "--cross-check",
        default="one",
        help="wrk beside ab: one level per scenario (one, the default), all, or none",
    )
    parser.add_argument("--max-steal", type=float, default=2.0, help="percent of a window")
    parser.add_argument("--max-outside", type=float, default=5.0, help="percent of one CPU")
    parser.add_argument("--keep-hosts", action="store_true", help="do not destroy (debugging)")
    parser.add_argument("--project", default="", help="a project file: bench your Django project")
    parser.add_argument(
        "--project-url", action="append", default=[], help="name=/path: one more project URL"
    )
    parser.add_argument("--name-prefix", default="", help="hosts' name prefix (default abw)")
    parser.add_argument("--subnet", default="", help="hosts' subnet (default 198.18.0.0/24)")
    parser.add_argument(
        "--stack-dir",
        default="",
        help="a private folder (mode 0700) for this stack's Terraform state, keys and "
        "inventory (default: infra/local's own state and inventory/local.yml)",
    )
    return parser


def _plan(args: argparse.Namespace, stack: Stack) -> Plan:
    """The main job's comparison of both modes, from its command line."""
    return build_plan(
        PlanOptions(
            scenario=args.scenario,
            concurrency=args.concurrency,
            requests=args.requests,
            repeat=args.repeat,
            preset=args.preset,
            modes="asgi,wsgi",
            django=args.django,
            python=args.python,
            inventory=str(stack.inventory),
            results=args.results,
            project=args.project,
            project_urls=tuple(args.project_url),
            cross_check=args.cross_check,
            max_steal=args.max_steal,
            max_outside=args.max_outside,
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Apply, compare, report, destroy; the exit code says whether everything ran."""
    args = _parser().parse_args(argv)
    workdir = Path(args.stack_dir) if args.stack_dir else None
    stack = Stack(args.name_prefix, args.subnet, workdir, stream=True)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    if not _preflight(stack):
        return 2
    try:
        plan = _plan(args, stack)
    except FAILURES as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 2
    code, run_dir, started = 0, None, time.monotonic()
    try:
        stack.up(sweep_first=False)
        run_dir = run_plan(plan)
        if args.slo and any(lv.scenario == "io" for lv in plan.levels):
            run_plan(capacity_plan(plan, run_dir, args.slo))  # into the same run
        print(f"\nreport: {run_dir / 'report.md'}")
    except KeyboardInterrupt:
        print("make bench: interrupted; completed samples are kept", file=sys.stderr)
        code = 130
    except DeployError as exc:
        playbook = str(exc).split(" ", 1)[0]
        print(
            f"make bench: stage deploy ({playbook}) failed: {ansible_error(str(exc))}",
            file=sys.stderr,
        )
        code = 1
    except (*FAILURES, StackError, subprocess.SubprocessError) as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # teardown must not be interrupted
        if not args.keep_hosts:
            code = _teardown(stack) or code
    if run_dir is not None:  # timed windows only: never the tools' whole runs
        samples = [s.to_dict() for s in load_run(run_dir).samples]
        print(summary_line(samples, time.monotonic() - started))
    return code


def _teardown(stack: Stack) -> int:
    """terraform destroy, then always the by-name sweep of this stack's prefix (a backstop
    for whatever an interrupted run left); 0 when the hosts are gone."""
    return 0 if stack.down() else 1


if __name__ == "__main__":
    sys.exit(main())
