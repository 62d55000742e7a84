"""The README's main command (`make bench`): local hosts up, both modes deployed side by
side and measured in interleaved pairs of time-based repetitions (10 s each, --repeat
auto within a wall budget of 10 minutes), the io page's capacity search when time is
left, the report written, and the hosts destroyed whatever happened.

The budget's arithmetic is in docs/COMPARISON.md ("`make bench`: interleaved, within 10
minutes"). A version
matrix, a project and `--preset original` (the study's request counts, one repetition)
deploy each mode in turn as before: side by side needs the built-in app and one version.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from runner.deploy import DeployError
from runner.plan import Plan, PlanError, PlanOptions, build_plan, parse_duration
from runner.preflight import PreflightError, require, state_dir_for, unfit_for_keys
from runner.report.pairing import (
    DEFAULT_MAX_PAIRS,
    DEFAULT_PRECISION_POINTS,
    RepeatInputError,
    check_pair_cap,
    check_precision,
)
from runner.runs import FAILURES, run_plan
from runner.stack import Stack, StackError
from runner.stagelines import ansible_error

ROOT = Path(__file__).resolve().parent.parent
CAPACITY_SLO = "p99=250ms"
CAPACITY_STEPS = 4  # per mode: the main job stays within its 10 minutes
CAPACITY_BUDGET_S = 240  # at most; less when the wall budget leaves less
CAPACITY_MIN_S = 90  # two deploys (~20 s each) and two 5 s steps per mode with k6's start
WALL_BUDGET_S = 600.0
TEARDOWN_RESERVE_S = 30.0  # the report and terraform destroy


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

    best = _best_levels(run_dir, scenario)
    return {m: round(statistics.fmean(v), 1) for m, v in best.items()}


def closed_loop_noise(run_dir: Path, scenario: str) -> float:
    """The run-to-run noise at those starts: the largest coefficient of variation of the
    requests/s over the repetitions of each mode's best level (0 with fewer than 2)."""
    import statistics

    best = _best_levels(run_dir, scenario).values()
    cvs = [statistics.stdev(v) / statistics.fmean(v) for v in best if len(v) > 1]
    return round(max(cvs, default=0.0), 4)


def _best_levels(run_dir: Path, scenario: str) -> dict[str, list[float]]:
    """Each mode's requests/s over the repetitions of its best level (highest mean)."""
    import statistics

    best: dict[str, list[float]] = {}
    for (mode, _), values in _closed_loop_levels(run_dir, scenario).items():
        if mode not in best or statistics.fmean(values) > statistics.fmean(best[mode]):
            best[mode] = values
    return best


def _closed_loop_levels(run_dir: Path, scenario: str) -> dict[tuple[str, int], list[float]]:
    """(mode, concurrency) -> the valid timed repetitions' requests/s for `scenario`."""
    from runner.results import load_run

    by_level: dict[tuple[str, int], list[float]] = {}
    for s in load_run(run_dir).samples:
        if s.kind == "timed" and s.scenario == scenario and s.status == "ok" and s.rps:
            by_level.setdefault((s.mode, s.concurrency), []).append(s.rps)
    return by_level


def capacity_plan(plan: Plan, run_dir: Path, slo: str, budget_s: float = CAPACITY_BUDGET_S) -> Plan:
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
            budget=min(budget_s, CAPACITY_BUDGET_S),
            inventory=plan.inventory,
            results=plan.results,
            resume=run_dir.name,
        )
    )
    return replace(
        capacity,
        capacity_starts=tuple(starts.items()),
        capacity_steps=CAPACITY_STEPS,
        capacity_noise=closed_loop_noise(run_dir, "io"),
    )


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class _Parser(argparse.ArgumentParser):
    """Bad options in one line (argparse's own error adds a usage block)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """'make bench: <what is wrong>' and exit 2."""
        print(f"make bench: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:  # size: one add_argument per command-line option
    parser = _Parser(prog="make bench", description=__doc__)
    parser.add_argument("--preset", default="", help="runner preset (default, original, smoke)")
    parser.add_argument("--scenario", default="", help="comma list of users, io, plain")
    parser.add_argument("--concurrency", default="")
    parser.add_argument(
        "--requests", default="", help="count-based repetitions of N requests (no --duration)"
    )
    parser.add_argument(
        "--duration", default="", help="seconds per repetition, above 0, at most 3600 (10)"
    )
    parser.add_argument(
        "--repeat",
        default="",
        help="pairs per level, or auto (the default preset's: at least 3 pairs, then more "
        "while the ratio's CI is wider than --precision and the wall budget allows)",
    )
    parser.add_argument("--precision", type=float, default=DEFAULT_PRECISION_POINTS)
    parser.add_argument("--max-pairs", type=int, default=DEFAULT_MAX_PAIRS)
    parser.add_argument(
        "--wall-budget",
        type=float,
        default=WALL_BUDGET_S,
        help=f"seconds the whole job aims at (default {WALL_BUDGET_S:g}): extra pairs and "
        "the capacity search only when they fit",
    )
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


def interleaves(args: argparse.Namespace) -> bool:
    """Both modes side by side in pairs, unless the run deploys each mode in turn: a
    version matrix, a project, or the original study reproduced as it was run."""
    return not (args.django or args.python or args.project or args.preset == "original")


def _repeat(args: argparse.Namespace, interleave: bool) -> tuple[int, bool]:
    """(repetitions, --repeat auto) from --repeat: auto by default when interleaved on a
    time-based preset (the default one); a preset's own count otherwise."""
    text = str(args.repeat).strip()
    if text == "auto" or (not text and interleave and args.preset in ("", "default")):
        if not interleave:
            raise PlanError("--repeat auto needs interleaved pairs: not with --django, "
                            "--python, --project or --preset original")  # fmt: skip
        return 0, True
    if text and not text.isdigit():
        raise PlanError(f"--repeat must be a whole number or auto, not {text!r}")
    return int(text or 0), False


