"""benchmarks/reproduce.py on synthetic runs: cells, pairing, contradictions, the CLI."""

from __future__ import annotations

import json

from benchmarks import reproduce
from runner.model import Sample
from runner.report.stats import ASGI_FASTER, ASGI_SLOWER, INCONCLUSIVE
from runner.results import RunStore


def sample(mode: str, rps: float, concurrency: int = 5, repeat: int = 0, **extra) -> Sample:
    return Sample(
        run_id="r",
        mode=mode,
        view="sync",
        scenario="users",
        path="/users/sync/",
        concurrency=concurrency,
        requests=100,
        repeat=repeat,
        rps=rps,
        extra=dict(extra),
    )


def run(asgi: list[float], wsgi: list[float], concurrency: int = 5, paired: bool = False):
    out = []
    for i, (a, w) in enumerate(zip(asgi, wsgi, strict=True)):
        extra = {"pair": i} if paired else {}
        out += [
            sample("asgi", a, concurrency, i, **extra),
            sample("wsgi", w, concurrency, i, **extra),
        ]
    return out


def test_paired_when_every_repetition_has_its_pair_number():
    drifting = run([102.0, 91.8, 81.6], [100.0, 90.0, 80.0], paired=True)
    (ratio,) = reproduce.cell_ratios(drifting).values()
    assert ratio.test == "paired t on log ratios" and ratio.ci_low == ratio.ci_high
    (unpaired,) = reproduce.cell_ratios(run([102.0, 91.8, 81.6], [100.0, 90.0, 80.0])).values()
    assert unpaired.test.startswith("Welch")


def test_cells_with_one_mode_or_invalid_repetitions_are_left_out():
    samples = [sample("asgi", 10.0), sample("asgi", 11.0), sample("wsgi", 0.0)]
    assert reproduce.cell_ratios(samples) == {}


def test_verdicts_are_adjusted_across_the_runs_cells():
    cells = run([110.0, 111.0, 109.0], [100.0, 100.5, 99.5]) + run(
        [100.0, 101.0, 99.0], [100.0, 100.5, 99.5], concurrency=20
    )
    judged = reproduce.verdicts(cells)
    assert len(judged) == 2
    assert all("Holm" in v.ratio.adjustment for v in judged.values())
    assert judged[("users", "sync", 5, False, "none")].verdict == ASGI_FASTER


def test_contradictions_both_ways_and_outside_the_other_interval():
    faster = reproduce.verdicts(run([110.0, 111.0, 109.0], [100.0, 100.5, 99.5]))
    slower = reproduce.verdicts(run([90.0, 91.0, 89.0], [100.0, 100.5, 99.5]))
    tight_same = reproduce.verdicts(run([100.2, 99.9, 100.1], [100.0, 100.5, 99.5]))
    noisy = reproduce.verdicts(run([130.0, 80.0, 105.0], [100.0, 100.5, 99.5]))
    (both_ways,) = reproduce.agreement(faster, slower)
    assert "both ways" in both_ways.contradiction and not both_ways.same_verdict
    (outside,) = reproduce.agreement(faster, tight_same)
    assert "outside the other's CI" in outside.contradiction
    (fine,) = reproduce.agreement(faster, noisy)  # 1.1 lies inside the noisy interval
    assert fine.contradiction == "" and fine.second.verdict == INCONCLUSIVE
    (same,) = reproduce.agreement(slower, slower)
    assert same.same_verdict and same.first.verdict == ASGI_SLOWER


def test_cli_compares_two_run_folders(tmp_path, capsys):
    folders = []
    for name, asgi in (("a", [110.0, 111.0, 109.0]), ("b", [90.0, 91.0, 89.0])):
        store = RunStore(tmp_path, name)
        for s in run(asgi, [100.0, 100.5, 99.5]):
            store.append(s)
        folders.append(str(store.run_dir))
    out_json = tmp_path / "cmp.json"
    assert reproduce.main([*folders, "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "0 of 1 cells kept the same verdict; 1 contradiction(s)" in printed
    assert "| users sync c=5 |" in printed
    doc = json.loads(out_json.read_text())
    assert doc[0]["first"]["verdict"] == ASGI_FASTER


def test_cli_says_when_a_folder_is_not_a_run(tmp_path, capsys):
    assert reproduce.main([str(tmp_path / "x"), str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reproduce: ") and len(err.strip().splitlines()) == 1


def test_open_loop_steps_are_not_cells_and_commits_are_checked():
    closed = run([10.0, 10.1, 9.9], [10.0, 10.0, 10.0], paired=True)
    capacity = [
        Sample(**{**sample(m, 50.0, 64).to_dict(), "offered_rate": 50.0, "load": "open"})
        for m in ("asgi", "wsgi", "asgi", "wsgi")
    ]
    assert list(reproduce.cell_ratios(closed + capacity)) == [("users", "sync", 5, False, "none")]
    assert reproduce.commits_note(closed, closed) == ""
    other = [Sample(**{**s.to_dict(), "commit": "beef"}) for s in closed]
    assert "not of one commit" in reproduce.commits_note(closed, other)
