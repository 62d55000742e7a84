"""The hosts' cost guard (infra/aws/scripts/expiry-guard.sh) run for real in a namespace
host, over SSH, against a fake IMDS in that host's network namespace and a fake clock.

Its systemctl and power-off are recording stand-ins (a namespace host shares the machine's
init); the timer it writes is checked by systemd's own calendar parser. Each call of the
guard is one boot: the first, a reboot, a stop/start after the expiry.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.aws.awshelp import AWS_DIR
from tests.fixtures.hosts import TerraformStack, kill_quietly

GUARD = AWS_DIR / "scripts" / "expiry-guard.sh"
FAKE_IMDS = Path(__file__).with_name("fake_imds.py")
BOOT = int(datetime(2030, 1, 1, 12, 0, tzinfo=UTC).timestamp())


@dataclass
class Boot:
    """What one run of the guard did."""

    rc: int
    output: str
    systemctl: list[str]
    powered_off: bool
    timer: str | None
    recorded: str | None


@dataclass
class GuardHost:
    """A namespace host with a fake IMDS, and folders standing in for /etc and /var/lib."""

    stack: TerraformStack
    root: Path
    imds_url: str

    def set_tag(self, value: str | None) -> None:
        """Set (or remove) the instance's expiry tag as IMDS reports it."""
        tag = self.root / "imds" / "tags" / "instance" / "expiry"
        if value is None:
            tag.unlink(missing_ok=True)
        else:
            tag.write_text(value)

    def boot(self, now: int, ttl_minutes: int | None = None, imds: bool = True) -> Boot:
        """Run the guard once on the host, as a boot at `now` (seconds since the epoch)."""
        for name in ("systemctl.log", "powered-off"):
            (self.root / name).unlink(missing_ok=True)
        env = {
            "BENCH_GUARD_IMDS": self.imds_url if imds else "http://127.0.0.1:9",
            "BENCH_GUARD_STATE": str(self.root / "var"),
            "BENCH_GUARD_UNIT_DIR": str(self.root / "etc"),
            "BENCH_GUARD_SYSTEMCTL": f"{self.root / 'fake-systemctl'}",
            "BENCH_GUARD_POWEROFF": f"touch {self.root / 'powered-off'}",
            "BENCH_GUARD_NOW": str(now),
        }
        if ttl_minutes is not None:
            env["BENCH_GUARD_TTL_MINUTES"] = str(ttl_minutes)
        assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        proc = self.stack.ssh(self.stack.app, f"{assigns} sh {GUARD}", timeout=60)
        log = self.root / "systemctl.log"
        timer = self.root / "etc" / "asgi-wsgi-bench-expiry.timer"
        recorded = self.root / "var" / "expiry"
        return Boot(
            rc=proc.returncode,
            output=proc.stdout + proc.stderr,
            systemctl=log.read_text().splitlines() if log.exists() else [],
            powered_off=(self.root / "powered-off").exists(),
            timer=timer.read_text() if timer.exists() else None,
            recorded=recorded.read_text().strip() if recorded.exists() else None,
        )


@pytest.fixture
def guard_host(local_stack: TerraformStack, tmp_path: Path) -> Iterator[GuardHost]:
    """The session's app namespace host with a fake IMDS on its own loopback."""
    root = tmp_path / "guard"
    (root / "imds" / "tags" / "instance").mkdir(parents=True)
    fake = root / "fake-systemctl"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {root}/systemctl.log\n')
    fake.chmod(0o755)
    ready = root / "imds.port"
    netns = f"{local_stack.prefix}-app"
    proc = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            netns,
            sys.executable,
            str(FAKE_IMDS),
            "--root",
            str(root / "imds"),
            "--ready",
            str(ready),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # bounded: at most ~10 s for the listener
            if ready.exists() and ready.read_text():
                break
            if proc.poll() is not None:
                pytest.fail("the fake IMDS exited at start")
            time.sleep(0.1)
        else:
            pytest.fail("the fake IMDS did not start")
        yield GuardHost(local_stack, root, f"http://127.0.0.1:{ready.read_text()}")
    finally:
        kill_quietly(proc.pid)
        proc.wait(timeout=10)


