"""Statistics across repetitions, and the verdict of one cell: is ASGI faster?

The verdict comes from Welch's t-test on per-repetition requests/s (no equal-variance
assumption), never from one number. "No significant difference" is said only when the
95% confidence interval of the relative difference lies within +-`min_effect_pct`;
a wide interval that includes 0 is "inconclusive": too few or too noisy repetitions to
tell, not evidence of equality.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats as sps

ASGI_FASTER = "ASGI faster"
ASGI_SLOWER = "ASGI slower"
NO_DIFFERENCE = "no significant difference"
INCONCLUSIVE = "inconclusive"
TEST_NAME = "Welch's t-test"


def mean(values: list[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    return statistics.fmean(values) if values else None


def stdev(values: list[float]) -> float | None:
    """Sample standard deviation (n-1); None below two values."""
    return statistics.stdev(values) if len(values) >= 2 else None


def cv(values: list[float]) -> float | None:
    """Coefficient of variation (sample stdev / mean); None below two values or mean 0."""
    m, s = mean(values), stdev(values)
    if m is None or s is None or m == 0:
        return None
    return s / m


def ci95(values: list[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean; None below two values."""
    if len(values) < 2:
        return None
    m, s = statistics.fmean(values), statistics.stdev(values)
    half = float(sps.t.ppf(0.5 + confidence / 2, len(values) - 1)) * s / math.sqrt(len(values))
    return (m - half, m + half)


@dataclass(frozen=True)
class Verdict:
    """One cell's verdict. Percentages are relative to the WSGI mean; the CI is that of
    the difference of means (Welch-Satterthwaite degrees of freedom) divided by it."""

    verdict: str
    test: str
    n_asgi: int
    n_wsgi: int
    mean_asgi: float | None
    mean_wsgi: float | None
    diff_pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    p_value: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


def compare(  # size: one Welch test, its verdict's cases read top to bottom
    asgi_rps: list[float],
    wsgi_rps: list[float],
    alpha: float = 0.05,
    min_effect_pct: float = 5.0,
) -> Verdict:
    """Welch's t-test of ASGI against WSGI requests/s, one value per repetition."""
    a, w = [float(x) for x in asgi_rps], [float(x) for x in wsgi_rps]
    na, nw = len(a), len(w)
    ma, mw = mean(a), mean(w)

    def verdict(kind: str, reason: str, **figures: float | None) -> Verdict:
        base: dict[str, Any] = dict.fromkeys(("diff_pct", "ci_low_pct", "ci_high_pct", "p_value"))
        base.update(figures)
        return Verdict(kind, TEST_NAME, na, nw, ma, mw, reason=reason, **base)

    if na < 2 or nw < 2:
        return verdict(
            INCONCLUSIVE,
            f"needs at least 2 valid repetitions per mode (ASGI {na}, WSGI {nw})",
            diff_pct=_pct(ma, mw) if ma is not None and mw else None,
        )
    assert ma is not None and mw is not None
    if mw == 0:
        return verdict(INCONCLUSIVE, "WSGI mean is 0 requests/s: no relative difference")
    va, vw = statistics.variance(a), statistics.variance(w)
    diff = ma - mw
    se = math.sqrt(va / na + vw / nw)
    if se == 0:  # identical repetitions on both sides: the difference is exact
        p = 1.0 if diff == 0 else 0.0
        low = high = diff
    else:
        df = se**4 / ((va / na) ** 2 / (na - 1) + (vw / nw) ** 2 / (nw - 1))
        p = float(sps.ttest_ind(a, w, equal_var=False).pvalue)
        half = float(sps.t.ppf(1 - alpha / 2, df)) * se
        low, high = diff - half, diff + half
    figures = {
        "diff_pct": _pct(ma, mw),
        "ci_low_pct": low / mw * 100,
        "ci_high_pct": high / mw * 100,
        "p_value": p,
    }
    ci_text = f"{figures['ci_low_pct']:+.1f}%..{figures['ci_high_pct']:+.1f}%"
    if p < alpha:
        kind = ASGI_FASTER if diff > 0 else ASGI_SLOWER
        return verdict(kind, f"p = {p:.3g} < {alpha}; 95% CI {ci_text}", **figures)
    if -min_effect_pct < figures["ci_low_pct"] and figures["ci_high_pct"] < min_effect_pct:
        return verdict(
            NO_DIFFERENCE,
            f"p = {p:.3g}; 95% CI {ci_text} lies within +-{min_effect_pct:g}%",
            **figures,
        )
    return verdict(
        INCONCLUSIVE,
        f"p = {p:.3g}; 95% CI {ci_text} is wider than +-{min_effect_pct:g}%: "
        "more repetitions are needed to tell",
        **figures,
    )


def _pct(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return (a - b) / b * 100
