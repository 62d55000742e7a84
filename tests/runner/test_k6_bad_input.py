"""`fab bench/compare --load open` refuse bad input with one clear line and exit 1,
before any host is touched (the inventory named here does not exist)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAB = str(Path(sys.executable).with_name("fab"))


def fab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FAB, "-r", str(ROOT), *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "--load", "open", "--rate", "0"], "every rate must be above 0"),
        (["bench", "--load", "open", "--rate", "-10,20"], "every rate must be above 0"),
        (["bench", "--load", "open", "--rate", "100,50"], "rates must increase"),
        (["bench", "--load", "open", "--rate", "5", "--duration", "10"], "at least 20 s"),
        (["compare", "--load", "open", "--slo", "p99<250ms"], "does not parse"),
        (["compare", "--load", "open", "--slo", "p97=1s"], "is not one of"),
        (["bench", "--rate", "50"], "need an open-loop load generator"),
    ],
)
def test_refuses_bad_open_loop_input_in_one_line(args: list[str], message: str) -> None:
    proc = fab(*args, "--inventory", "/nonexistent/inventory.yml")
    assert proc.returncode == 1
    err = proc.stderr.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
