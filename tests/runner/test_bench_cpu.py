"""CPU accounting around a repetition: ab's own share of a CPU, and a host's delta less
the probe's own start-up."""

import pytest

from runner.judge import cpu_delta as _cpu_delta
from runner.load.execute import tool_cpu_s


def test_tool_cpu_comes_from_the_shells_children_times():
    times = "0m0.010s 0m0.004s\n0m1.500s 0m0.300s\n"
    assert tool_cpu_s(times) == pytest.approx(1.8)
    assert tool_cpu_s("0m0.000s 0m0.000s\n1m0.000s 0m0.000s\n") == pytest.approx(60.0)


@pytest.mark.parametrize("times", ["", "garbage", "0m0s 0m0s\nxmys 0m0s\n"])
def test_unreadable_times_give_no_cpu(times):
    assert tool_cpu_s(times) is None


def test_host_delta_leaves_out_the_probes_own_cpu():
    before = {"cpu_s": 10.0, "self_cpu_s": 0.03}
    after = {"cpu_s": 12.5, "self_cpu_s": 0.04}
    assert _cpu_delta(before, after) == pytest.approx(2.46)
    assert _cpu_delta({"cpu_s": 1.0}, {"cpu_s": 1.0, "self_cpu_s": 0.05}) == 0.0
