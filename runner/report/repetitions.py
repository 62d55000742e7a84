"""The report's list of repetitions: each timed repetition in the order it ran, with the
seconds its timed window lasted as the load tool measured them (ab's "Time taken for
tests", wrk's and k6's own), so a reader sees that a 10 s repetition ran its 10 s and a
count-based one how long its requests took."""

from __future__ import annotations

from collections.abc import Iterable

from runner.model import Sample
from runner.report.text import fmt, table

HEADER = [
    "#",
    "started (UTC)",
    "scenario",
    "c",
    "mode",
    "pair / rep",
    "planned",
    "timed s",
    "requests",
    "req/s",
    "status",
]


def seconds_text(samples: Iterable[Sample]) -> str:
    """A cell's measured seconds per repetition: '10.0', or '9.91-10.32' when they differ
    at one decimal; '-' when none was measured."""
    values = sorted(s.duration_s for s in samples if s.duration_s is not None)
    if not values:
        return "-"
    low, high = values[0], values[-1]
    if round(low, 1) == round(high, 1):
        return f"{low:.1f}"
    return f"{low:.2f}-{high:.2f}"


def _planned(sample: Sample) -> str:
    """What the repetition was asked: 'D s' (time-based, the count a cap) or 'N req'."""
    planned = sample.extra.get("planned_s")
    if planned:
        return f"{float(planned):g} s"
    return f"{sample.requests} req"


def _row(i: int, s: Sample) -> list[str]:
    pair = s.extra.get("pair")
    return [
        str(i),
        s.started_at[11:19] if len(s.started_at) >= 19 else "-",
        s.scenario,
        str(s.concurrency),
        s.mode.upper(),
        f"pair {pair}" if pair is not None else f"rep {s.repeat}",
        _planned(s),
        fmt(s.duration_s, 2),
        str(s.completed),
        fmt(s.rps),
        s.status if s.status == "ok" else f"{s.status}: {s.reason or s.error}"[:80],
    ]


def repetitions_section(
    samples: Iterable[Sample], stops: dict[str, str] | None = None
) -> list[str]:
    """'## Repetitions': why each interleaved level stopped adding pairs (`stops`, the
    runs' metadata "interleaved"), then every timed repetition in the order measured."""
    timed = sorted((s for s in samples if s.kind == "timed"), key=lambda s: s.started_at)
    if not timed:
        return []
    total = sum(s.duration_s or 0.0 for s in timed)
    why = [f"- {level}: {reason}" for level, reason in (stops or {}).items() if reason]
    if why:
        why = ["Pairs per level (interleaved): why each level stopped.", "", *why, ""]
    return [
        "## Repetitions",
        "",
        f"{len(timed)} timed repetitions in the order they ran, {total:.0f} s inside timed "
        "windows. *timed s*: the seconds of the repetition's timed window as the load tool "
        "measured them (ab's *Time taken for tests*); *planned*: the duration asked (the "
        "request count is then only a cap) or the request count of a count-based run. "
        "Warm-ups, primers and instrumented passes are not timed and not listed.",
        "",
        *why,
        *table(HEADER, [_row(i, s) for i, s in enumerate(timed, 1)]),
        "",
    ]
