"""CPU accounting around a repetition: ab's own share of a CPU, and a host's delta less
the probe's own start-up."""

import pytest

from runner.bench import _ab_cpu_pct, _cpu_delta


def test_ab_share_of_a_cpu_comes_from_the_shells_children_times():
    times = "0m0.010s 0m0.004s\n0m1.500s 0m0.300s\n"
    assert _ab_cpu_pct(times, 2.0) == pytest.approx(90.0)
    assert _ab_cpu_pct("0m0.000s 0m0.000s\n1m0.000s 0m0.000s\n", 120.0) == pytest.approx(50.0)


@pytest.mark.parametrize("times", ["", "garbage", "0m0s 0m0s\nxmys 0m0s\n"])
def test_unreadable_times_give_no_share(times):
    assert _ab_cpu_pct(times, 1.0) is None


def test_no_share_without_ab_duration():
    assert _ab_cpu_pct("0m0s 0m0s\n0m1.0s 0m0s\n", None) is None


def test_host_delta_leaves_out_the_probes_own_cpu():
    before = {"cpu_s": 10.0, "self_cpu_s": 0.03}
    after = {"cpu_s": 12.5, "self_cpu_s": 0.04}
    assert _cpu_delta(before, after) == pytest.approx(2.46)
    assert _cpu_delta({"cpu_s": 1.0}, {"cpu_s": 1.0, "self_cpu_s": 0.05}) == 0.0
