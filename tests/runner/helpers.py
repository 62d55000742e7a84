"""Synthetic samples for the model, store and report tests."""

from __future__ import annotations

from typing import Any

from runner.model import Latency, Sample


def make_sample(**overrides: Any) -> Sample:
    """A valid users-page sample; any field can be overridden."""
    fields: dict[str, Any] = {
        "run_id": "run1",
        "mode": "asgi",
        "view": "original",
        "scenario": "users",
        "path": "/async/",
        "concurrency": 5,
        "requests": 400,
        "repeat": 1,
        "keepalive": False,
        "serving": {"mode": "asgi", "workers": 1, "blocking_threads": None, "preset": "none"},
        "commit": "abc123",
        "rps": 8.0,
        "latency_ms": Latency(mean=600.0, p50=590.0, p90=700.0, p99=800.0, max=900.0),
        "completed": 400,
        "duration_s": 50.0,
        "server_cpu_s_per_request": 0.12,
        "loadgen_cpu_pct": 3.0,
        "status": "ok",
        "document_length": 458570,
        "loadgen_hosts": ["lg1"],
    }
    fields.update(overrides)
    return Sample(**fields)
