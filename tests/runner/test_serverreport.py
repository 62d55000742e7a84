"""runner.serverreport on samples carrying the recorded watcher's account."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from runner.serverreport import server_section
from runner.serverwatch import parse, summarize

BLOWUP = Path(__file__).parent / "data" / "watch" / "wsgi-blowup-c64.jsonl"


def _sample(mode: str, status: str, server: dict, **extra: object) -> SimpleNamespace:
    fields = {"kind": "timed", "scenario": "users", "view": "sync", "mode": mode,
              "concurrency": 64, "serving": {"blocking_threads": 64}, "status": status,
              "rps": 12.6, "completed": 200, "failed": 0, "non_2xx": 184,
              "extra": {"server": server}}  # fmt: skip
    return SimpleNamespace(**{**fields, **extra})


def test_the_blow_up_shows_its_refusals_and_no_valid_throughput() -> None:
    server = summarize(parse(BLOWUP.read_text())).as_dict()
    server["app_connections"] = {"conn_max_age": 60, "pool": None}
    lines = server_section([_sample("wsgi", "invalid", server)])
    assert lines[0] == "## The server's account: connections and Granian's metrics"
    row = lines[-2].split(" | ")
    assert "64 threads, no pool, CONN_MAX_AGE 60, max_connections 20" in row
    assert "none of 1" in row  # no valid repetition: no throughput figure
    assert "184" in row and "154" in row and "idle 16" in row
    assert "asgiref" in lines[2]  # says what the GIL figure cannot see


def test_samples_without_an_account_give_no_section() -> None:
    plain = _sample("asgi", "ok", {})
    plain.extra = {}
    failed = _sample("asgi", "ok", {"error": "the server watcher did not start"})
    assert server_section([plain, failed]) == []
