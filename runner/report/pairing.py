"""Paired comparisons of ASGI and WSGI on the ratio scale: the order of an interleaved
level, the ratio's confidence interval, the adjustment across a report's cells, and the
rule that decides when `--repeat auto` has measured enough pairs.

Throughput is compared as the ratio ASGI/WSGI and every interval is computed on the log
scale, then exponentiated, so an interval can never pass a ratio of 0 (a "-117%"). With
interleaved repetitions (`balanced_order`), each ASGI repetition has a WSGI partner
measured next to it in time and the test is Student's paired t on the log ratios
(`scipy.stats.ttest_rel`): drift of the machine between pairs cancels. Runs that were
not interleaved keep an unpaired view, Welch's t on the logs (`scipy.stats.ttest_ind`
with `equal_var=False`: scipy computes the Welch-Satterthwaite degrees of freedom).

A report holds many cells; at 0.05 per cell, six cells give about a one-in-four chance
of at least one false "significant". `adjust` applies Holm's step-down method (it keeps
the chance of any false "significant" across the cells at 5%) or, when asked,
Benjamini-Hochberg (`scipy.stats.false_discovery_control`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy import stats as sps

from runner.report.stats import ASGI_FASTER, ASGI_SLOWER, INCONCLUSIVE, NO_DIFFERENCE

PAIRED_TEST = "paired t on log ratios"
UNPAIRED_TEST = "Welch's t on log throughput"
HOLM = "holm"
BENJAMINI_HOCHBERG = "bh"
ADJUSTMENTS = {
    HOLM: "Holm (family-wise error rate)",
    BENJAMINI_HOCHBERG: "Benjamini-Hochberg (false discovery rate, scipy)",
}
MIN_PAIRS = 3
DEFAULT_PRECISION_POINTS = 5.0
DEFAULT_MAX_PAIRS = 20
MAX_DURATION_S = 3600.0


class RepeatInputError(ValueError):
    """A bad repetition option: the message is the one line the user sees."""


# ---------------------------------------------------------------- interleaved order


def balanced_order(pairs: int, first: str = "asgi", second: str = "wsgi") -> list[str]:
    """The modes of an interleaved level, ABBA ABBA...: pair i is (first, second) when i
    is even and (second, first) when odd, so each mode goes first equally often and a
    linear drift over the level weighs on both modes alike."""
    if pairs < 0:
        raise ValueError(f"pairs must be 0 or more (got {pairs})")
    order: list[str] = []
    for i in range(pairs):
        order += [first, second] if i % 2 == 0 else [second, first]
    return order


def pair_up(sequence: Sequence[tuple[str, float]]) -> list[tuple[float, float]]:
    """(asgi, wsgi) pairs from an interleaved level's (mode, requests/s) in measured
    order: consecutive twos, one of each mode; a trailing half pair is left out."""
    pairs: list[tuple[float, float]] = []
    for i in range(0, len(sequence) - 1, 2):
        (mode_a, value_a), (mode_b, value_b) = sequence[i], sequence[i + 1]
        if {mode_a, mode_b} != {"asgi", "wsgi"}:
            raise ValueError(f"repetitions {i} and {i + 1} are {mode_a}, {mode_b}: not a pair")
        pairs.append((value_a, value_b) if mode_a == "asgi" else (value_b, value_a))
    return pairs


# ---------------------------------------------------------------- ratio intervals


@dataclass(frozen=True)
class Ratio:
    """ASGI/WSGI throughput ratio with its confidence interval (both on the ratio scale,
    computed on the log scale). `p_adjusted` is filled in by `adjust`."""

    test: str
    n_asgi: int
    n_wsgi: int
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    confidence: float = 0.95
    p_adjusted: float | None = None
    adjustment: str | None = None

    @property
    def half_width_points(self) -> float | None:
        """Half the interval's width in percentage points of the ratio."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2 * 100

    @property
    def n_pairs(self) -> int | None:
        """Pairs behind a paired ratio; None for the unpaired view."""
        return self.n_asgi if self.test == PAIRED_TEST else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form, with the half-width."""
        return {**asdict(self), "half_width_points": self.half_width_points}


def _logs(values: Sequence[float], what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{what} requests/s must be finite and above 0 to take a ratio")
    return np.log(array)


def _constant(logs: np.ndarray) -> bool:
    """All equal but for floating-point rounding (1.02 = 102/100 = 91.8/90 on the log
    scale differs in the last bits): t would divide by a rounding error."""
    return float(np.ptp(logs)) <= 1e-12


def _exact(diff: float, n_asgi: int, n_wsgi: int, test: str, confidence: float) -> Ratio:
    """Identical log differences everywhere: the ratio is known exactly."""
    p = 1.0 if diff == 0 else 0.0
    r = math.exp(diff)
    return Ratio(test, n_asgi, n_wsgi, r, r, r, p, confidence)


def paired_ratio(pairs: Sequence[tuple[float, float]], confidence: float = 0.95) -> Ratio:
    """Paired t on log(asgi/wsgi), one (asgi, wsgi) requests/s pair per neighbour-in-time
    repetitions: the geometric mean ratio, its interval and the two-sided p of ratio 1."""
    n = len(pairs)
    if n < 2:
        ratio = math.exp(float(np.mean(_logs([a / w for a, w in pairs], "pair")))) if n else None
        return Ratio(PAIRED_TEST, n, n, ratio, None, None, None, confidence)
    log_a = _logs([a for a, _ in pairs], "ASGI")
    log_w = _logs([w for _, w in pairs], "WSGI")
    diffs = log_a - log_w
    mean = float(np.mean(diffs))
    if _constant(diffs):
        return _exact(mean, n, n, PAIRED_TEST, confidence)
    result = sps.ttest_rel(log_a, log_w)
    ci = result.confidence_interval(confidence)
    return Ratio(
        PAIRED_TEST,
        n,
        n,
        math.exp(mean),
        math.exp(float(ci.low)),
        math.exp(float(ci.high)),
        float(result.pvalue),
        confidence,
    )


def unpaired_ratio(asgi: Sequence[float], wsgi: Sequence[float], confidence: float = 0.95) -> Ratio:
    """Welch's t on log requests/s (runs that were not interleaved): the ratio of the
    geometric means, its interval with scipy's Welch degrees of freedom, and p."""
    na, nw = len(asgi), len(wsgi)
    if na < 2 or nw < 2:
        ratio = None
        if na and nw:
            ratio = math.exp(float(np.mean(_logs(asgi, "ASGI")) - np.mean(_logs(wsgi, "WSGI"))))
        return Ratio(UNPAIRED_TEST, na, nw, ratio, None, None, None, confidence)
    log_a, log_w = _logs(asgi, "ASGI"), _logs(wsgi, "WSGI")
    diff = float(np.mean(log_a) - np.mean(log_w))
    if _constant(log_a) and _constant(log_w):
        return _exact(diff, na, nw, UNPAIRED_TEST, confidence)
    result = sps.ttest_ind(log_a, log_w, equal_var=False)
    ci = result.confidence_interval(confidence)
    return Ratio(
        UNPAIRED_TEST,
        na,
        nw,
        math.exp(diff),
        math.exp(float(ci.low)),
        math.exp(float(ci.high)),
        float(result.pvalue),
        confidence,
    )


