"""The report shows each repetition's measured timed window (runner.report.repetitions):
a column per cell and the list of repetitions in the order they ran."""

from __future__ import annotations

from runner.report import build_report
from runner.results import RunStore, load_run
from tests.runner.helpers import make_sample


def test_each_repetition_shows_its_measured_seconds(tmp_path):
    store = RunStore(tmp_path / "results", "20260101T000000Z-rep1")
    seconds = {1: (10.02, 9.98), 2: (10.01, 10.03)}
    for pair, (a, w) in seconds.items():
        for i, (mode, d) in enumerate((("asgi", a), ("wsgi", w))):
            store.append(
                make_sample(
                    run_id=store.run_id, mode=mode, path=f"/{mode}/", rps=8.0 + i / 10,
                    duration_s=d, requests=200_000, completed=80,
                    serving={"mode": mode, "workers": 1, "preset": "none"},
                    started_at=f"2026-01-01T00:00:{10 * pair + 5 * i:02d}+00:00",
                    extra={"pair": pair, "planned_s": 10.0},
                )
            )  # fmt: skip
    store.append(
        make_sample(
            run_id=store.run_id, mode="asgi", scenario="plain", path="/plain/async/",
            concurrency=10, duration_s=0.21, requests=1000,
            started_at="2026-01-01T00:01:00+00:00",
        )
    )  # fmt: skip
    store.set_metadata({"interleaved": {"users c=5": "2 pairs as asked"}})
    text = build_report([load_run(store.run_dir)], tmp_path / "out").read_text()
    assert "- users c=5: 2 pairs as asked" in text
    assert "| timed s per rep |" in text
    asgi = next(ln for ln in text.splitlines() if ln.startswith("| 5 | ASGI | original |"))
    assert "| 10.0 |" in asgi  # the cell's measured seconds, alike at one decimal
    assert "| cap 200000 |" in asgi  # time-based: the count is only a cap
    section = text[text.index("## Repetitions") :]
    assert "5 timed repetitions in the order they ran, 40 s inside timed windows" in section
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert len(rows) == 5
    assert rows[0].startswith("| 1 | 00:00:10 | users | 5 | ASGI | pair 1 | 10 s | 10.02 |")
    assert rows[1].startswith("| 2 | 00:00:15 | users | 5 | WSGI | pair 1 | 10 s | 9.98 |")
    assert "| rep 1 | 1000 req | 0.21 |" in rows[4]  # count-based: its request count
