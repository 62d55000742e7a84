"""`fab tune`: each mode's best serving config at zero errors, by a coordinate search
within a time budget (shared fairly: each mode gets what is left divided by the modes
still to tune). What it decided goes to the run's metadata["tune"]."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from runner.console import say
from runner.judge import LOADGEN_CPU
from runner.model import Sample
from runner.plan import Plan
from runner.policies.base import Deadline, Policy, Step, timed
from runner.policies.search import Config, Tried, TuneResult, config_key, coordinate_steps

ORIGINAL: Config = {"serving_preset": "original"}


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


def usable(sample: Sample) -> bool:
    """Whether a sample's requests/s can rank a configuration: no failed, non-2xx or
    changed response and the tool not aborted. A sample invalid only because the load
    generator was near saturation still ranks (every candidate shares that limit; the
    report keeps the sample marked invalid)."""
    if sample.status == "ok":
        return sample.rps is not None
    if sample.status != "invalid" or sample.failed or sample.non_2xx or sample.rps is None:
        return False
    codes = sample.extra.get("reason_codes") or []
    return bool(codes) and all(code == LOADGEN_CPU for code in codes)


def tried_from(config: Config, samples: list[Sample]) -> Tried:
    """The mean requests/s of a config's timed repetitions, or None with the reason
    when any of them cannot rank it."""
    samples = timed(samples)
    bad = [s for s in samples if not usable(s)]
    if bad or not samples:
        return Tried(config, None, bad[0].reason if bad else "nothing measured")
    return Tried(config, sum(float(s.rps or 0) for s in samples) / len(samples))


class TunePolicy(Policy):
    """Per mode in turn, the coordinate search's configurations, each measured at the
    plan's one level; the search stops when the mode's share of the budget is spent."""

    def __init__(self, plan: Plan, cpus: int) -> None:
        super().__init__()
        self.plan = plan
        self.cpus = cpus
        self.summary: dict[str, dict[str, Any]] = {}

    def steps(self) -> Generator[Step, list[Sample], None]:
        """Each mode's search, its share of the budget taken when it starts."""
        modes = list(self.plan.modes or ("asgi", "wsgi"))
        deadline = Deadline(self.plan.budget_s)
        for i, mode in enumerate(modes):
            share = Deadline(max(deadline.left(), 0) / (len(modes) - i))
            result = TuneResult(best=None, best_rps=None)
            yield from self._search(mode, result, share)
            self._record(mode, result, share)

    def _search(
        self, mode: str, result: TuneResult, share: Deadline
    ) -> Generator[Step, list[Sample], None]:
        search = coordinate_steps(tune_dims(mode, self.cpus), result, {}, [dict(ORIGINAL)])
        config = next(search, None)
        while config is not None:
            if share.left() <= 0:
                result.exhausted = True
                say(f"{mode}: budget spent after {len(result.tried)} configurations")
                return
            samples = yield Step(mode, {**self.plan.config, **config})
            tried = tried_from(config, samples)
            verdict = (
                f"{tried.rps:.1f} req/s" if tried.rps is not None else f"rejected ({tried.reason})"
            )
            say(f"  {mode} {config_key(config)}: {verdict}")
            try:
                config = search.send(tried)
            except StopIteration:
                config = None
            self._record(mode, result, share)

    def _record(self, mode: str, result: TuneResult, share: Deadline) -> None:
        level = self.plan.levels[0]
        self.summary[mode] = {
            "scenario": level.scenario,
            "concurrency": level.concurrency,
            "requests": level.requests,
            "best": result.best,
            "best_label": config_key(result.best) if result.best is not None else None,
            "best_rps": result.best_rps,
            "default_rps": result.rps_of({}),
            "original_rps": result.rps_of(ORIGINAL),
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

    def metadata(self) -> dict[str, Any]:
        """metadata["tune"] = {mode: {best, best_rps, tried, exhausted, ...}}."""
        return {"tune": dict(self.summary)} if self.summary else {}


def tuned_configs(tune: dict[str, Any], modes: list[str]) -> list[tuple[str, dict[str, object]]]:
    """`fab compare --tuned`'s deployments: each mode at its best (when that is not the
    original's settings) and at the original's settings."""
    out: list[tuple[str, dict[str, object]]] = []
    for mode in modes:
        best = (tune.get(mode) or {}).get("best")
        if best is not None and config_key(best) != config_key(ORIGINAL):
            out.append((mode, dict(best)))
        out.append((mode, dict(ORIGINAL)))
    return out
