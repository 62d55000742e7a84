"""The report's open-loop section: capacity at the target beside the closed-loop best of
the same page, every open-loop sample (overload ones shown with why, never averaged), the
latency spectrum and latency against offered rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.capacity import Capacity
from runner.openloop import OVERLOAD
from runner.report.plots_open import RatePoint, RateSeries, Spectrum, rate_plot, spectrum_plot
from runner.slo import Slo


def _fmt(value: Any, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(samples: list[dict[str, Any]]) -> str:
    """One row per open-loop sample, in mode then rate order; overload samples shown with
    their reason, never merged into the others."""
    head = (
        "| mode | offered req/s | achieved req/s | sent | completed | dropped | in flight "
        "| p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | status |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for s in sorted(samples, key=lambda s: (s["mode"], s.get("offered_rate") or 0)):
        lat = s.get("latency_ms") or {}
        status = s["status"] if s["status"] == "ok" else f"**{s['status']}**: {s['reason']}"
        rows.append(
            f"| {s['mode'].upper()} | {_fmt(s.get('offered_rate'), 1)} | {_fmt(s.get('rps'), 1)} "
            f"| {s.get('extra', {}).get('sent', '—')} | {s.get('completed', 0)} "
            f"| {s.get('dropped', 0)} | {s.get('in_flight', 0)} | {_fmt(lat.get('p50'))} "
            f"| {_fmt(lat.get('p90'))} | {_fmt(lat.get('p99'))} | {_fmt(lat.get('p99_9'))} "
            f"| {_fmt(lat.get('max'))} | {status} |"
        )
    return head + "\n".join(rows) + "\n"


def capacity_lines(slo: Slo, found: dict[str, Capacity]) -> str:
    """Both capacities at the target, their ratio and where each mode breaks."""
    lines = [f"Capacity at {slo.text} (highest offered rate meeting it; bracket; why stopped):", ""]
    for mode, cap in sorted(found.items()):
        held = f"{cap.capacity:g} req/s" if cap.capacity else "none held"
        breaks = f"breaks at {cap.breaks_at:g} req/s" if cap.breaks_at else "did not break"
        steps = ", ".join(f"{s.rate:g}{'✓' if s.held else '✗'}" for s in cap.steps)
        lines.append(f"- **{mode.upper()}**: {held}, {breaks} ({cap.stopped}; steps {steps})")
    a, w = found.get("asgi"), found.get("wsgi")
    if a and w and a.capacity and w.capacity:
        lines += ["", f"ASGI / WSGI capacity: {a.capacity / w.capacity:.2f}"]
    return "\n".join(lines) + "\n"


def pictures(
    samples: list[dict[str, Any]], slo: Slo | None, out_dir: Path, title: str
) -> list[Path]:
    """The spectrum of each mode's highest rate that was carried (else its lowest) and
    latency against offered rate with the target line; PNGs in `out_dir`."""
    by_mode: dict[str, list[dict[str, Any]]] = {}
    for s in samples:
        by_mode.setdefault(s["mode"], []).append(s)
    lines, series = [], []
    key = slo.key if slo else "p99"
    for mode, group in sorted(by_mode.items()):
        group.sort(key=lambda s: s.get("offered_rate") or 0)
        carried = [s for s in group if s["status"] == "ok"] or group[:1]
        pick = carried[-1]
        lines.append(
            Spectrum(
                f"{mode.upper()} at {pick.get('offered_rate'):g} req/s",
                pick.get("extra", {}).get("spectrum", []),
                mode,
            )
        )
        points = []
        for s in group:
            value = (s.get("latency_ms") or {}).get(key) or (s.get("latency_ms") or {}).get("max")
            if value is not None and s.get("offered_rate"):
                points.append(RatePoint(s["offered_rate"], value, s["status"] == OVERLOAD))
        series.append(RateSeries(mode.upper(), points, mode))
    target = slo.limit_ms if slo else None
    paths = [spectrum_plot(lines, f"{title}: latency spectrum", out_dir / "spectrum.png", target)]
    if target is not None:
        paths.append(
            rate_plot(
                series,
                f"{title}: {key.replace('_', '.')} vs offered rate",
                out_dir / "latency-vs-rate.png",
                target,
                f"{key.replace('_', '.')} latency (ms, log)",
            )
        )
    return paths


def capacity_from_metadata(meta: dict[str, Any]) -> tuple[Slo, dict[str, Capacity]] | None:
    """The SLO and each mode's Capacity back from a run's metadata["capacity"]."""
    from runner.capacity import Step
    from runner.slo import parse_slo

    if not meta or "slo" not in meta:
        return None
    found = {
        mode: Capacity(
            m.get("capacity"),
            m.get("breaks_at"),
            [Step(**s) for s in m.get("steps", [])],
            m.get("stopped", ""),
        )
        for mode, m in (meta.get("modes") or {}).items()
    }
    return parse_slo(meta["slo"]), found


def section(
    samples: list[dict[str, Any]],
    capacity_meta: dict[str, Any] | None,
    closed: dict[str, tuple[float, int]],
    out_dir: Path,
    scenario: str,
) -> str:
    """The report's open-loop section: capacity at the target (with the closed-loop best
    of the same run beside it), every open-loop sample, and the two pictures."""
    if not samples:
        return ""
    parsed = capacity_from_metadata(capacity_meta or {})
    slo = parsed[0] if parsed else None
    parts = [f"## Open loop ({scenario}, k6 constant-arrival-rate)", ""]
    if parsed:
        parts.append(capacity_lines(*parsed))
    if closed:
        best = "; ".join(
            f"{mode.upper()} {rps:.1f} req/s at c={c}" for mode, (rps, c) in sorted(closed.items())
        )
        parts += [f"Closed loop (ab) best of this run for the same page: {best}.", ""]
    parts += [
        "Latency is measured from each request's intended start. **Overload** samples "
        "(achieved < offered by more than 1%, dropped iterations or requests left in "
        "flight) are shown, never averaged; a percentile resting on fewer than 10 requests "
        "is refused (—).",
        "",
        table(samples),
    ]
    for path in pictures(samples, slo, out_dir, scenario):
        parts.append(f"![{path.stem}]({out_dir.name}/{path.name})")
    return "\n".join(parts) + "\n"


def report_lines(runs: list[Any], cells: list[Any], out_dir: Path) -> list[str]:
    """The open-loop sections of a report (one per scenario measured open-loop), with
    each mode's best closed-loop figure of the same runs for the same page beside it."""
    import statistics

    samples = [s for run in runs for s in run.samples if s.kind == "openloop"]
    lines: list[str] = []
    for scenario in sorted({s.scenario for s in samples}):
        chosen = [s.to_dict() for s in samples if s.scenario == scenario]
        closed: dict[str, tuple[float, int]] = {}
        for c in cells:
            if c.scenario == scenario and c.rps:
                rps = statistics.fmean(c.rps)
                if rps > closed.get(c.mode, (0.0, 0))[0]:
                    closed[c.mode] = (rps, c.concurrency)
        meta = next(
            (
                r.metadata.get("capacity")
                for r in runs
                if (r.metadata.get("capacity") or {}).get("scenario") == scenario
            ),
            None,
        )
        text = section(chosen, meta, closed, out_dir / f"openloop-{scenario}", scenario)
        lines += [*text.splitlines(), ""]
    return lines
