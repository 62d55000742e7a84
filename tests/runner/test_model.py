"""The sample record: JSON round trip, identity for --resume, status rules."""

from __future__ import annotations

import json

import pytest

from runner.model import Latency, Sample, canonical_serving
from tests.runner.helpers import make_sample


def test_round_trip_through_json():
    s = make_sample(raw_files=["raw/a/ab.stdout"], hops_per_request=15.0)
    back = Sample.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    assert isinstance(back.latency_ms, Latency)
    d = s.to_dict()
    for key in (
        "mode",
        "view",
        "scenario",
        "concurrency",
        "requests",
        "repeat",
        "serving",
        "rps",
        "latency_ms",
        "failed",
        "non_2xx",
        "completed",
        "duration_s",
        "server_cpu_s_per_request",
        "loadgen_cpu_pct",
        "status",
        "valid",
        "reason",
    ):
        assert key in d
    assert set(d["latency_ms"]) == {"mean", "p50", "p90", "p99", "p99_9", "max"}
    assert d["kind"] == "timed" and d["load"] == "ab" and d["latency_source"] == "raw"


def test_unknown_keys_are_kept_in_extra():
    d = make_sample().to_dict() | {"future_field": 3}
    assert Sample.from_dict(d).extra == {"future_field": 3}


def test_valid_follows_status():
    assert make_sample(status="ok").valid
    assert not make_sample(status="invalid", valid=True).valid
    assert not make_sample(status="failed", rps=None, latency_ms=None, stage="load").valid
    with pytest.raises(ValueError, match="status"):
        make_sample(status="weird")


def test_identity_covers_serving_and_commit_not_results():
    base = make_sample()
    assert make_sample(rps=1.0, status="invalid").identity() == base.identity()
    assert make_sample(repeat=2).identity() != base.identity()
    assert make_sample(commit="def456").identity() != base.identity()
    assert make_sample(keepalive=True).identity() != base.identity()
    changed = {**base.serving, "workers": 2}
    assert make_sample(serving=changed).identity() != base.identity()
    # key order and "1" vs 1 do not matter; None values are the same as absent
    same = {"preset": "none", "workers": "1", "mode": "asgi"}
    assert make_sample(serving=same).identity() == base.identity()


def test_identity_of_matches_identity():
    s = make_sample()
    assert (
        Sample.identity_of(
            mode=s.mode,
            view=s.view,
            scenario=s.scenario,
            concurrency=s.concurrency,
            requests=s.requests,
            repeat=s.repeat,
            keepalive=s.keepalive,
            serving=s.serving,
            commit=s.commit,
        )
        == s.identity()
    )


def test_canonical_serving_nested():
    assert canonical_serving({"b": {"y": 1, "x": None}, "a": True}) == '{"a":"true","b":{"y":"1"}}'
    assert canonical_serving(None) == "{}"


def test_instrumented_pass_never_shares_a_timed_identity():
    timed = make_sample()
    counted = make_sample(kind="instrumented", hops_per_request=15.0)
    assert counted.identity() != timed.identity()
    args = {
        k: getattr(timed, k)
        for k in (
            "mode",
            "view",
            "scenario",
            "concurrency",
            "requests",
            "repeat",
            "keepalive",
            "serving",
            "commit",
        )
    }
    assert Sample.identity_of(**args, instrumented=True) == counted.identity()
