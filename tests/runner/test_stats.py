"""Statistics across repetitions and the per-cell verdict, on known values."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from runner.report import stats


def test_mean_stdev_cv():
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    assert stats.mean(values) == 5.0
    assert stats.stdev(values) == pytest.approx(2.138089935)  # sample (n-1) stdev
    assert stats.cv(values) == pytest.approx(2.138089935 / 5)
    assert stats.mean([]) is None
    assert stats.stdev([1.0]) is None
    assert stats.cv([1.0]) is None
    assert stats.cv([0.0, 0.0]) is None


def test_ci95_known_value():
    # n=3, mean 10, sd 1: half-width = t(0.975, 2) * 1 / sqrt(3) = 4.302653 / 1.732051
    low, high = stats.ci95([9.0, 10.0, 11.0])
    assert (high - low) / 2 == pytest.approx(4.302652730 / math.sqrt(3))
    assert (low + high) / 2 == pytest.approx(10.0)
    assert stats.ci95([1.0]) is None
    assert isinstance(low, float)


def test_clear_difference_is_faster_or_slower():
    v = stats.compare([10.0, 10.2, 9.9], [8.0, 8.1, 7.9])
    assert v.verdict == stats.ASGI_FASTER
    assert v.test == "Welch's t-test"
    assert v.n_asgi == v.n_wsgi == 3
    assert v.diff_pct == pytest.approx((10.0333333 - 8.0) / 8.0 * 100)
    assert v.ci_low_pct < v.diff_pct < v.ci_high_pct
    assert v.ci_low_pct > 0
    expected_p = sps.ttest_ind([10.0, 10.2, 9.9], [8.0, 8.1, 7.9], equal_var=False).pvalue
    assert v.p_value == pytest.approx(expected_p)
    assert stats.compare([8.0, 8.1, 7.9], [10.0, 10.2, 9.9]).verdict == stats.ASGI_SLOWER


def test_welch_ci_known_value():
    """Welch-Satterthwaite by hand: a = [1, 2, 3], w = [2, 4, 6]."""
    v = stats.compare([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    se = math.sqrt(1 / 3 + 4 / 3)
    df = se**4 / ((1 / 3) ** 2 / 2 + (4 / 3) ** 2 / 2)
    half = sps.t.ppf(0.975, df) * se
    assert v.ci_low_pct == pytest.approx((-2 - half) / 4 * 100)
    assert v.ci_high_pct == pytest.approx((-2 + half) / 4 * 100)


def test_tight_equal_results_are_no_significant_difference():
    v = stats.compare([100.0, 101.0, 99.0, 100.5], [100.2, 100.8, 99.4, 100.0])
    assert v.verdict == stats.NO_DIFFERENCE
    assert v.ci_low_pct > -5 and v.ci_high_pct < 5


def test_noisy_results_are_inconclusive_not_equal():
    """p is large, but the CI of the difference spans more than +-5%: cannot tell."""
    v = stats.compare([10.0, 12.0, 8.0], [10.0, 11.0, 9.0])
    assert v.p_value > 0.05
    assert v.verdict == stats.INCONCLUSIVE
    assert v.ci_low_pct < -5 and v.ci_high_pct > 5
    assert "more repetitions" in v.reason


def test_too_few_repetitions_are_inconclusive():
    v = stats.compare([10.0], [5.0, 5.1])
    assert v.verdict == stats.INCONCLUSIVE
    assert "at least 2 valid repetitions" in v.reason
    assert v.p_value is None
    assert v.diff_pct == pytest.approx((10.0 - 5.05) / 5.05 * 100)
    assert stats.compare([], []).verdict == stats.INCONCLUSIVE


def test_identical_repetitions_do_not_crash():
    assert stats.compare([10.0, 10.0], [10.0, 10.0]).verdict == stats.NO_DIFFERENCE
    v = stats.compare([11.0, 11.0], [10.0, 10.0])
    assert v.verdict == stats.ASGI_FASTER and v.p_value == 0.0


def test_zero_wsgi_is_inconclusive():
    assert stats.compare([1.0, 2.0], [0.0, 0.0]).verdict == stats.INCONCLUSIVE


def test_min_effect_is_a_parameter():
    asgi, wsgi = [100.0, 103.0, 97.0], [100.0, 102.0, 98.0]
    assert stats.compare(asgi, wsgi, min_effect_pct=5).verdict == stats.INCONCLUSIVE
    assert stats.compare(asgi, wsgi, min_effect_pct=20).verdict == stats.NO_DIFFERENCE


def test_verdict_to_dict_is_plain_json():
    import json

    verdict = stats.compare([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    data = verdict.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["verdict"] == verdict.verdict
