"""Remote.stop_and_get: the one way a background process of ours on a host (the CPU
sampler, the server watcher) is stopped and its output brought back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

from runner.remote import Remote, stop_command


class LocalRemote(Remote):
    """A Remote whose commands run in a shell here and whose files are local copies."""

    def __init__(self) -> None:  # no SSH connection: run and get are local
        pass

    def run(self, command: str, timeout: float = 60, warn: bool = False, label: str = ""):
        done = subprocess.run(["/bin/sh", "-c", command], timeout=timeout, check=not warn)
        return SimpleNamespace(exited=done.returncode)

    def get(self, remote_path: str, local_path: Path) -> None:
        shutil.copy(remote_path, local_path)


def test_it_stops_the_process_fetches_its_output_and_removes_it(tmp_path: Path) -> None:
    out = tmp_path / "sampler.jsonl"
    (tmp_path / "sampler.jsonl.err").write_text("")
    proc = subprocess.Popen(
        ["/bin/sh", "-c", f"echo '{{\"t\": 1}}' > {out}; exec sleep 30"],
    )
    try:
        while not out.exists() or not out.read_text():
            pass
        local = tmp_path / "back" / "sampler.jsonl"
        local.parent.mkdir()
        LocalRemote().stop_and_get(proc.pid, str(out), local, wait_s=5.0, poll_s=0.05)
        assert proc.wait(timeout=5) != 0  # ended by TERM, not by its 30 s sleep
        assert local.read_text() == '{"t": 1}\n'
        assert not out.exists() and not (tmp_path / "sampler.jsonl.err").exists()
    finally:
        proc.kill()
        proc.wait()


def steps_waited(pid: int, wait_s: float) -> str:
    """Run the stop command here: how many 0.1 s steps it waited."""
    command = stop_command(pid, wait_s=wait_s, poll_s=0.1)
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_zombie_counts_as_ended_without_waiting_for_its_reaper() -> None:
    # The child ends at once but is not collected until proc.wait(): a zombie, which
    # kill -0 still reaches. The wait must not spend its steps on it.
    proc = subprocess.Popen(["/bin/sh", "-c", "exit 0"])
    try:
        while Path(f"/proc/{proc.pid}/status").read_text().find("State:\tZ") < 0:
            pass
        assert steps_waited(proc.pid, wait_s=5.0) == "0"
    finally:
        proc.wait()


def test_a_running_process_is_waited_for_within_the_bound() -> None:
    # A process that ignores TERM is waited for at most wait_s / poll_s steps.
    proc = subprocess.Popen(["/bin/sh", "-c", "trap '' TERM; sleep 30"])
    try:
        assert steps_waited(proc.pid, wait_s=0.3) == "3"
    finally:
        proc.kill()
        proc.wait()
