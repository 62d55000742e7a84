"""The order and the stopping rule of one interleaved level: which mode to measure next,
as which pair, and when the level has enough pairs.

With both modes deployed side by side (`-e side_by_side=true`, runner.modeswitch), a
level alternates the modes in a balanced order, ABBA ABBA..., so that each ASGI
repetition has a WSGI partner next to it in time. A fixed `--repeat N` measures N pairs;
`--repeat auto` (runner.report.pairing.AutoRepeat) measures at least 3 and then one pair
at a time until the ratio's 95% interval is within `--precision` points or the cap.
The Session asks `next_step()`, switches the mode when it changes (with a warm-up after
each switch), measures, and hands the requests/s back with `record()`; samples carry
their pair number in `extra.pair`, which the report pairs on.

A disturbed repetition (runner.judge: CPU steal or other work on the app host's CPUs
above the thresholds) ends its pair at once and the pair is measured again as a new pair
number, at most MAX_REMEASURES times per pair; the disturbed pair stays stored (invalid,
with its reason) and never pairs, so nothing is averaged in silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.report.pairing import AutoRepeat, Ratio, paired_ratio

MAX_REMEASURES = 2


@dataclass(frozen=True)
class PairStep:
    """Measure `mode` as a member of pair `pair` (1-based); `switch`: the mode differs
    from the previous step's (switch, then warm up)."""

    mode: str
    pair: int
    switch: bool


@dataclass
class InterleavedLevel:
    """One level's pairs: `pairs` fixed, or `auto` deciding when to stop."""

    pairs: int = 3
    auto: AutoRepeat | None = None
    first: str = "asgi"
    second: str = "wsgi"
    measured: dict[int, dict[str, float | None]] = field(default_factory=dict)
    stop_reason: str = ""
    # pair -> (the pair it measures again, attempt 2 or 3); disturbed pair -> why.
    again: dict[int, tuple[int, int]] = field(default_factory=dict)
    disturbed: dict[int, str] = field(default_factory=dict)
    _last_mode: str | None = None

    def _order(self, pair: int) -> tuple[str, str]:
        """ABBA: odd pairs first-second, even pairs second-first."""
        return (self.first, self.second) if pair % 2 == 1 else (self.second, self.first)

    def first_of(self, pair: int) -> str:
        """The mode measured first in pair `pair` (its start)."""
        return self._order(pair)[0]

    def _wanted_pairs(self) -> int:
        return (self.auto.max_pairs if self.auto else self.pairs) + self._remeasures()

    def _remeasures(self) -> int:
        """Pairs added to measure a disturbed pair again."""
        return sum(1 for p in self.disturbed if self._attempt(p) <= MAX_REMEASURES)

    def _attempt(self, pair: int) -> int:
        return self.again.get(pair, (pair, 1))[1]

    def next_step(self) -> PairStep | None:
        """The next repetition to measure, or None when the level is done (then
        `stop_reason` says why)."""
        pair = len(self.measured) or 1
        done = self.measured.get(pair, {})
        if len(done) == 2:
            if reason := self._enough():
                self.stop_reason = reason
                return None
            pair += 1
            done = {}
        mode = next(m for m in self._order(pair) if m not in done)
        return PairStep(mode, pair, switch=self._last_mode is not None and mode != self._last_mode)

    def record(self, step: PairStep, rps: float | None, disturbed: str = "") -> None:
        """What `step` measured: requests/s, or None for an invalid repetition (its pair
        then counts for nothing; the level goes on to the cap). `disturbed`: why the
        repetition was disturbed; its pair ends now and is measured again (at most
        MAX_REMEASURES times) as the next pair."""
        members = self.measured.setdefault(step.pair, {})
        members[step.mode] = None if disturbed else rps
        self._last_mode = step.mode
        if not disturbed:
            return
        for mode in (self.first, self.second):
            members.setdefault(mode, None)  # the partner is not measured: the pair is over
        self.disturbed[step.pair] = disturbed
        origin, attempt = self.again.get(step.pair, (step.pair, 1))
        if attempt <= MAX_REMEASURES:
            self.again[len(self.measured) + 1] = (origin, attempt + 1)

    def remeasure_note(self, pair: int) -> dict[str, int] | None:
        """{'of': the pair measured again, 'attempt': 2 or 3} for a re-measuring pair."""
        if pair not in self.again:
            return None
        origin, attempt = self.again[pair]
        return {"of": origin, "attempt": attempt}

    def remeasured(self) -> dict[int, str]:
        """The disturbed pairs that were (or are to be) measured again, and why."""
        return {p: why for p, why in self.disturbed.items() if self._attempt(p) <= MAX_REMEASURES}

    def complete_pairs(self) -> list[tuple[float, float]]:
        """(first, second) requests/s of every pair with both members valid."""
        out = []
        for members in self.measured.values():
            a, b = members.get(self.first), members.get(self.second)
            if a and b:
                out.append((a, b))
        return out

    def ratio(self) -> Ratio:
        """The paired ratio so far (first over second)."""
        return paired_ratio(self.complete_pairs())

    def _enough(self) -> str:
        n = len(self.measured)
        if self.auto is not None:
            reason = self.auto.stop_reason(self.ratio())
            if reason:
                return reason
            if n >= self.auto.max_pairs + self._remeasures():
                return f"cap of {self.auto.max_pairs} pairs reached with too few valid pairs"
            return ""
        if n < self._wanted_pairs():
            return ""
        again = self._remeasures()
        return f"{self.pairs} pairs as asked" + (f" ({again} measured again)" if again else "")
