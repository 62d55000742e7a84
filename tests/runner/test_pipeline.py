"""The pure modules chained as the runner chains them, on real recorded ab outputs:
(ab ran) -> raw files -> parse -> merge -> judge -> RunStore -> load -> report."""

from __future__ import annotations

from pathlib import Path

from runner.judge import CpuAround, judge
from runner.load import LoadSpec, get_load_generator
from runner.load.execute import merge_hosts, reparse
from runner.load.split import split_counts
from runner.model import Sample
from runner.report import build_report, summary_table
from runner.results import RunStore, load_run

DATA = Path(__file__).parent / "data"
AB = get_load_generator("ab")


def host_files(root: Path, names: list[str]) -> list[str]:
    """The recorded cases laid out as the runner pulls them back: one folder per host
    holding ab's own file names (only the ab module knows them: it wrote the command)."""
    spec = LoadSpec(urls=("http://127.0.0.1:1/ok",), concurrency=1, requests=1)
    command = AB.command(spec)
    files = []
    for i, name in enumerate(names, 1):
        host = root / f"lg{i}"
        host.mkdir(parents=True)
        (host / command.stdout).write_text((DATA / f"{name}.stdout").read_text())
        (host / command.stderr).write_text((DATA / f"{name}.stderr").read_text())
        argv = list(command.argv)
        rows = argv[argv.index("-g") + 1]
        if (DATA / f"{name}.tsv").exists():
            (host / rows).write_text((DATA / f"{name}.tsv").read_text())
        files += [str(p.relative_to(root)) for p in sorted(host.iterdir())]
    return files


def sample_from(root: Path, names: list[str], mode: str, repeat: int) -> Sample:
    folder = root / f"{mode}-{repeat}"
    files = host_files(folder, names)
    merged = merge_hosts(AB, reparse(AB, folder, files))
    base = {
        "run_id": "pipe",
        "mode": mode,
        "view": "plain-test",
        "scenario": "plain",
        "path": "/ok",
        "concurrency": 6,
        "requests": 600,
        "repeat": repeat,
        "loadgen_hosts": [f"lg{i + 1}" for i in range(len(names))],
        "load": "ab",  # as the Session's record base carries it
    }
    cpu = {"cpu_s": 0.0, "cpus": 1}
    return judge(
        base, merged, None, CpuAround(1.0, cpu, cpu, [cpu] * len(names), [cpu] * len(names))
    )


def test_recorded_runs_through_store_and_report(tmp_path):
    assert split_counts(600, 6, 2) == [(300, 3), (300, 3)]  # what merge_a/merge_b ran
    raw = tmp_path / "raw"
    store = RunStore(tmp_path / "results", "pipe")
    store.append(sample_from(raw, ["merge_a", "merge_b"], "asgi", 1))
    store.append(sample_from(raw, ["merge_b", "merge_a"], "asgi", 2))
    store.append(sample_from(raw, ["merge_a", "merge_b"], "wsgi", 1))
    store.append(sample_from(raw, ["flaky", "merge_b"], "wsgi", 2))
    store.append(sample_from(raw, ["timeout_partial", "merge_a"], "wsgi", 3))
    run = load_run(store.run_dir)
    statuses = [s.status for s in run.samples]
    assert statuses == ["ok", "ok", "ok", "invalid", "aborted"]
    assert run.samples[0].completed == 600 and run.samples[0].latency_ms is not None
    assert run.samples[4].completed == 320
    text = build_report([run], tmp_path).read_text()
    assert "20 non-2xx responses" in text
    assert "ab aborted after 320" in text
    # one valid WSGI repetition: no verdict can be drawn
    assert "**inconclusive**" in text
    assert "(ASGI 2, WSGI 1)" in summary_table([run])


def test_a_host_without_rows_leaves_the_merged_latency_unavailable(tmp_path):
    files = host_files(tmp_path, ["merge_a", "merge_b"])
    (tmp_path / "lg2" / "requests.tsv").unlink()
    files = [f for f in files if not f.startswith("lg2/requests")]
    merged = merge_hosts(AB, reparse(AB, tmp_path, files))
    assert merged.latency_ms is None
    assert "unavailable" in merged.extra["latency_note"]
    assert merged.completed == 600