# ---------------------------------------------------------------- multiplicity


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order: the i-th smallest p is
    multiplied by (m - i), running maximum over the sorted order, capped at 1."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def adjust(ratios: Sequence[Ratio], method: str = HOLM) -> list[Ratio]:
    """The ratios with `p_adjusted` across all of them (cells without a p keep None)."""
    if method not in ADJUSTMENTS:
        raise ValueError(f"adjustment must be one of: {', '.join(ADJUSTMENTS)} (got {method!r})")
    tested = [i for i, r in enumerate(ratios) if r.p_value is not None]
    ps = [float(ratios[i].p_value) for i in tested]  # type: ignore[arg-type]
    if not ps:
        adjusted: list[float] = []
    elif method == HOLM:
        adjusted = holm(ps)
    else:
        adjusted = [float(p) for p in sps.false_discovery_control(ps, method="bh")]
    by_index = dict(zip(tested, adjusted, strict=True))
    label = f"{ADJUSTMENTS[method]} over {len(ps)} cells"
    return [replace(r, p_adjusted=by_index.get(i), adjustment=label) for i, r in enumerate(ratios)]


# ---------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class RatioVerdict:
    """One cell's verdict from its ratio: the words, and why."""

    verdict: str
    reason: str
    ratio: Ratio

    @property
    def test(self) -> str:
        """The test behind the verdict."""
        return self.ratio.test

    @property
    def n_asgi(self) -> int:
        """Valid ASGI repetitions (pairs, when paired)."""
        return self.ratio.n_asgi

    @property
    def n_wsgi(self) -> int:
        """Valid WSGI repetitions (pairs, when paired)."""
        return self.ratio.n_wsgi

    @property
    def diff_pct(self) -> float | None:
        """ASGI against WSGI in percent: (ratio - 1) x 100."""
        return None if self.ratio.ratio is None else (self.ratio.ratio - 1) * 100

    @property
    def ci_low_pct(self) -> float | None:
        """The interval's low end as ASGI against WSGI in percent."""
        return None if self.ratio.ci_low is None else (self.ratio.ci_low - 1) * 100

    @property
    def ci_high_pct(self) -> float | None:
        """The interval's high end as ASGI against WSGI in percent."""
        return None if self.ratio.ci_high is None else (self.ratio.ci_high - 1) * 100

    @property
    def p_value(self) -> float | None:
        """The p the verdict read: adjusted across the report's cells when it was."""
        r = self.ratio
        return r.p_adjusted if r.p_adjusted is not None else r.p_value

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            **self.ratio.to_dict(),
            "diff_pct": self.diff_pct,
        }


