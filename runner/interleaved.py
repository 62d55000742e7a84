"""An interleaved, paired comparison (`fab compare --interleave`, `--repeat auto`).

One deploy puts both modes side by side (`-e side_by_side=true`); within each level the
modes alternate ABBA... (runner.policies.interleave), each switch is a SIGSTOP/SIGCONT
on the app host proven by a health check from the load generator (runner.modeswitch),
followed by an untimed warm-up; every timed repetition records its pair number in
`extra.pair`, on which the report computes the paired ratio.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from runner import crosscheck
from runner.console import say
from runner.model import Sample
from runner.modeswitch import ModeSwitchError, mode_port, switch_mode
from runner.plan import Level, Plan
from runner.policies.interleave import InterleavedLevel, PairStep
from runner.remote import RemoteError
from runner.session import Session
from runner.targets import Deployed, Endpoint
from runner.timeleft import StepPlan, TimeLeft, level_steps


class InterleavedSession(Session):
    """A Session that measures both modes of a side-by-side deploy, pair by pair."""

    def run_interleaved(self, report: bool = True) -> Path:
        """Deploy side by side, then every level in pairs; report in `finally`."""
        modes = ("asgi", "wsgi")
        self._started = time.monotonic()
        self._port0 = int(self.inventory.app.app_port or 8000)
        try:
            self.deploy(modes[0], {**self.plan.config, "side_by_side": "true"}, "(both modes)")
            self.open()
            try:
                deployed: dict[str, Deployed] = {}
                endpoints: dict[str, dict[str, Endpoint]] = {}
                for mode in modes:
                    self._switch(mode)
                    deployed[mode], endpoints[mode] = self.verify(self.plan)
                    self._record_metadata(deployed[mode])
                self._oom_base = self._oom_last = self._memory().get("oom_kill")
                clock = TimeLeft(self._planned_steps())
                for i, level in enumerate(self.plan.levels):
                    left = len(self.plan.levels) - i
                    self._level(level, deployed, endpoints, clock, left)
            finally:
                self._switch_quietly(modes[0])
                self.close()
        finally:
            self._record_load()
            if report:
                self.report()
        return self.store.run_dir

    def _planned_steps(self) -> list[StepPlan]:
        pairs = self._min_pairs(self.plan)
        duration = max((lv.duration_s or 0.0) for lv in self.plan.levels) or 1.0
        order = InterleavedLevel(pairs=pairs)
        modes = [order._order(p)[i] for p in range(1, pairs + 1) for i in (0, 1)]
        steps: list[StepPlan] = []
        for lv in self.plan.levels:
            label = f"{lv.scenario} c={lv.concurrency}"
            steps += level_steps(label, modes, lv.duration_s or duration, min(duration, 5.0))
        return steps

    def _level(
        self,
        level: Level,
        deployed: dict[str, Deployed],
        endpoints: dict[str, dict[str, Endpoint]],
        clock: TimeLeft,
        levels_left: int = 1,
    ) -> None:
        """One level's pairs, each repetition stored the moment it exists."""
        plan: Plan = self.plan
        driver = InterleavedLevel(pairs=plan.repeat, auto=plan.auto)
        current = None
        timed: dict[str, list[Sample]] = {"asgi": [], "wsgi": []}
        spent: list[float] = []  # this level's steps, wall seconds
        while (step := driver.next_step()) is not None:
            owed = self._min_pairs(plan) + len(driver.remeasured())  # re-measures are owed
            if step.mode == driver.first_of(step.pair) and not self._fits(
                plan, (step.pair, owed), spent, clock, levels_left
            ):
                driver.stop_reason = _over_budget(driver)
                break
            if len(spent) >= 2 * self._min_pairs(plan):  # --repeat auto added a pair
                label = f"{level.scenario} c={level.concurrency}"
                clock.extend(level_steps(label, [step.mode], level.duration_s or 1.0, 0.0))
            say(clock.line())
            started = time.monotonic()
            path = endpoints[step.mode][level.scenario].path
            if step.mode != current:
                self._switch(step.mode)
                self._prime(plan, deployed[step.mode], level, path, _NoProgress(), step.pair)
                current = step.mode
            sample = self.repetition(plan, deployed[step.mode], level, path, step.pair)
            sample.extra["pair"] = step.pair
            timed[step.mode].append(sample)
            if again := driver.remeasure_note(step.pair):
                sample.extra["remeasure"] = again
            self.store.append(sample)
            clock.done(time.monotonic() - started)
            spent.append(clock.elapsed[-1])
            self._record(driver, step, sample)
            if sample.status == "failed":
                self._stopped(f"{sample.reason}; completed samples are in {self.store.run_dir}")
            if sample.status == "aborted" or sample.failed:
                self._recheck(deployed[step.mode])
        if level in crosscheck.chosen_levels(plan):  # each mode's second opinion
            for mode in sorted(timed, key=lambda m: m != current):  # the serving one first
                self._switch(mode)
                path = endpoints[mode][level.scenario].path
                self.cross_check(plan, deployed[mode], level, path, timed[mode])
        self._level_metadata(level, driver)

    def _record(self, driver: InterleavedLevel, step: PairStep, sample: Sample) -> None:
        """The repetition's requests/s to the driver; a disturbed one ends its pair."""
        disturbed = "; ".join(sample.extra.get("disturbed") or [])
        driver.record(step, sample.rps if sample.status == "ok" else None, disturbed)
        if disturbed:
            again = step.pair in driver.remeasured()
            say(
                f"pair {step.pair} disturbed ({disturbed}): "
                + ("measured again" if again else "not again (measured three times)")
            )

    def _level_metadata(self, level: Level, driver: InterleavedLevel) -> None:
        """Why the level stopped and which pairs were measured again, per level."""
        label = f"{level.scenario} c={level.concurrency}"
        meta = self.store.metadata
        self.store.set_metadata(
            {"interleaved": {**meta.get("interleaved", {}), label: driver.stop_reason}}
        )
        if again := driver.remeasured():
            per_pair = {str(k): v for k, v in again.items()}
            self.store.set_metadata({"remeasured": {**meta.get("remeasured", {}), label: per_pair}})
        say(f"{label}: {driver.stop_reason}")

    @staticmethod
    def _min_pairs(plan: Plan) -> int:
        """Pairs every level measures (the clock plans these)."""
        return plan.auto.min_pairs if plan.auto else plan.repeat

    def _fits(
        self,
        plan: Plan,
        pair_owed: tuple[int, int],
        spent: list[float],
        clock: TimeLeft,
        levels_left: int,
    ) -> bool:
        """Whether pair `pair` of `pair_owed` may start under the wall budget
        (`extra_pair_fits`); the pairs owed (the minimum and the re-measures of
        disturbed pairs) always do."""
        pair, owed = pair_owed
        if plan.wall_budget_s is None or pair <= owed or not spent:
            return True
        left = plan.wall_budget_s - (time.monotonic() - self._started)
        return extra_pair_fits(left, clock.left_s(), levels_left, spent)

    def _switch(self, mode: str) -> None:
        """Serve `mode` (the app URL follows its port); a failed switch stops the run."""
        assert self.app is not None
        try:
            switched = switch_mode(self.app, self.loadgens[0], mode)
        except ModeSwitchError as exc:
            self._stopped(f"mode switch failed: {exc}")
        app = replace(self.inventory.app, app_port=mode_port(mode, self._port0))
        self.inventory = replace(self.inventory, app=app)
        self.store.set_metadata({"last_switch_s": round(switched.seconds, 3)})

    def _switch_quietly(self, mode: str) -> None:
        """Leave the asked mode serving at the end (never raises: it only tidies up)."""
        try:
            if self.app is not None and self.loadgens:
                switch_mode(self.app, self.loadgens[0], mode)
        except (ModeSwitchError, RemoteError, OSError):
            pass


def extra_pair_fits(
    budget_left_s: float, planned_left_s: float, levels_left: int, level_steps_s: list[float]
) -> bool:
    """A pair beyond the minimum (--repeat auto) fits when its cost (twice this level's
    mean step so far) is within this level's share of the budget left after the later
    levels' planned minimum, shared equally among this level and the later ones."""
    share = (budget_left_s - planned_left_s) / max(levels_left, 1)
    return 2 * sum(level_steps_s) / max(len(level_steps_s), 1) <= share


def _over_budget(driver: InterleavedLevel) -> str:
    """The stop reason of a level whose next pair did not fit the wall budget."""
    ratio = driver.ratio()
    half = ratio.half_width_points
    shown = "unknown" if half is None else f"{half:.2f}"
    target = driver.auto.precision_points if driver.auto else None
    aim = f", target {target:g}" if target is not None else ""
    return f"wall budget reached after {len(driver.complete_pairs())} pairs: +-{shown} points{aim}"


class _NoProgress:
    """The warm-up's progress line is the interleaved clock's, not Session's bar."""

    def show(self, label: str) -> None:
        """Nothing: the clock's line was printed already."""

    def advance(self, requests: int) -> None:
        """Nothing."""
