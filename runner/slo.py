"""A latency target ("service-level objective") such as `p99=250ms` or `p99.9=1s`, and
whether one open-loop sample meets it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.load.k6 import PERCENTILES, rests_on_enough

_SLO = re.compile(r"^p(?P<p>\d+(?:\.\d+)?)=(?P<value>\d+(?:\.\d+)?)(?P<unit>ms|s)$")
_KNOWN = {float(p * 100): name for name, p in PERCENTILES}


class SloError(ValueError):
    """An SLO that does not parse (the message says what is valid)."""


@dataclass(frozen=True)
class Slo:
    """A percentile (`key` as in a sample's latency, e.g. "p99_9") within `limit_ms`."""

    text: str
    percentile: float  # 99.9
    key: str  # "p99_9"
    limit_ms: float

    @property
    def fraction(self) -> float:
        """The percentile as a fraction (0.999)."""
        return self.percentile / 100

    @property
    def limit_s(self) -> float:
        """The limit in seconds (what the VU and graceful-stop sizing use)."""
        return self.limit_ms / 1000


def parse_slo(text: str) -> Slo:
    """`p99=250ms` -> Slo(99.0, "p99", 250.0); SloError with one clear line otherwise."""
    match = _SLO.match(text.strip().replace(" ", ""))
    valid = ", ".join(f"p{p:g}" for p in _KNOWN)
    if not match:
        raise SloError(
            f"--slo {text!r} does not parse: write PERCENTILE=LIMIT with the limit in ms or s, "
            f"e.g. p99=250ms or p99.9=1s (percentiles: {valid})"
        )
    percentile = float(match["p"])
    if percentile not in _KNOWN:
        raise SloError(f"--slo {text!r}: percentile p{match['p']} is not one of {valid}")
    limit_ms = float(match["value"]) * (1000 if match["unit"] == "s" else 1)
    if limit_ms <= 0:
        raise SloError(f"--slo {text!r}: the latency limit must be above 0")
    return Slo(text.strip(), percentile, _KNOWN[percentile], limit_ms)


def judge(slo: Slo, status: str, latency_ms: dict[str, Any] | None, completed: int) -> str:
    """'' when a sample meets the SLO, else why not: an overload or invalid sample never
    meets it, nor one whose percentile rests on fewer than 10 requests (then it says so)."""
    if status != "ok":
        return f"sample is {status}"
    if not rests_on_enough(slo.fraction, completed):
        return (
            f"{slo.key} of {completed} requests rests on fewer than 10: too few to judge; "
            "raise --duration"
        )
    value = (latency_ms or {}).get(slo.key)
    if value is None:
        return f"no {slo.key} measured"
    if value > slo.limit_ms:
        return f"{slo.key} {value:.0f} ms > {slo.limit_ms:g} ms"
    return ""
