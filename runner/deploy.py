"""Run the deploy playbook for one mode: what `fab compare` and `fab tune` redeploy with."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"


class DeployError(Exception):
    """The deploy playbook failed."""


def ansible_playbook(
    playbook: str, inventory: str, extra_vars: dict[str, object], timeout_s: int = 1200
) -> float:
    """Run a playbook of playbooks/ against `inventory`; return its wall time in seconds."""
    binary = Path(sys.executable).with_name("ansible-playbook")
    cmd = [str(binary), "-i", inventory, str(PLAYBOOKS / playbook)]
    for key, value in extra_vars.items():
        if value is not None and value != "":
            cmd += ["-e", f"{key}={value}"]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise DeployError(f"{playbook} timed out after {timeout_s}s") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
        raise DeployError(f"{playbook} failed (exit {proc.returncode}):\n{tail}")
    return time.monotonic() - started
