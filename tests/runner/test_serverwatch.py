"""runner.serverwatch on the watcher's output recorded on a local stack: WSGI with 64
blocking threads, db_pool=off, conn_max_age=60, max_connections=20, ab -n 200 -c 64 on
the users page (184 of 200 responses were errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.serverwatch import WatchFormatError, parse, summarize

BLOWUP = Path(__file__).parent / "data" / "watch" / "wsgi-blowup-c64.jsonl"


def test_the_blow_up_is_invalid_with_too_many_clients_as_its_reason() -> None:
    summary = summarize(parse(BLOWUP.read_text()))
    assert summary.settings["max_connections"] == "20"
    assert summary.refused_too_many_clients == 154
    assert summary.invalid_reason == (
        "PostgreSQL refused 154 connections: too many clients "
        "(max_connections=20, 3 reserved for superusers)"
    )
    assert summary.as_dict()["invalid_reason"] == summary.invalid_reason


def test_connections_peak_and_mean_by_state() -> None:
    summary = summarize(parse(BLOWUP.read_text()))
    conns = summary.connections
    assert conns["samples"] == 20
    # 20 slots minus the 3 reserved for superusers minus the watcher's own: 16 for the app.
    assert conns["total"]["peak"] == 16
    assert conns["by_state"]["idle"]["peak"] == 16
    assert 1 <= conns["total"]["mean"] < 16


def test_granian_counters_and_gauges_over_the_repetition() -> None:
    summary = summarize(parse(BLOWUP.read_text()))
    assert summary.granian["requests"] == 200
    assert summary.granian["gil_wait_ms_per_request"] == pytest.approx(
        (88959196 - 2409880) / 1000 / 200
    )
    assert summary.gauges["blocking_queue"].peak == 1
    assert summary.gauges["blocking_threads"].peak == 64
    assert summary.postgres_cpu_s == pytest.approx(2.47 - 1.74)


def test_refusals_for_the_superusers_slots_count_too() -> None:
    lines = [
        {"kind": "settings", "max_connections": "20", "superuser_reserved_connections": "3"},
        {"pg": {"idle": 16}, "too_many_clients": 2, "reserved_slots": 5, "final": True},
    ]
    summary = summarize(lines)
    assert (summary.refused_too_many_clients, summary.refused_reserved_slots) == (2, 5)
    assert summary.invalid_reason.startswith("PostgreSQL refused 7 connections: too many")


def test_a_clean_repetition_has_no_reason() -> None:
    lines = [
        {"kind": "settings", "max_connections": "100"},
        {"pg": {"active": 2, "idle": 2}, "too_many_clients": 0, "pg_cpu_s": 1.0},
        {"pg": {"active": 4}, "too_many_clients": 0, "pg_cpu_s": 1.5, "final": True},
    ]
    summary = summarize(lines)
    assert summary.invalid_reason is None
    assert summary.connections["total"] == {"peak": 4, "mean": 4}
    assert summary.connections["by_state"]["idle"] == {"peak": 2, "mean": 1}
    assert summary.granian is None


def test_a_half_written_last_line_is_left_out_and_garbage_is_an_error() -> None:
    text = BLOWUP.read_text()
    assert len(parse(text + '{"pg": {"idle"')) == len(parse(text))
    with pytest.raises(WatchFormatError, match="line 1"):
        parse("not json\n" + text)
    with pytest.raises(WatchFormatError, match="no reading"):
        summarize([{"kind": "settings"}])


def test_a_worker_restart_is_the_reason_when_postgres_refused_nothing() -> None:
    lines = [
        {"granian": {"requests_handled": 50, "py_wait_cumulative": 10}},
        {"granian": {"requests_handled": 3, "py_wait_cumulative": 1}},
    ]
    assert "worker restarted" in summarize(lines).invalid_reason
    assert json.dumps(summarize(lines).as_dict())


def test_the_watcher_watches_what_the_deployed_app_uses() -> None:
    from runner.watcher import watch_argv

    health = {"database": "postgresql", "serving": {"metrics_port": 9090}}
    argv = watch_argv("/b", "/b/runs/w.jsonl", health, "198.18.0.10", bound_s=30)
    assert argv[:4] == ["/b/venv/bin/python", "/b/app/tools/watch.py", "--out", "/b/runs/w.jsonl"]
    assert argv[argv.index("--pg-config") + 1] == "/b/postgres.json"
    assert argv[argv.index("--metrics-url") + 1] == "http://198.18.0.10:9090/"
    assert argv[argv.index("--max-seconds") + 1] == "90"
    sqlite_only = {"database": "sqlite", "serving": {"metrics_port": None}}
    assert watch_argv("/b", "/b/o", sqlite_only, "198.18.0.10", bound_s=30) == []


def test_refusals_make_a_sample_invalid_with_the_reason_and_its_code() -> None:
    from types import SimpleNamespace

    from runner.serverwatch import PG_REFUSED, note_server

    server = summarize(parse(BLOWUP.read_text())).as_dict()
    ok = SimpleNamespace(status="ok", valid=True, reason="", extra={})
    note_server(ok, server)
    assert (ok.status, ok.valid) == ("invalid", False)
    assert ok.reason.startswith("PostgreSQL refused 154 connections: too many clients")
    assert ok.extra["reason_codes"] == [PG_REFUSED]
    assert ok.extra["server"]["refused_too_many_clients"] == 154
    already = SimpleNamespace(status="invalid", valid=False, reason="184 non-2xx", extra={})
    note_server(already, server)
    assert already.reason.startswith("184 non-2xx; PostgreSQL refused")
    failed = SimpleNamespace(status="failed", valid=False, reason="load failed", extra={})
    note_server(failed, server)
    assert failed.reason == "load failed" and "server" in failed.extra
