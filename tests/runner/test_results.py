"""The run folder: append + atomic rewrite, resume identities, clear errors on a folder
that cannot be written or a full disk (a real 64 KiB tmpfs when we are root)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner import results as results_mod
from runner.results import RunStore, RunStoreError, load_run, new_run_id
from tests.runner.helpers import make_sample


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "64k", read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs at `where`, always unmounted afterwards; skip when we cannot mount."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], timeout=20, check=False)


def read_results(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def test_new_run_id_is_sortable_and_unique():
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    for rid in ids:
        assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", rid)


def test_append_writes_jsonl_and_results(tmp_path):
    store = RunStore(tmp_path / "results", "r1")
    assert not store.run_dir.exists()  # nothing written until there is something to keep
    store.set_metadata({"commit": "abc"})
    store.append(make_sample(repeat=1))
    store.append(make_sample(repeat=2, status="invalid", reason="3 non-2xx responses"))
    lines = (store.run_dir / "samples.jsonl").read_text().splitlines()
    assert [json.loads(ln)["repeat"] for ln in lines] == [1, 2]
    doc = read_results(store.run_dir)
    assert doc["schema"] == 2
    assert doc["metadata"]["commit"] == "abc" and doc["metadata"]["run_id"] == "r1"
    assert [s["status"] for s in doc["samples"]] == ["ok", "invalid"]
    assert [s["valid"] for s in doc["samples"]] == [True, False]
    assert not list(store.run_dir.glob(".*tmp"))
    assert store.has_samples()


def test_load_and_resume_identities(tmp_path):
    store = RunStore(tmp_path, "r1")
    kept = [
        make_sample(repeat=1),
        make_sample(repeat=2, status="invalid", reason="x"),
        make_sample(repeat=3, status="aborted", reason="ab aborted"),
    ]
    failed = make_sample(repeat=4, status="failed", stage="load", error="ssh lost", rps=None)
    for s in [*kept, failed]:
        store.append(s)
    again = RunStore(tmp_path, "r1")  # what --resume does
    assert len(again.samples) == 4
    assert again.completed_identities() == {s.identity() for s in kept}
    assert failed.identity() not in again.completed_identities()
    data = load_run(store.run_dir)
    assert data.run_id == "r1" and data.samples == [*kept, failed]


def test_metadata_per_mode_and_deploys(tmp_path):
    store = RunStore(tmp_path, "r1")
    store.update_metadata(
        "asgi",
        {
            "commit": "c1",
            "hosts": {"app": {"cpus": 1}},
            "commands": ["fab bench"],
            "started_at": "t0",
        },
    )
    store.update_metadata(
        "wsgi",
        {
            "commit": "c1",
            "hosts": {"lg1": {"cpus": 1}},
            "commands": ["fab bench"],
            "started_at": "t1",
        },
    )
    store.note_deploy("wsgi", 12.345)
    meta = read_results(store.run_dir)["metadata"]
    assert set(meta["modes"]) == {"asgi", "wsgi"}
    assert meta["started_at"] == "t0"
    assert set(meta["hosts"]) == {"app", "lg1"}
    assert meta["commands"] == ["fab bench"]
    assert meta["deploys"][0]["mode"] == "wsgi" and meta["deploys"][0]["seconds"] == 12.35


def test_a_line_cut_by_a_crash_loses_only_itself(tmp_path):
    store = RunStore(tmp_path, "r1")
    store.append(make_sample(repeat=1))
    store.append(make_sample(repeat=2))
    with open(store.run_dir / "samples.jsonl", "a") as fh:
        fh.write('{"run_id": "r1", "mode": "as')
    assert [s.repeat for s in load_run(store.run_dir).samples] == [1, 2]


def test_samples_jsonl_wins_when_results_json_is_behind(tmp_path):
    store = RunStore(tmp_path, "r1")
    store.append(make_sample(repeat=1))
    behind = (store.run_dir / "results.json").read_text()
    store.append(make_sample(repeat=2))
    (store.run_dir / "results.json").write_text(behind)  # a crash between the two writes
    assert len(load_run(store.run_dir).samples) == 2


def test_failed_rewrite_leaves_results_json_intact(tmp_path, monkeypatch):
    store = RunStore(tmp_path, "r1")
    store.append(make_sample(repeat=1))
    before = (store.run_dir / "results.json").read_bytes()

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results_mod.os, "replace", no_space)
    with pytest.raises(RunStoreError) as err:
        store.append(make_sample(repeat=2))
    msg = str(err.value)
    assert "no space left on device" in msg and str(store.run_dir / "results.json") in msg
    assert "\n" not in msg
    assert (store.run_dir / "results.json").read_bytes() == before
    assert not list(store.run_dir.glob(".*tmp"))


def test_permission_error_message(tmp_path, monkeypatch):
    real_mkdir = Path.mkdir

    def denied(self, *args, **kwargs):
        if self == tmp_path / "locked":
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(
        RunStoreError, match=r"cannot write .*locked: Permission denied; .*--results"
    ):
        RunStore(tmp_path / "locked", "r1")


def test_results_path_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RunStoreError, match=r"cannot write|not a folder"):
        RunStore(tmp_path / "f", "r1")


def test_bad_run_id_and_missing_run(tmp_path):
    with pytest.raises(RunStoreError, match="bad run id"):
        RunStore(tmp_path, "../escape")
    with pytest.raises(RunStoreError, match="not a run folder"):
        load_run(tmp_path / "nothing")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text('{"schema": 99}')
    with pytest.raises(RunStoreError, match="schema 99"):
        load_run(tmp_path / "old")


def test_read_only_folder_is_refused_before_anything_runs(tmp_path):
    with tmpfs(tmp_path / "ro", read_only=True) as ro:
        with pytest.raises(RunStoreError) as err:
            RunStore(ro / "results", "r1")
        assert "Read-only file system" in str(err.value)
        assert "--results" in str(err.value)


def test_disk_full_is_a_clear_error_and_earlier_samples_survive(tmp_path):
    with tmpfs(tmp_path / "small", size="64k") as mnt:
        store = RunStore(mnt / "results", "r1")
        for r in range(1, 4):
            store.append(make_sample(repeat=r))
        before = read_results(store.run_dir)
        filler = mnt / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        with pytest.raises(RunStoreError, match="no space left on device"):
            for r in range(4, 40):  # the jsonl's last page may take a line or two
                store.append(make_sample(repeat=r, reason="x" * 500))
        assert read_results(store.run_dir) == before  # never half-written
        data = load_run(store.run_dir)
        assert [s.repeat for s in data.samples[:3]] == [1, 2, 3]
        for line in (store.run_dir / "samples.jsonl").read_text().splitlines():
            json.loads(line)  # every line whole
        assert not list(store.run_dir.glob(".*tmp"))


def test_a_run_keeps_the_load_average_it_started_with(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (0.4321, 0.5, 0.6))
    store = RunStore(tmp_path, "run-load")
    store.append(make_sample())
    assert load_run(tmp_path / "run-load").metadata["loadavg_start"] == [0.43, 0.5, 0.6]
    monkeypatch.setattr(os, "getloadavg", lambda: (3.0, 2.0, 1.0))
    resumed = RunStore(tmp_path, "run-load")  # --resume: the first start's load stays
    assert resumed.metadata["loadavg_start"] == [0.43, 0.5, 0.6]
