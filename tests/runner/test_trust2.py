"""Numbers you can trust, part 2 (issue #13), the pure parts: disturbed pairs measured
again (at most twice), the thresholds and --cross-check as plan options with their bad
input, the cross-check's levels and duration, the report's side-by-side and counts,
time under load from timed windows, and the ab/wrk ratio's interval."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import abwrk
from runner.crosscheck import chosen_levels, duration_for
from runner.plan import Level, PlanError, PlanOptions, build_plan
from runner.policies.interleave import InterleavedLevel
from runner.report.cells import build_cells
from runner.report.sections import ceiling_section
from runner.report.trust import cross_rows, disturbed_section
from runner.results import RunData
from runner.underload import summary_line, under_load_s
from tests.runner.helpers import make_sample


def drive(level: InterleavedLevel, disturbed) -> list[tuple[str, int]]:
    steps = []
    while (step := level.next_step()) is not None:
        steps.append((step.mode, step.pair))
        level.record(step, 100.0, disturbed(step.mode, step.pair))
        assert len(steps) < 100
    return steps


def test_a_disturbed_pair_is_measured_again_as_the_next_pair():
    level = InterleavedLevel(pairs=2)
    steps = drive(level, lambda mode, pair: "steal" if (mode, pair) == ("wsgi", 1) else "")
    # pair 1 disturbed on its second member; the next pair measures it again; 2 valid
    assert [p for _, p in steps] == [1, 1, 2, 2, 3, 3]
    assert level.remeasure_note(2) == {"of": 1, "attempt": 2}
    assert level.remeasure_note(3) is None
    assert len(level.complete_pairs()) == 2
    assert level.remeasured() == {1: "steal"}
    assert level.stop_reason == "2 pairs as asked (1 measured again)"


def test_a_disturbed_first_member_ends_its_pair_at_once():
    level = InterleavedLevel(pairs=1)
    steps = drive(level, lambda mode, pair: "outside" if pair == 1 else "")
    assert steps == [("asgi", 1), ("wsgi", 2), ("asgi", 2)]  # ABBA goes on
    assert len(level.complete_pairs()) == 1


def test_a_pair_is_measured_again_at_most_twice():
    level = InterleavedLevel(pairs=1)
    steps = drive(level, lambda mode, pair: "steal")  # always disturbed
    assert [p for _, p in steps] == [1, 2, 3]  # the first, then two more attempts
    assert level.complete_pairs() == []
    assert level.remeasure_note(3) == {"of": 1, "attempt": 3}
    assert set(level.remeasured()) == {1, 2}  # pair 3's disturbance is not re-measured


def opts(**kw) -> PlanOptions:
    return PlanOptions(scenario="plain,users", concurrency="2,5", requests="20", repeat=1, **kw)


@pytest.mark.parametrize(
    ("kw", "line"),
    [
        ({"max_steal": -1}, "--max-steal must be a percentage from 0 to 100, not -1"),
        ({"max_outside": 100.5}, "--max-outside must be a percentage from 0 to 100, not 100.5"),
        ({"cross_check": "some"}, "--cross-check takes one, all or none, not 'some'"),
        ({"cross_check": "one", "load": "wrk", "duration": 2}, "it needs --load ab"),
    ],
)
def test_bad_thresholds_and_cross_checks_are_one_line(kw, line):
    with pytest.raises(PlanError) as err:
        build_plan(opts(**kw))
    assert line in str(err.value) and "\n" not in str(err.value)


def test_the_defaults_are_two_and_five_percent_and_no_cross_check():
    plan = build_plan(opts())
    assert (plan.steal_max_pct, plan.outside_max_pct, plan.cross_check) == (2.0, 5.0, "")
    assert build_plan(opts(cross_check="none")).cross_check == ""


def test_one_cross_check_per_scenario_at_its_highest_concurrency_or_all():
    plan = build_plan(opts(cross_check="one"))
    assert {(lv.scenario, lv.concurrency) for lv in chosen_levels(plan)} == {
        ("plain", 5),
        ("users", 5),
    }
    assert len(chosen_levels(build_plan(opts(cross_check="all")))) == 4


def test_wrk_runs_for_abs_own_span():
    assert duration_for(Level("users", 5, 100, duration_s=2.0), []) == 2.0
    timed = [make_sample(duration_s=d) for d in (3.2, 2.6, 9.0)]
    assert duration_for(Level("users", 5, 100), timed) == 3.0  # the median, whole seconds
    assert duration_for(Level("users", 5, 100), []) == 1.0


def run_of(samples) -> RunData:
    meta = {"machine_class": {"cpus": 1}}
    return RunData(run_id="run1", run_dir=Path("."), metadata=meta, samples=samples)


def test_the_report_puts_ab_beside_wrk_and_flags_a_gap_above_five_percent():
    timed = [make_sample(rps=r, repeat=i) for i, r in enumerate((100.0, 102.0), 1)]
    near = make_sample(kind="crosscheck", load="wrk", rps=104.0, repeat=0)
    far = make_sample(kind="crosscheck", load="wrk", rps=120.0, repeat=0, concurrency=5)
    cells = build_cells(timed)
    rows = cross_rows([run_of([*timed, near])], cells)
    assert rows[0][4:7] == ["101.00", "104.00", "+3.0%"] and rows[0][7] == "agree"
    rows = cross_rows([run_of([*timed, far])], cells)
    assert "differ by more than 5%" in rows[0][7]
    bad = make_sample(kind="crosscheck", load="wrk", status="invalid", reason="4 failed requests")
    assert "no comparison: 4 failed requests" in cross_rows([run_of([*timed, bad])], cells)[0][7]


def test_the_report_counts_disturbed_repetitions_and_pairs_measured_again():
    window = {"cpu_source": "timed window"}
    samples = [
        make_sample(extra={**window, "pair": 1, "disturbed": ["x"], "disturbed_by": ["steal"]}),
        make_sample(extra={**window, "pair": 2, "remeasure": {"of": 1, "attempt": 2}}),
        make_sample(extra={**window, "pair": 2, "remeasure": {"of": 1, "attempt": 2}}),
    ]
    text = "\n".join(disturbed_section([run_of(samples)]))
    assert "1 of 3 timed repetitions were disturbed" in text
    assert "1 pair(s) (or repetitions" in text and "- CPU steal: 1" in text
    assert disturbed_section([run_of([make_sample()])]) == []  # no window readings


def test_the_ceiling_pairs_the_best_cell_with_its_own_cpu_and_marks_above_100_suspect():
    # c=2: 0.5 ms and 1,000 req/s (50%); c=5: 0.9 ms and 1,500 req/s -> 135%: suspect.
    samples = [
        make_sample(concurrency=2, rps=1000.0, server_cpu_s_per_request=0.0005),
        make_sample(concurrency=5, rps=1500.0, server_cpu_s_per_request=0.0009),
    ]
    lines = ceiling_section([run_of(samples)], build_cells(samples))
    row = next(ln for ln in lines if ln.startswith("| users"))
    assert "| 5 | 0.90 |" in row and "135% (suspect:" in row
    ok = [make_sample(concurrency=2, rps=1000.0, server_cpu_s_per_request=0.0005)]
    row = next(ln for ln in ceiling_section([run_of(ok)], build_cells(ok)) if ln.startswith("| u"))
    assert row.endswith("| 50% |")


def test_the_ceiling_share_is_the_mean_of_each_repetitions_own_share():
    # 10 req/s at 90 ms (90%) and 5 req/s at 190 ms (95%): each is below the host's CPU,
    # but the mean throughput (7.5) at the mean cost (140 ms) would read 105%.
    samples = [
        make_sample(concurrency=5, repeat=1, rps=10.0, server_cpu_s_per_request=0.090),
        make_sample(concurrency=5, repeat=2, rps=5.0, server_cpu_s_per_request=0.190),
    ]
    row = next(
        ln
        for ln in ceiling_section([run_of(samples)], build_cells(samples))
        if ln.startswith("| u")
    )
    assert row.endswith("| 92% |") and "suspect" not in row


def test_time_under_load_counts_timed_windows_only():
    samples = [
        {"kind": "timed", "duration_s": 10.0, "extra": {"cpu_window": {"window_s": 9.5}}},
        {"kind": "timed", "duration_s": 4.0, "extra": {}},
        {"kind": "crosscheck", "duration_s": 2.0},
        {"kind": "instrumented", "duration_s": 30.0},
    ]
    assert under_load_s(samples) == pytest.approx(15.5)
    assert summary_line(samples, 31.0) == (
        "time under load: 15.5 s of timed windows in 31.0 s of wall time (50%)"
    )


def test_the_ab_wrk_ratio_has_a_scipy_interval_and_a_verdict():
    pairs = [
        {"ab_rps": a, "wrk_rps": w, "ab_status": "ok", "wrk_status": "ok"}
        for a, w in ((100, 101), (99, 100), (101, 100), (100, 99.5), (98, 100))
    ]
    got = abwrk.summarize([*pairs, {"ab_rps": 50, "wrk_rps": 100, "ab_status": "invalid"}])
    assert got["valid_pairs"] == 5
    assert got["ci_low"] < got["ratio"] < got["ci_high"] and got["within_5pct"] is True
    far = [dict(p, wrk_rps=p["wrk_rps"] * 1.25) for p in pairs]
    assert abwrk.summarize(far)["within_5pct"] is False
    assert "95% CI" in abwrk.figure_text(got)
    assert abwrk.summarize([])["within_5pct"] is None


class ShellRemote:
    """A load generator whose commands run in a real shell here, with a PATH that holds
    ab only (as a host where wrk is not installed)."""

    def __init__(self, host, bin_dir: Path) -> None:
        self.host, self.bin_dir = host, bin_dir

    def run(self, command: str, timeout: float = 60, warn: bool = False, label: str = ""):
        import subprocess

        from runner.remote import RemoteError

        done = subprocess.run(
            ["/bin/bash", "-c", command],
            env={"PATH": str(self.bin_dir)},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode and not warn:
            last = (done.stderr or done.stdout).strip().splitlines()[-1]
            raise RemoteError(f"{self.host.name}: `{label}` exited {done.returncode}: {last}")
        return done

    def close(self) -> None:
        pass


def test_cross_check_with_wrk_not_installed_is_one_clear_line(tmp_path, monkeypatch):
    import shutil

    from runner import session as session_mod
    from runner.inventory import Host, Inventory
    from runner.remote import RemoteError
    from runner.results import RunStore

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ab").symlink_to(shutil.which("ab") or "/bin/true")
    host = Host("lg1", "198.18.0.21", "root", None, "198.18.0.21", str(tmp_path))
    app = Host("app", "198.18.0.10", "root", None, "198.18.0.10", str(tmp_path))
    inv = Inventory("inventory/local.yml", app, (host,))
    monkeypatch.setattr(session_mod, "connect", lambda h: ShellRemote(h, bin_dir))
    plan = build_plan(opts(cross_check="one"))
    s = session_mod.Session(plan, inv, RunStore(tmp_path / "results", "r1"))
    with pytest.raises(RemoteError) as err:
        s.open()
    line = str(err.value)
    assert "exited 127: wrk is missing on this load generator (wrk)" in line
    assert line.endswith("or drop --cross-check") and "\n" not in line
    no_cross = session_mod.Session(build_plan(opts()), inv, RunStore(tmp_path / "res2", "r2"))
    no_cross.open()  # without --cross-check, ab alone is asked for


def test_a_disturbed_repetition_outside_pairs_is_measured_again_at_most_twice(tmp_path):
    from runner import session as session_mod
    from runner.inventory import Host, Inventory
    from runner.model import Sample
    from runner.results import RunStore

    app = Host("app", "198.18.0.10", "root", None, "198.18.0.10", str(tmp_path))
    inv = Inventory("inventory/local.yml", app, (app,))
    store = RunStore(tmp_path / "results", "r1")
    s = session_mod.Session(build_plan(opts()), inv, store)
    always = make_sample(status="invalid", reason="disturbed: x", extra={"disturbed": ["x"]})
    s.repetition = lambda *args: Sample.from_dict(always.to_dict())
    again = s._again_if_disturbed(s.plan, None, s.plan.levels[0], "/p/", always)
    assert [a.extra["remeasure"]["attempt"] for a in again] == [2, 3]
    assert len(store.samples) == 2  # each attempt stored at once
    quiet = [make_sample()]
    s.repetition = lambda *args: quiet[0]
    assert s._again_if_disturbed(s.plan, None, s.plan.levels[0], "/p/", always) == quiet
    assert s._again_if_disturbed(s.plan, None, s.plan.levels[0], "/p/", make_sample()) == []
