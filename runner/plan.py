"""What `fab bench` will measure: scenarios, routes, concurrency levels and request
counts, checked before anything runs."""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = ("users", "io", "plain")
VIEWS = ("original", "sync", "async", "async-wrapped")
MODES = ("asgi", "wsgi")

# Requests per repetition when --requests is not given, sized so that the default
# `make bench` finishes within 10 minutes on a 1-CPU app host (the users page costs
# ~100 ms of CPU, the io page waits ~100 ms on its upstream, plain costs ~1 ms).
DEFAULT_REQUESTS = {"users": 60, "io": 300, "plain": 1000}
DEFAULT_CONCURRENCY = {"users": (5, 20), "io": (10, 100), "plain": (10, 50)}


class PlanError(ValueError):
    """The options ask for something that cannot be measured."""


@dataclass(frozen=True)
class Level:
    """One scenario at one concurrency with a request count per repetition."""

    scenario: str
    concurrency: int
    requests: int


@dataclass(frozen=True)
class Preset:
    """A named set of options: a study to reproduce or a size to run at."""

    name: str
    scenarios: tuple[str, ...]
    view: str
    levels: dict[str, tuple[tuple[int, int], ...]]  # scenario -> ((concurrency, requests), ...)
    repeat: int
    description: str


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
        description="every scenario at two concurrency levels, 3 repetitions (make bench)",
    ),
    "smoke": Preset(
        name="smoke",
        scenarios=SCENARIOS,
        view="original",
        levels={"users": ((2, 10),), "io": ((5, 40),), "plain": ((5, 100),)},
        repeat=2,
        description="tiny counts for tests and a first look",
    ),
}


def route(scenario: str, view: str, mode: str) -> str:
    """The path that serves `scenario` in `view` style; 'original' pairs the mode's own style."""
    if view == "original":
        if scenario == "users":
            return "/async/" if mode == "asgi" else "/sync/"
        view = "async" if mode == "asgi" else "sync"
    if view == "async-wrapped" and scenario != "users":
        raise PlanError(f"view async-wrapped exists only for scenario users, not {scenario}")
    return f"/{scenario}/{view}/"


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
