"""The Plan: everything a run will do, built and checked once from the command line
before any host is touched (target, modes and serving configurations, levels, load
generator, repetitions, the policy that picks what to measure next).

Every check of a mode, a scenario, a view, a concurrency, a request count, a duration,
a rate or a serving option lives here (`build_plan` and what it calls); the Session
(runner/session.py) carries a Plan out. Presets are named sets of levels.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runner.locks import plan as matrix_plan
from runner.matrix import (
    DEFAULT_DJANGO,
    DEFAULT_PYTHON,
    Combination,
    Matrix,
    MatrixError,
    Skipped,
    describe,
    matrix_deployments,
)
from runner.report.pairing import (
    DEFAULT_MAX_PAIRS,
    DEFAULT_PRECISION_POINTS,
    AutoRepeat,
    RepeatInputError,
    check_duration,
    check_interleaved_modes,
    check_pair_cap,
    check_precision,
)

SCENARIOS = ("users", "io", "plain")
VIEWS = ("original", "sync", "async", "async-wrapped")
MODES = ("asgi", "wsgi")

# Requests per repetition of a count-based level (--requests alone, or a preset without
# a duration); a time-based level (the default, DEFAULT_DURATION_S) takes a cap instead.
DEFAULT_REQUESTS = {"users": 60, "io": 300, "plain": 1000}
# The default levels: sized so that `make bench` (interleaved pairs of 10 s repetitions)
# fits in 10 minutes on this 2-CPU machine (docs/COMPARISON.md, "make bench's budget").
# plain has one level: at c=50 one load generator saturates before the app (WSGI).
DEFAULT_CONCURRENCY = {"users": (5, 20), "io": (10, 100), "plain": (10,)}
# Seconds per repetition when neither --duration nor --requests is given (TechEmpower
# measures 15 s per level, Granian's own benchmarks 10 s after a warm-up).
DEFAULT_DURATION_S = 10.0


class PlanError(ValueError):
    """The options ask for something that cannot be measured."""


@dataclass(frozen=True)
class Level:
    """One scenario at one concurrency with a request count per repetition (with
    `duration_s`, a time-based level whose request count is a cap; with `rate`, an
    open-loop level offering that many requests/s)."""

    scenario: str
    concurrency: int
    requests: int
    duration_s: float | None = None
    rate: float | None = None


@dataclass(frozen=True)
class Preset:
    """A named set of options: a study to reproduce or a size to run at."""

    name: str
    scenarios: tuple[str, ...]
    view: str
    levels: dict[str, tuple[tuple[int, int], ...]]  # scenario -> ((concurrency, requests), ...)
    repeat: int
    description: str
    duration_s: float | None = None  # time-based repetitions; None: the levels' counts


PRESETS = {
    "original": Preset(
        name="original",
        scenarios=("users",),
        view="original",
        levels={"users": ((5, 400), (80, 300))},
        repeat=1,
        description="the original study: users page, c=5 n=400 and c=80 n=300, ab's 30 s timeout",
    ),
    "default": Preset(
        name="default",
        scenarios=SCENARIOS,
        view="original",
        levels={
            s: tuple((c, max(DEFAULT_REQUESTS[s], c * 4)) for c in DEFAULT_CONCURRENCY[s])
            for s in SCENARIOS
        },
        repeat=3,
        description="users and io at two concurrency levels, plain at one; 3 repetitions "
        f"of {DEFAULT_DURATION_S:g} s each (make bench: interleaved pairs)",
        duration_s=DEFAULT_DURATION_S,
    ),
    "smoke": Preset(
        name="smoke",
        scenarios=SCENARIOS,
        view="original",
        levels={"users": ((2, 10),), "io": ((5, 40),), "plain": ((5, 100),)},
        repeat=2,
        description="tiny counts for tests and a first look (count-based)",
    ),
}


def route(scenario: str, view: str, mode: str) -> str:
    """The built-in target's path for `scenario` in `view` style under `mode`
    (runner.targets.builtin.BuiltinApp.endpoint)."""
    from runner.targets.builtin import BuiltinApp

    return BuiltinApp().endpoint(scenario, view, mode).path


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise PlanError(f"--{what} takes whole numbers separated by commas, not {text!r}") from None
    if not values:
        raise PlanError(f"--{what} is empty")
    return values


def build_levels(
    scenarios: str,
    concurrency: str,
    requests: str,
    preset: str,
) -> tuple[tuple[str, ...], list[Level]]:
    """Turn the command-line options into checked levels; errors name the bad option."""
    if preset and preset not in PRESETS:
        raise PlanError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    base = PRESETS[preset or "default"]
    names = tuple(s.strip() for s in scenarios.split(",") if s.strip()) if scenarios else ()
    names = names or base.scenarios
    for name in names:
        if name not in SCENARIOS:
            raise PlanError(f"unknown scenario {name!r}: choose from {', '.join(SCENARIOS)}")
    levels: list[Level] = []
    for name in names:
        pairs = list(base.levels.get(name) or PRESETS["default"].levels[name])
        if concurrency:
            conc = _ints(concurrency, "concurrency")
            default_n = DEFAULT_REQUESTS[name]
            pairs = [(c, max(default_n, c * 4)) for c in conc]
        if requests:
            reqs = _ints(requests, "requests")
            if len(reqs) == 1:
                reqs = reqs * len(pairs)
            if len(reqs) != len(pairs):
                raise PlanError(
                    f"--requests has {len(reqs)} values for {len(pairs)} concurrency levels: "
                    "give one value, or one per level"
                )
            pairs = [(c, n) for (c, _), n in zip(pairs, reqs, strict=True)]
        for c, n in pairs:
            if c < 1:
                raise PlanError(f"--concurrency must be at least 1, not {c}")
            if n < c:
                raise PlanError(
                    f"--requests {n} is below concurrency {c}: ab needs at least as many "
                    "requests as concurrent clients"
                )
            levels.append(Level(name, c, n))
    return names, levels


def check_view(view: str) -> str:
    """Refuse an unknown view style with the valid ones."""
    if view not in VIEWS:
        raise PlanError(f"unknown view {view!r}: choose from {', '.join(VIEWS)}")
    return view


def check_modes(modes: str) -> tuple[str, ...]:
    """The --modes comma list, each checked."""
    out = tuple(m.strip() for m in modes.split(",") if m.strip())
    if not out:
        raise PlanError("--modes is empty: pass asgi, wsgi or asgi,wsgi")
    for mode in out:
        if mode not in MODES:
            raise PlanError(f"unknown mode {mode!r}: choose from {', '.join(MODES)}")
    return out


def parse_deploy_vars(preset: str, extra: str) -> dict[str, object]:
    """--serving-preset and --deploy-vars k=v,k=v as the deploy's fixed variables."""
    out: dict[str, object] = {}
    if preset:
        out["serving_preset"] = preset
    for pair in filter(None, (p.strip() for p in extra.split(","))):
        if "=" not in pair:
            raise PlanError(f"--deploy-vars takes k=v pairs separated by commas, not {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def search_bounds(concurrency: str) -> tuple[int, int]:
    """--concurrency START,CAP of a concurrency search (default 8,1024)."""
    if not concurrency:
        return 8, 1024
    bounds = _ints(concurrency, "concurrency")
    if len(bounds) != 2 or not 1 <= bounds[0] <= bounds[1]:
        raise PlanError("--search takes --concurrency START,CAP (e.g. 8,1024)")
    return bounds[0], bounds[1]


def command_line(argv: list[str] | None = None, env: dict[str, str] | None = None) -> str:
    """The command that started this process, as typed: `fab ...`, `make bench ...` (the
    main job under make), `python -m runner.mainjob ...`, or the script's own name."""
    argv = list(sys.argv if argv is None else argv)
    env = dict(os.environ if env is None else env)
    prog = Path(argv[0]).name if argv else ""
    args = argv[1:]
    if prog == "fab":
        return shlex.join(["fab", *args])
    if prog == "mainjob.py":
        if "MAKELEVEL" in env:
            return "make bench" + (f" ARGS={shlex.quote(shlex.join(args))}" if args else "")
        return shlex.join(["python", "-m", "runner.mainjob", *args])
    return shlex.join([prog, *args]) if prog else ""


POLICIES = ("levels", "tune", "tuned", "search", "capacity")


@dataclass(frozen=True)
class Plan:
    """Everything one run does, already checked (see `build_plan`).

    `deployments`: (mode, deploy variables) to deploy in turn; empty = measure what is
    deployed now (`fab bench`). `policy`: "levels" measures every level of every
    deployment; "tune", "tuned" and "search" let runner/policies/ pick what comes next
    within `budget_s`. `config`: the deploy's fixed variables (--serving-preset,
    --deploy-vars) that every deployment of a policy starts from.
    """

    levels: tuple[Level, ...]
    view: str = "original"
    repeat: int = 1
    keepalive: bool = False
    timeout_s: int = 30
    load: str = "ab"
    target: str = "builtin"
    modes: tuple[str, ...] = ()
    deployments: tuple[tuple[str, dict[str, object]], ...] = ()
    config: dict[str, object] = field(default_factory=dict)
    instrument: bool = True
    instrument_requests: int = 12
    primer_requests: int = 5
    warmup: bool = True
    policy: str = "levels"
    budget_s: float = 600
    search: tuple[int, int] = (8, 1024)
    inventory: str = "inventory/local.yml"
    results: str = "results"
    resume: str = ""
    command: str = ""
    notes: tuple[str, ...] = ()
    # The version matrix (--django/--python): the combinations measured, in order, and
    # those skipped up front (runner.matrix); empty = the deployed versions, not a matrix.
    matrix: tuple[Combination, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    slo: str = ""  # open loop: the latency target of a capacity search (runner.slo)
    capacity_steps: int | None = None  # at most this many rates per mode (None: budget only)
    capacity_starts: tuple[tuple[str, float], ...] = ()  # (mode, start rate); else levels[0]
    # The measured run-to-run noise (a fraction): the bisection stops within it if wider
    # than its 10% (make bench: the same run's closed-loop CV at those starts).
    capacity_noise: float = 0.0
    # Interleaved, paired comparison (both modes side by side, ABBA within each level);
    # `auto`: --repeat auto's stopping rule (pairs added until the ratio's CI is narrow).
    interleave: bool = False
    auto: AutoRepeat | None = None
    # An interleaved run's wall budget in seconds from its start (make bench): --repeat
    # auto adds a pair beyond the minimum only when it fits (runner.interleaved).
    wall_budget_s: float | None = None
    project: str = ""  # a project file (docs/PROJECT.md): the target is the user's project
    project_urls: tuple[str, ...] = ()  # --project-url name=/path, added to the file's
    # A repetition is disturbed (invalid, its pair measured again) above these (judge.py).
    steal_max_pct: float = 2.0
    outside_max_pct: float = 5.0
    # The second opinion (runner/crosscheck.py): "" none, "one" one level per scenario,
    # "all" every level; measured with `cross_check_load`.
    cross_check: str = ""
    cross_check_load: str = "wrk"

    def with_levels(self, levels: list[Level], **changes: Any) -> Plan:
        """The same plan for other levels (what a policy measures at one step)."""
        return replace(self, levels=tuple(levels), **changes)


@dataclass
class PlanOptions:
    """The command line as typed (strings and numbers), before any check."""

    scenario: str = ""
    view: str = "original"
    concurrency: str = ""
    requests: str = ""
    repeat: int = 0
    keepalive: bool = False
    preset: str = ""
    timeout: int = 30
    instrument: bool = True
    load: str = "ab"
    target: str = "builtin"
    modes: str = ""
    sweep: Any = None  # runner.policies.sweep.Sweep
    deploy_vars: dict[str, object] = field(default_factory=dict)
    policy: str = "levels"
    budget: float = 600
    inventory: str = "inventory/local.yml"
    results: str = "results"
    resume: str = ""
    command: str = ""
    duration: float | str | None = None  # None or "": the preset's (10 s), or --requests
    django: str = ""
    python: str = ""
    rate: str = ""  # open loop: offered requests/s, comma list (runner.openloop.parse_rates)
    slo: str = ""  # open loop: capacity at this latency target, e.g. p99=250ms
    interleave: bool = False
    auto_repeat: bool = False  # --repeat auto
    precision: float = DEFAULT_PRECISION_POINTS
    max_pairs: int = DEFAULT_MAX_PAIRS
    project: str = ""
    project_urls: tuple[str, ...] = ()
    max_steal: float = 2.0  # percent of a repetition's window (judge: disturbed above)
    max_outside: float = 5.0  # percent of one CPU, on the app host's CPUs
    cross_check: str = ""  # --cross-check: "", "one", "all", "none"


CROSS_CHECKS = ("", "one", "all", "none")


def check_thresholds(opts: PlanOptions) -> None:
    """The disturbance thresholds are percentages from 0 to 100."""
    for flag, value in (
        ("--max-steal", opts.max_steal),
        ("--max-outside", opts.max_outside),
    ):
        if not 0 <= value <= 100:
            raise PlanError(f"{flag} must be a percentage from 0 to 100, not {value:g}")


def check_cross_check(opts: PlanOptions, load: Any) -> str:
    """--cross-check one|all|none: wrk measures beside a closed-loop ab run only."""
    if opts.cross_check not in CROSS_CHECKS:
        raise PlanError(f"--cross-check takes one, all or none, not {opts.cross_check!r}")
    wanted = "" if opts.cross_check == "none" else opts.cross_check
    if wanted and (load.name != "ab" or opts.rate):
        raise PlanError(
            f"--cross-check compares ab with wrk: it needs --load ab (closed loop), "
            f"not {load.name}{' with --rate' if opts.rate else ''}"
        )
    return wanted


def build_plan(opts: PlanOptions) -> Plan:
    """Check every option once and return the Plan; PlanError (one line) otherwise."""

    if opts.policy not in POLICIES:
        raise PlanError(f"unknown policy {opts.policy!r}: choose from {', '.join(POLICIES)}")
    if opts.project:
        opts = replace(opts, target="project")
    target, load = _target_and_load(opts)
    if opts.view not in target.views:
        raise PlanError(f"unknown view {opts.view!r}: choose from {', '.join(target.views)}")
    modes = check_modes(opts.modes) if opts.modes else ()
    opts = replace(opts, duration=parse_duration(opts.duration))
    if load.time_based and opts.duration is None:
        opts = replace(opts, duration=load.default_duration_s)
    levels = _project_levels(opts, target.scenarios) if opts.project else _plan_levels(opts)
    repeat = _check_counts(opts)
    _check_levels(levels, modes, target, load, opts)
    interleave, auto = _check_pairs(opts, modes)
    check_thresholds(opts)
    cross_check = check_cross_check(opts, load)
    deployments, notes_and_matrix = _deployments(modes, opts)
    return Plan(
        levels=tuple(levels),
        view=opts.view,
        repeat=repeat,
        keepalive=opts.keepalive,
        timeout_s=opts.timeout,
        load=opts.load,
        target=opts.target,
        modes=modes,
        deployments=tuple(deployments),
        config=dict(opts.deploy_vars),
        instrument=opts.instrument and opts.policy in ("levels", "tuned"),
        policy=opts.policy,
        budget_s=opts.budget,
        search=search_bounds(opts.concurrency) if opts.policy == "search" else (8, 1024),
        inventory=opts.inventory,
        results=opts.results,
        resume=opts.resume,
        command=opts.command or command_line(),
        **notes_and_matrix,
        slo=opts.slo,
        interleave=interleave,
        auto=auto,
        project=opts.project,
        project_urls=tuple(opts.project_urls),
        steal_max_pct=opts.max_steal,
        outside_max_pct=opts.max_outside,
        cross_check=cross_check,
    )


def _check_levels(
    levels: list[Level], modes: tuple[str, ...], target: Any, load: Any, opts: PlanOptions
) -> None:
    """Every level has an endpoint in every mode, and the load generator can run it."""
    from runner.load import LoadSpecError

    for level in levels:
        for mode in modes or MODES:
            target.endpoint(level.scenario, opts.view, mode)
        try:
            load.check(_spec_of(level, opts))
        except LoadSpecError as exc:
            raise PlanError(str(exc)) from None


def _check_pairs(opts: PlanOptions, modes: tuple[str, ...]) -> tuple[bool, AutoRepeat | None]:
    """--interleave and --repeat auto (which implies it): both modes, a precision above
    0 and a cap of at least 3 pairs; one line otherwise."""
    interleave = opts.interleave or opts.auto_repeat
    try:  # refused even when unused: a typo must not pass silently
        check_precision(opts.precision)
        check_pair_cap(opts.max_pairs)
    except RepeatInputError as exc:
        raise PlanError(str(exc)) from None
    if not interleave:
        return False, None
    try:
        check_interleaved_modes(modes or MODES)
        auto = AutoRepeat(opts.precision, opts.max_pairs) if opts.auto_repeat else None
    except RepeatInputError as exc:
        raise PlanError(str(exc)) from None
    if opts.policy != "levels":
        raise PlanError("--interleave and --repeat auto compare levels: not with --search/--tuned")
    if opts.project or opts.django or opts.python:
        # Only the built-in app's role deploys both modes side by side (roles/app).
        raise PlanError(
            "--interleave and --repeat auto need both modes side by side, which only the "
            "built-in app deploys: not with --project, --django or --python; drop them or "
            "pass --repeat N"
        )
    return True, auto


def check_hosts(plan: Plan, loadgens: int) -> None:
    """What the plan asks of the inventory's hosts (read before any is touched): every
    load generator needs at least one client."""
    too_low = [lv.concurrency for lv in plan.levels if lv.concurrency < loadgens]
    if too_low:
        raise PlanError(
            f"concurrency {min(too_low)} is below the {loadgens} load generators: each "
            "needs at least one client; raise --concurrency"
        )


def _check_counts(opts: PlanOptions) -> int:
    """Check --repeat, --timeout and --budget; return the repetitions per level."""
    repeat = opts.repeat if opts.repeat else PRESETS[opts.preset or "default"].repeat
    if repeat < 1:
        raise PlanError(f"--repeat must be at least 1, not {repeat}")
    if opts.timeout < 1:
        raise PlanError(f"--timeout must be at least 1 second, not {opts.timeout}")
    if opts.budget < 1:
        raise PlanError(f"--budget must be at least 1 second, not {opts.budget}")
    return repeat


def _open_levels(opts: PlanOptions) -> list[Level]:
    """Open-loop levels: each scenario at each offered rate for --duration seconds (20 by
    default), its VUs sized for the SLO's target (250 ms without one); a capacity search
    starts from the first rate (default 50)."""
    import math

    from runner.load import LoadSpecError, get_load_generator
    from runner.load.k6 import DEFAULT_TARGET_S, vus_for
    from runner.openloop import parse_rates
    from runner.slo import SloError, parse_slo

    if not get_load_generator(opts.load).open_loop:
        raise PlanError(
            f"--rate and --slo need an open-loop load generator: --load open, not {opts.load}"
        )
    duration = 20.0 if opts.duration is None else float(opts.duration)
    try:
        target_s = parse_slo(opts.slo).limit_s if opts.slo else DEFAULT_TARGET_S
        rates = parse_rates(opts.rate or "50", duration)
    except (SloError, LoadSpecError) as exc:
        raise PlanError(str(exc)) from None
    if opts.policy == "capacity":
        rates = rates[:1]
    scenarios = [s.strip() for s in (opts.scenario or "io").split(",") if s.strip()]
    for scenario in scenarios:
        if scenario not in SCENARIOS:
            raise PlanError(f"unknown scenario {scenario!r}: choose from {', '.join(SCENARIOS)}")
    return [
        Level(scenario, vus_for(r, target_s), math.ceil(r * duration), duration, r)
        for scenario in scenarios
        for r in rates
    ]


def _plan_levels(opts: PlanOptions) -> list[Level]:
    """The levels the policy starts from (a search makes its own: one scenario only)."""
    from runner.load import LoadSpecError, get_load_generator

    try:
        open_loop = get_load_generator(opts.load).open_loop
    except LoadSpecError:
        open_loop = False  # build_plan says so
    if opts.rate or opts.slo or open_loop or opts.policy == "capacity":
        return _open_levels(opts)
    if opts.policy == "search":
        scenario = opts.scenario or "io"
        if "," in scenario:
            raise PlanError("--search takes one --scenario (default io)")
        start, _ = search_bounds(opts.concurrency)
        _, levels = build_levels(scenario, str(start), str(max(2 * start, 50)), "")
        return levels
    _, levels = build_levels(opts.scenario, opts.concurrency, opts.requests, opts.preset)
    if opts.policy == "tune" and len(levels) != 1:
        raise PlanError("fab tune takes one --scenario and one --concurrency")
    duration = opts.duration
    if duration is None and not opts.requests:  # --requests alone: count-based
        duration = PRESETS[opts.preset or "default"].duration_s
    if duration:
        # The count becomes a cap: one the level's own count unless --requests set it,
        # generous enough not to end a run before its duration at ~20,000 req/s.
        cap = max(50_000, int(duration * 20_000))
        levels = [
            replace(lv, duration_s=float(duration), requests=lv.requests if opts.requests else cap)
            for lv in levels
        ]
    return levels


def parse_duration(value: float | str | None) -> float | None:
    """--duration as typed: None when not given ("" or None), else seconds above 0 and at
    most an hour (a count-based run is asked with --requests alone, never --duration 0)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise PlanError(f"--duration takes seconds, e.g. --duration 10, not {value!r}") from None
    try:
        return check_duration(seconds)
    except RepeatInputError as exc:
        raise PlanError(
            f"{exc}; for a count-based run give --requests N without --duration"
        ) from None


def _target_and_load(opts: PlanOptions) -> tuple[Any, Any]:
    """The target (a project is prepared on the controller here) and the load generator."""
    from runner.load import LoadSpecError, get_load_generator
    from runner.targets import TargetError, make_target

    try:
        target = make_target(opts.target, opts.project, opts.project_urls, opts.deploy_vars)
        return target, get_load_generator(opts.load)
    except (TargetError, LoadSpecError) as exc:
        raise PlanError(str(exc)) from None


def _project_levels(opts: PlanOptions, urls: tuple[str, ...]) -> list[Level]:
    """A project's levels: the users page's levels (the preset's, or --concurrency and
    --requests) for each of its URLs, or for the URL names --scenario lists."""
    names = tuple(s.strip() for s in opts.scenario.split(",") if s.strip()) or urls
    unknown = [n for n in names if n not in urls]
    if unknown:
        raise PlanError(
            f"--scenario {unknown[0]!r} is not one of the project's URLs ({', '.join(urls)})"
        )
    if opts.policy == "search" and len(names) != 1:
        raise PlanError(f"--search takes one --scenario: one of the project's URLs {urls}")
    base = _plan_levels(replace(opts, scenario="users"))
    return [replace(level, scenario=name) for name in names for level in base]


def _spec_of(level: Level, opts: PlanOptions) -> Any:
    """The level as a LoadSpec for the tool's own checks (the URL is not known yet and
    not checked here: the Session builds the real specs from the inventory)."""
    from runner.load import LoadSpec

    return LoadSpec(
        urls=("http://target/",),
        concurrency=level.concurrency,
        requests=level.requests,
        duration_s=level.duration_s,
        rate=level.rate,
        keepalive=opts.keepalive,
        timeout_s=opts.timeout,
    )


def _deployments(
    modes: tuple[str, ...], opts: PlanOptions
) -> tuple[list[tuple[str, dict[str, object]]], dict[str, Any]]:
    """Every (mode, deploy variables) a "levels" plan deploys in turn (none: `fab bench`),
    for each combination of the version matrix when there is one; and the Plan's notes,
    matrix and skipped combinations."""
    combos, skipped = _matrix(opts)
    if not modes or opts.policy != "levels":
        return [], {"notes": ()}
    from runner.policies.sweep import Sweep, deployments

    found, notes = deployments(list(modes), opts.sweep or Sweep(), opts.deploy_vars)
    if combos:
        found = matrix_deployments(found, combos)
        notes.append("version matrix: " + describe(Matrix(combos, skipped)))
    return found, {"notes": tuple(notes), "matrix": tuple(combos), "skipped": tuple(skipped)}


def _matrix(opts: PlanOptions) -> tuple[list[Combination], list[Skipped]]:
    """The Django x Python combinations of --django/--python (none without them), checked
    against the committed locks and this machine's interpreters (runner.locks)."""
    if not opts.django and not opts.python:
        return [], []
    if opts.policy != "levels":
        raise PlanError("--django/--python measure levels: not with --search, --tuned or fab tune")
    if not opts.modes:
        raise PlanError("--django/--python deploy each combination: use fab compare")
    try:
        found = matrix_plan(opts.django or DEFAULT_DJANGO, opts.python or DEFAULT_PYTHON)
    except MatrixError as exc:
        raise PlanError(str(exc)) from None
    return list(found.combinations), list(found.skipped)