def check_options(args: argparse.Namespace) -> None:
    """The options that need no host and no project, one line (PlanError) each: the
    duration, the precision, the cap of pairs, --repeat and the wall budget."""
    parse_duration(args.duration)
    try:
        check_precision(args.precision)
        check_pair_cap(args.max_pairs)
    except RepeatInputError as exc:
        raise PlanError(str(exc)) from None
    _repeat(args, interleaves(args))
    if not args.wall_budget > 0:
        raise PlanError(f"--wall-budget must be above 0 seconds, not {args.wall_budget:g}")


def _plan(args: argparse.Namespace, stack: Stack) -> Plan:
    """The main job's comparison of both modes, from its command line."""
    interleave = interleaves(args)
    repeat, auto = _repeat(args, interleave)
    return build_plan(
        PlanOptions(
            scenario=args.scenario,
            concurrency=args.concurrency,
            requests=args.requests,
            duration=args.duration,
            repeat=repeat,
            interleave=interleave,
            auto_repeat=auto,
            precision=args.precision,
            max_pairs=args.max_pairs,
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
    started = time.monotonic()
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0), or a bad option said in one line (2)
        return int(exc.code or 0)
    try:
        check_options(args)  # bad input first, before the machine's checks
    except PlanError as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 2
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
    code = 0
    run_dir: Path | None = None
    try:
        stack.up(sweep_first=False)
        run_dir = measure(plan, args.slo, args.wall_budget - (time.monotonic() - started))
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
    if run_dir is not None:  # the figure of the whole job, teardown included
        print(f"make bench: {timed_share(run_dir, time.monotonic() - started)}")
        _record_job(run_dir, time.monotonic() - started)
    return code


def measure(plan: Plan, slo: str, budget_s: float) -> Path:
    """The closed-loop comparison, then (io in the plan, an SLO, time left) the io
    capacity search into the same run; `budget_s` is the wall time left for both and the
    teardown. Usable on any inventory (the host tests run it on the session's stack)."""
    wants_capacity = bool(slo) and any(lv.scenario == "io" for lv in plan.levels)
    started = time.monotonic()
    reserve = TEARDOWN_RESERVE_S + (CAPACITY_MIN_S if wants_capacity else 0.0)
    if plan.interleave:
        plan = replace(plan, wall_budget_s=max(budget_s - reserve, 0.0))
    run_dir = run_plan(plan)
    if wants_capacity:
        left = budget_s - (time.monotonic() - started) - TEARDOWN_RESERVE_S
        if left >= CAPACITY_MIN_S:
            run_plan(capacity_plan(plan, run_dir, slo, left))  # into the same run
        else:
            print(
                f"make bench: the io capacity search is skipped: {max(left, 0):.0f} s of the "
                f"wall budget left, it needs {CAPACITY_MIN_S} (raise --wall-budget, or "
                f"run fab compare --scenario io --slo {slo})",
                file=sys.stderr,
            )
    return run_dir


def timed_seconds(run_dir: Path) -> float:
    """The timed repetitions' own measured seconds (ab's, wrk's, k6's) in a run."""
    from runner.results import load_run

    return sum(
        s.duration_s or 0.0
        for s in load_run(run_dir).samples
        if s.kind == "timed" and s.status in ("ok", "invalid")
    )


def timed_share(run_dir: Path, wall_s: float) -> str:
    """'612 s wall, 340 s (56%) inside timed windows': the timed repetitions' own
    measured seconds against the job's wall time so far."""
    timed = timed_seconds(run_dir)
    share = 100 * timed / wall_s if wall_s > 0 else 0.0
    return f"{wall_s:.0f} s wall, {timed:.0f} s ({share:.0f}%) inside timed windows"


def _record_job(run_dir: Path, wall_s: float) -> None:
    """The job's wall time and timed seconds into the run's metadata (`main_job`), so
    the figure stays with the run; a run folder that cannot take it is said, not fatal."""
    from runner.results import RunStore, RunStoreError

    try:
        store = RunStore(run_dir.parent, run_dir.name)
        store.set_metadata(
            {"main_job": {"wall_s": round(wall_s, 1), "timed_s": round(timed_seconds(run_dir), 1)}}
        )
    except (RunStoreError, OSError) as exc:
        print(f"make bench: the job's wall time was not recorded: {exc}", file=sys.stderr)


def _teardown(stack: Stack) -> int:
    """terraform destroy, then always the by-name sweep of this stack's prefix (a backstop
    for whatever an interrupted run left); 0 when the hosts are gone."""
    return 0 if stack.down() else 1


if __name__ == "__main__":
    sys.exit(main())