def judge(ratio: Ratio, alpha: float = 0.05, min_effect_pct: float = 5.0) -> RatioVerdict:
    """Faster/slower when the (adjusted, if adjusted) p is below alpha; "no significant
    difference" only when the whole interval lies within 1 +- min_effect_pct/100;
    otherwise inconclusive: too few or too noisy repetitions to tell."""
    if ratio.ci_low is None or ratio.ci_high is None or ratio.ratio is None:
        if ratio.test == PAIRED_TEST:
            need = f"needs at least 2 pairs (has {ratio.n_asgi})"
        else:
            need = (
                "needs at least 2 valid repetitions per mode "
                f"(ASGI {ratio.n_asgi}, WSGI {ratio.n_wsgi})"
            )
        return RatioVerdict(INCONCLUSIVE, need, ratio)
    p = ratio.p_adjusted if ratio.p_adjusted is not None else ratio.p_value
    assert p is not None
    p_text = f"p = {p:.3g}" + (" (adjusted)" if ratio.p_adjusted is not None else "")
    interval = f"{ratio.ci_low:.3f}..{ratio.ci_high:.3f}"
    ci_text = f"ratio {ratio.ratio:.3f}, {ratio.confidence:.0%} CI {interval}"
    if p < alpha:
        kind = ASGI_FASTER if ratio.ratio > 1 else ASGI_SLOWER
        return RatioVerdict(kind, f"{p_text} < {alpha:g}; {ci_text}", ratio)
    bound = min_effect_pct / 100
    if 1 - bound < ratio.ci_low and ratio.ci_high < 1 + bound:
        return RatioVerdict(NO_DIFFERENCE, f"{p_text}; {ci_text} lies within 1 +- {bound:g}", ratio)
    return RatioVerdict(
        INCONCLUSIVE,
        f"{p_text}; {ci_text} is wider than 1 +- {bound:g}: more pairs are needed to tell",
        ratio,
    )


# ---------------------------------------------------------------- --repeat auto


def cell_ratio(asgi: Sequence[tuple[Any, float]], wsgi: Sequence[tuple[Any, float]]) -> Ratio:
    """A cell's ratio from (pair number or None, requests/s) per valid repetition and
    mode: paired over the pair numbers both modes have when every repetition has one
    (an interleaved run), Welch on the logs otherwise."""
    if asgi and wsgi and all(k is not None for k, _ in [*asgi, *wsgi]):
        by_pair_w = dict(wsgi)
        pairs = [(a, by_pair_w[k]) for k, a in asgi if k in by_pair_w]
        if pairs:
            return paired_ratio(pairs)
    return unpaired_ratio([v for _, v in asgi], [v for _, v in wsgi])


@dataclass(frozen=True)
class AutoRepeat:
    """`--repeat auto`: at least `min_pairs` pairs, then one more pair at a time until
    the ratio's interval half-width is within `precision_points`, or `max_pairs`."""

    precision_points: float = DEFAULT_PRECISION_POINTS
    max_pairs: int = DEFAULT_MAX_PAIRS
    min_pairs: int = MIN_PAIRS

    def __post_init__(self) -> None:
        check_precision(self.precision_points)
        check_pair_cap(self.max_pairs)

    def stop_reason(self, ratio: Ratio) -> str | None:
        """Why this level has measured enough pairs, or None to measure another."""
        n = ratio.n_asgi
        half = ratio.half_width_points
        if n >= self.min_pairs and half is not None and half <= self.precision_points:
            return (
                f"precision reached: +-{half:.2f} points <= {self.precision_points:g} "
                f"after {n} pairs"
            )
        if n >= self.max_pairs:
            shown = "unknown" if half is None else f"{half:.2f}"
            return (
                f"cap of {self.max_pairs} pairs reached: +-{shown} points, "
                f"target {self.precision_points:g}"
            )
        return None


# ---------------------------------------------------------------- bad input


def check_duration(seconds: float) -> float:
    """A repetition's duration: above 0 and at most an hour."""
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_DURATION_S:
        raise RepeatInputError(
            f"--duration must be above 0 and at most {MAX_DURATION_S:g} seconds "
            f"(got {seconds:g}): pass e.g. --duration 10"
        )
    return seconds


def check_precision(points: float) -> float:
    """`--precision`: a half-width in points of the ratio, above 0."""
    if not math.isfinite(points) or points <= 0:
        raise RepeatInputError(
            f"--precision must be above 0 points of the ratio (got {points:g}): "
            "pass e.g. --precision 3"
        )
    return points


def check_pair_cap(pairs: int) -> int:
    """The cap of pairs for `--repeat auto`: at least MIN_PAIRS."""
    if pairs < MIN_PAIRS:
        raise RepeatInputError(
            f"the cap of pairs must be at least {MIN_PAIRS} (got {pairs}): "
            f"--repeat auto measures {MIN_PAIRS} pairs before it looks at the interval"
        )
    return pairs


def check_interleaved_modes(modes: Sequence[str]) -> tuple[str, str]:
    """An interleaved comparison needs both modes, once each."""
    if sorted(modes) != ["asgi", "wsgi"]:
        raise RepeatInputError(
            f"an interleaved compare needs both modes, asgi and wsgi (got "
            f"{', '.join(modes) or 'none'}): pass --modes asgi,wsgi or drop --interleave"
        )
    return ("asgi", "wsgi")
