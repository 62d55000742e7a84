"""One progress bar for a run that measures its modes in turn (runner.session)."""

from __future__ import annotations

from types import SimpleNamespace

from runner.plan import Level
from runner.session import Session


def plan(modes: tuple[str, ...]) -> SimpleNamespace:
    levels = [Level("users", 5, 1000, duration_s=10.0), Level("io", 10, 1000, duration_s=10.0)]
    return SimpleNamespace(levels=levels, repeat=3, modes=modes)


def test_the_first_mode_of_two_ends_half_way_not_at_100_percent() -> None:
    session = SimpleNamespace(_progress=None)
    compare = plan(("asgi", "wsgi"))
    first = Session._progress_for(session, compare)
    first.advance(60.0)  # the first mode's 2 levels x 3 repetitions x 10 s
    assert first.done / first.total == 0.5
    second = Session._progress_for(session, compare)
    assert second is first  # the second mode goes on the same bar


def test_a_policy_measuring_more_than_planned_widens_the_bar() -> None:
    session = SimpleNamespace(_progress=None)
    one = plan(("asgi",))
    bar = Session._progress_for(session, one)
    bar.advance(60.0)
    Session._progress_for(session, one)  # a tuning sweep's next configuration
    assert bar.total == 120.0 and bar.done / bar.total == 0.5