def _on_calendar(timer: str) -> str:
    line = next(ln for ln in timer.splitlines() if ln.startswith("OnCalendar="))
    return line.split("=", 1)[1]


def test_first_boot_arms_a_persistent_timer_at_the_tag(guard_host: GuardHost) -> None:
    guard_host.set_tag("2030-01-01T15:00:00Z")
    boot = guard_host.boot(BOOT, ttl_minutes=180)
    assert boot.rc == 0, boot.output
    assert not boot.powered_off
    assert boot.recorded == "2030-01-01T15:00:00Z"
    assert boot.timer is not None and "Persistent=true" in boot.timer
    assert _on_calendar(boot.timer) == "2030-01-01 15:00:00 UTC"
    assert "Unit=asgi-wsgi-bench-poweroff.service" in boot.timer
    assert boot.systemctl == [
        "daemon-reload",
        "enable asgi-wsgi-bench-expiry.timer",
        "restart asgi-wsgi-bench-expiry.timer",
    ]
    assert "(tag)" in boot.output
    analyze = shutil.which("systemd-analyze")
    if analyze:  # systemd's own parser accepts the time as the timer's OnCalendar
        check = subprocess.run(
            [analyze, "calendar", _on_calendar(boot.timer)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert check.returncode == 0, check.stderr
        assert "2030-01-01 15:00:00 UTC" in check.stdout


def test_a_reboot_without_imds_keeps_the_recorded_expiry(guard_host: GuardHost) -> None:
    guard_host.set_tag("2030-01-01T15:00:00Z")
    assert guard_host.boot(BOOT).rc == 0
    later = guard_host.boot(BOOT + 3600, imds=False)
    assert later.rc == 0, later.output
    assert not later.powered_off
    assert _on_calendar(later.timer or "") == "2030-01-01 15:00:00 UTC"
    assert "recorded at an earlier boot" in later.output


def test_a_start_after_the_expiry_powers_off_at_once(guard_host: GuardHost) -> None:
    """A stop/start (or reboot) after the expiry: off at boot, no new timer armed."""
    guard_host.set_tag("2030-01-01T15:00:00Z")
    assert guard_host.boot(BOOT).rc == 0
    after = guard_host.boot(BOOT + 4 * 3600)
    assert after.rc == 0, after.output
    assert after.powered_off and after.systemctl == []
    assert "has passed" in after.output


def test_short_ttl_without_tag_then_reboot_past_it(guard_host: GuardHost) -> None:
    """No tag on the first boot: expiry = boot + TTL, recorded; a boot past it powers off."""
    guard_host.set_tag(None)
    first = guard_host.boot(BOOT, ttl_minutes=1)
    assert first.rc == 0 and not first.powered_off, first.output
    assert first.recorded == "2030-01-01T12:01:00Z"
    assert "first boot + 1 min" in first.output
    assert guard_host.boot(BOOT + 61).powered_off


def test_a_new_tag_wins_over_the_record(guard_host: GuardHost) -> None:
    """The tag is the truth (an owner who extends it on purpose extends the host)."""
    guard_host.set_tag("2030-01-01T13:00:00Z")
    assert guard_host.boot(BOOT).recorded == "2030-01-01T13:00:00Z"
    guard_host.set_tag("2030-01-01T18:00:00Z")
    later = guard_host.boot(BOOT + 2 * 3600)
    assert not later.powered_off
    assert later.recorded == "2030-01-01T18:00:00Z"


def test_no_expiry_anywhere_fails_closed(guard_host: GuardHost) -> None:
    guard_host.set_tag("not a time")
    boot = guard_host.boot(BOOT, imds=True)
    assert boot.rc == 0, boot.output
    assert boot.recorded == "2030-01-01T13:00:00Z", "the 60-minute fallback"
    assert "fallback" in boot.output
