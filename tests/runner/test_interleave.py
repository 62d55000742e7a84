"""One interleaved level: ABBA order, switches, fixed pairs, --repeat auto's stop."""

from __future__ import annotations

import numpy as np
import pytest

from runner.policies.interleave import InterleavedLevel
from runner.report.pairing import AutoRepeat


def drive(level: InterleavedLevel, rps) -> list[tuple[str, int, bool]]:
    """Run the level to its end, measuring `rps(mode, pair)`; the steps taken."""
    steps = []
    while (step := level.next_step()) is not None:
        steps.append((step.mode, step.pair, step.switch))
        level.record(step, rps(step.mode, step.pair))
        assert len(steps) < 200
    return steps


def test_fixed_pairs_run_abba_and_switch_only_when_the_mode_changes():
    level = InterleavedLevel(pairs=3)
    steps = drive(level, lambda mode, pair: 100.0 if mode == "asgi" else 90.0)
    assert [m for m, _, _ in steps] == ["asgi", "wsgi", "wsgi", "asgi", "asgi", "wsgi"]
    assert [p for _, p, _ in steps] == [1, 1, 2, 2, 3, 3]
    assert [s for _, _, s in steps] == [False, True, False, True, False, True]
    assert level.stop_reason == "3 pairs as asked"
    assert level.ratio().ratio == pytest.approx(100.0 / 90.0)


def test_an_invalid_repetition_leaves_its_pair_out():
    level = InterleavedLevel(pairs=3)
    drive(level, lambda mode, pair: None if (mode, pair) == ("wsgi", 2) else 100.0)
    assert len(level.complete_pairs()) == 2


def test_auto_stops_at_the_precision_with_at_least_three_pairs():
    rng = np.random.default_rng(5)
    level = InterleavedLevel(auto=AutoRepeat(precision_points=3, max_pairs=30))
    drive(level, lambda mode, pair: (50.0 if mode == "asgi" else 100.0) * rng.lognormal(0, 0.01))
    n = len(level.complete_pairs())
    assert 3 <= n < 30
    assert (
        level.stop_reason.startswith("precision reached") and level.ratio().half_width_points <= 3
    )


def test_auto_stops_at_the_cap_when_the_noise_is_too_large():
    rng = np.random.default_rng(6)
    level = InterleavedLevel(auto=AutoRepeat(precision_points=0.5, max_pairs=4))
    drive(level, lambda mode, pair: 100.0 * rng.lognormal(0, 0.2))
    assert len(level.measured) == 4 and level.stop_reason.startswith("cap of 4 pairs")
