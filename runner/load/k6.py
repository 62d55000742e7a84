"""k6 as an open-loop LoadGenerator: `fab bench --load open --rate 50,100 --duration 20`.

k6's `constant-arrival-rate` executor starts iterations at a fixed rate whatever the
answers do, so a stalled server shows as latency (or as dropped iterations when the VUs
run out), not as a quieter load generator. The script (k6_script.js beside this module)
takes every setting from the environment; this module writes the command, and reads the
per-request CSV k6 leaves behind (`--out csv`) plus its `handleSummary` JSON.

What a user waits for is the iteration's duration: it starts at the scheduled start (a
late start is a dropped iteration) and ends with the answer, so it covers waiting for a
connection, connecting and the request. k6's `http_req_duration` leaves the first two
out; `http_req_blocked` already contains `http_req_connecting` (k6's tracer measures
blocked from asking for a connection to getting one), so summing both would count
connecting twice. Requests still unanswered when the graceful stop ends are in no
percentile: the script counts starts and finishes itself, and the difference is
`in_flight`.
"""

from __future__ import annotations

import csv
import json
import math
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runner.load.base import (
    HostRun,
    LoadGenerator,
    LoadResult,
    LoadSpec,
    LoadSpecError,
    ToolCommand,
)

SCRIPT = Path(__file__).with_name("k6_script.js")
SCRIPT_NAME = "k6_script.js"
CSV_NAME = "requests.csv"
SUMMARY_NAME = "summary.json"
STDOUT_NAME = "k6.stdout"
STDERR_NAME = "k6.stderr"
# Where the loadgen role installs the wheel's binary, relative to the host's bench_root.
K6_RELATIVE = "venv/bin/k6"
MIN_REQUESTS = 100  # a run shorter than this says nothing about a p99
MIN_TAIL = 10  # a percentile p rests on n * (1 - p) requests; fewer is noise
ACHIEVED_TOLERANCE = 0.01  # achieved below offered by more than this: overload
PERCENTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99_9", 0.999))
DEFAULT_TARGET_S = 0.25


def vus_for(rate: float, target_s: float = DEFAULT_TARGET_S) -> int:
    """VUs to pre-allocate (= the maximum) for `rate` requests/s: enough for every request
    of max(4 x the latency target, 1 s) to be in flight at once, so a stall shows as
    latency and not as dropped iterations."""
    return max(1, math.ceil(rate * max(4 * target_s, 1.0)))


def graceful_stop_s(target_s: float = DEFAULT_TARGET_S) -> float:
    """How long k6 waits for iterations in flight after the duration: max(2 s, 4 x target)."""
    return max(2.0, 4 * target_s)


def rests_on_enough(p: float, n: int) -> bool:
    """Whether the p-quantile of n requests rests on at least MIN_TAIL requests."""
    return n * (1 - p) >= MIN_TAIL - 1e-9


def percentiles(values: list[float]) -> tuple[dict[str, float], list[str]]:
    """p50/p90/p99/p99.9, max and mean of `values` (ms), and the percentiles refused
    because too few requests lie beyond them. Nearest rank (HdrHistogram's sense: the
    value at or below which a fraction p of the requests lie), never interpolated."""
    if not values:
        return {}, [name for name, _ in PERCENTILES]
    data = np.asarray(values, dtype=float)
    out: dict[str, float] = {}
    refused: list[str] = []
    for name, p in PERCENTILES:
        if rests_on_enough(p, len(data)):
            out[name] = round(float(np.quantile(data, p, method="inverted_cdf")), 3)
        else:
            refused.append(name)
    out["max"] = round(float(data.max()), 3)
    out["mean"] = round(float(data.mean()), 3)
    return out, refused


def spectrum(values: list[float], steps_per_decade: int = 5) -> list[list[float]]:
    """The latency spectrum: [percentile, ms] at 1 - p = 10^(-k/steps) for k = 0, 1, ...
    while the point rests on MIN_TAIL requests, then [100, max]. What HdrHistogram plots
    against a log "1 - p" axis."""
    if not values:
        return []
    data = np.asarray(values, dtype=float)
    points: list[list[float]] = []
    k = 1
    while True:
        tail = 10 ** (-k / steps_per_decade)
        p = 1 - tail
        if not rests_on_enough(p, len(data)):
            break
        points.append(
            [round(p * 100, 6), round(float(np.quantile(data, p, method="inverted_cdf")), 3)]
        )
        k += 1
    points.append([100.0, round(float(data.max()), 3)])
    return points


@dataclass
class Requests:
    """One host's k6 CSV, reduced: the per-request figures and the counts."""

    starts_ms: list[float]  # intended start (epoch ms) of each finished iteration
    latencies_ms: list[float]  # its duration: what the user waited
    started: int
    finished: int
    dropped: int
    statuses: Counter
    errors: Counter
    wrong_length: int


def read_requests(path: Path) -> Requests:
    """Read k6's `--out csv` file (timestamps in unix ms, K6_CSV_TIME_FORMAT=unix_milli)."""
    starts: list[float] = []
    latencies: list[float] = []
    started = finished = dropped = wrong_length = 0
    statuses: Counter = Counter()
    errors: Counter = Counter()
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["metric_name"]
            if name == "iteration_duration":
                value = float(row["metric_value"])
                latencies.append(value)
                starts.append(float(row["timestamp"]) - value)
            elif name == "http_reqs":
                status = row.get("status") or "0"
                statuses[status] += 1
                if row.get("error_code"):
                    errors[row["error_code"]] += 1
            elif name == "bench_started":
                started += 1
            elif name == "bench_finished":
                finished += 1
            elif name == "dropped_iterations":
                dropped += int(float(row["metric_value"]))
            elif name == "bench_wrong_length":
                wrong_length += 1
    return Requests(starts, latencies, started, finished, dropped, statuses, errors, wrong_length)


def timeline(starts_ms: list[float], latencies_ms: list[float]) -> list[list[float]]:
    """Per second of intended start (epoch s): [second, requests, sum ms, max ms], a
    form that adds up across hosts (the mean per second shows latency growing)."""
    buckets: dict[int, list[float]] = {}
    for start, latency in zip(starts_ms, latencies_ms, strict=True):
        b = buckets.setdefault(int(start // 1000), [0, 0.0, 0.0])
        b[0] += 1
        b[1] += latency
        b[2] = max(b[2], latency)
    return [[s, int(c), round(t, 3), round(m, 3)] for s, (c, t, m) in sorted(buckets.items())]


def merge_timelines(lines: list[list[list[float]]]) -> list[list[float]]:
    """Add per-second timelines of hosts that ran at once."""
    merged: dict[int, list[float]] = {}
    for line in lines:
        for second, count, total, peak in line:
            m = merged.setdefault(int(second), [0, 0.0, 0.0])
            m[0] += count
            m[1] += total
            m[2] = max(m[2], peak)
    return [[s, int(c), round(t, 3), round(p, 3)] for s, (c, t, p) in sorted(merged.items())]


def open_loop_reasons(result: LoadResult) -> list[str]:
    """Why a sample is an overload sample ([] when the load was carried): the achieved
    rate below the offered by more than 1%, dropped iterations, requests in flight."""
    reasons: list[str] = []
    offered, achieved = result.offered_rate, result.rps
    if offered and (achieved or 0.0) < offered * (1 - ACHIEVED_TOLERANCE):
        reasons.append(
            f"achieved {achieved or 0:.1f} req/s of {offered:g} offered "
            f"({(achieved or 0) / offered - 1:+.1%})"
        )
    if result.dropped:
        reasons.append(f"{result.dropped} iterations dropped (no VU free to start them)")
    if result.in_flight:
        reasons.append(f"{result.in_flight} requests still in flight at the end")
    return reasons


def _summary(local_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((local_dir / SUMMARY_NAME).read_text())
    except (OSError, ValueError):
        return {}


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


class K6(LoadGenerator):
    """Grafana k6 with the constant-arrival-rate executor (open loop)."""

    name = "k6"
    binary = K6_RELATIVE  # relative to the host's bench_root; the command finds it
    latency_source = "raw"
    open_loop = True
    single_threaded = False  # Go: its CPU share is judged against the host's CPUs

    def __init__(self, target_s: float = DEFAULT_TARGET_S) -> None:
        self.target_s = target_s

    def check(self, spec: LoadSpec) -> None:
        """An open-loop spec: a rate above 0, a duration long enough for 100 requests."""
        spec.check()
        if spec.rate is None:
            raise LoadSpecError("k6 sends an offered rate: give --rate (requests/s)")
        if spec.duration_s is None:
            raise LoadSpecError("k6 runs for a time: give --duration (seconds)")
        if spec.rate * spec.duration_s < MIN_REQUESTS:
            need = math.ceil(MIN_REQUESTS / spec.rate)
            raise LoadSpecError(
                f"--duration {spec.duration_s:g} s at {spec.rate:g} req/s makes "
                f"{spec.rate * spec.duration_s:.0f} requests, fewer than {MIN_REQUESTS}: "
                f"raise --duration to at least {need} s"
            )

    def support_files(self, spec: LoadSpec) -> dict[str, str]:
        """The script, the same for every run."""
        return {SCRIPT_NAME: SCRIPT.read_text()}

    def environment(self, spec: LoadSpec) -> dict[str, str]:
        """The script's settings for one host's share of the load."""
        assert spec.rate is not None and spec.duration_s is not None
        return {
            "BENCH_URL": spec.url,
            # k6's rate is an integer per timeUnit: per 1000 s keeps 3 decimals of req/s.
            "BENCH_RATE_MILLI": str(max(1, round(spec.rate * 1000))),
            "BENCH_DURATION_S": f"{spec.duration_s:g}",
            "BENCH_VUS": str(spec.concurrency),
            "BENCH_GRACEFUL_S": f"{graceful_stop_s(self.target_s):g}",
            "BENCH_TIMEOUT_S": str(spec.timeout_s),
            "BENCH_LENGTH": str(spec.expected_length or 0),
            "K6_CSV_TIME_FORMAT": "unix_milli",
            "K6_NO_USAGE_REPORT": "true",
        }

    def command(self, spec: LoadSpec) -> ToolCommand:
        """bash finds k6 in the venv of the bench_root above the working folder (the wheel
        puts it there, not on the PATH), then runs the script; `--address ''` keeps
        k6's REST API closed (no port, no clash)."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.environment(spec).items())
        script = (
            'k6=""; d=$PWD; while [ "$d" != / ]; do '
            f'if [ -x "$d/{K6_RELATIVE}" ]; then k6="$d/{K6_RELATIVE}"; break; fi; '
            'd=$(dirname "$d"); done; '
            'if [ -z "$k6" ]; then echo "k6 is missing on this load generator '
            f"(no {K6_RELATIVE} under its bench root): run make setup, then deploy again "
            '(ansible-playbook playbooks/deploy.yml)" >&2; exit 127; fi; '
            f'exec env {env} "$k6" run --no-usage-report --quiet --no-color --address "" '
            f"--out csv={CSV_NAME} {SCRIPT_NAME}"
        )
        return ToolCommand(argv=("bash", "-c", script), stdout=STDOUT_NAME, stderr=STDERR_NAME)

    def version_command(self) -> str:
        """k6's version line (run from the host's bench_root, like the `binary` check)."""
        return f"{K6_RELATIVE} version 2>&1 | head -1"

    def parse(self, run: HostRun) -> LoadResult:
        """One host's result from its CSV and summary."""
        spec = run.spec
        local = run.local_dir
        result = LoadResult(tool=self.name, offered_rate=spec.rate, latency_source="raw")
        path = local / CSV_NAME
        stderr = _read(local / STDERR_NAME).strip()
        if not path.exists():
            result.aborted = True
            result.abort_reason = (stderr.splitlines() or [f"k6 exited {run.rc}"])[-1]
            return result
        reqs = read_requests(path)
        errored = reqs.statuses.get("0", 0)
        non_2xx = sum(n for s, n in reqs.statuses.items() if s != "0" and not s.startswith("2"))
        result.sent = reqs.started
        result.completed = sum(reqs.statuses.values()) - errored
        result.failed = errored + reqs.wrong_length
        result.non_2xx = non_2xx
        result.failures = {f"k6 error {code}": n for code, n in sorted(reqs.errors.items())}
        if reqs.wrong_length:
            result.failures["Length"] = reqs.wrong_length
        result.dropped = reqs.dropped
        result.in_flight = max(reqs.started - reqs.finished, 0)
        result.duration_s = spec.duration_s
        result.rps = result.completed / spec.duration_s if spec.duration_s else None
        result.samples_ms = reqs.latencies_ms
        result.latency_ms, refused = percentiles(reqs.latencies_ms)
        if spec.expected_length is not None and not reqs.wrong_length:
            result.document_length = spec.expected_length
        summary = _summary(local)
        wall_s = (summary.get("state") or {}).get("testRunDurationMs", 0) / 1000
        if run.cpu_s is not None and wall_s > 0:
            result.tool_cpu_pct = round(run.cpu_s / wall_s * 100, 1)
        if run.rc != 0:
            result.aborted = True
            result.abort_reason = (stderr.splitlines() or [""])[-1] or f"k6 exited {run.rc}"
        k6_p99 = ((summary.get("metrics") or {}).get("iteration_duration") or {}).get("values")
        result.extra = {
            "vus": spec.concurrency,
            "graceful_stop_s": graceful_stop_s(self.target_s),
            "refused_percentiles": refused,
            "timeline": timeline(reqs.starts_ms, reqs.latencies_ms),
            "k6_wall_s": round(wall_s, 3),
            "k6_iteration_duration": k6_p99 or {},
        }
        result.raw_files = [str(local / name) for name in run.files]
        return result

    def merge(self, results: list[LoadResult]) -> LoadResult:
        """Hosts that ran at once: counts and offered rates add up, percentiles and the
        spectrum come from all per-request latencies together."""
        if len(results) == 1:
            one = results[0]
            merged = LoadResult(**{**one.__dict__, "extra": dict(one.extra)})
        else:
            merged = LoadResult(tool=self.name, hosts=len(results), latency_source="raw")
            for r in results:
                merged.sent += r.sent
                merged.completed += r.completed
                merged.failed += r.failed
                merged.non_2xx += r.non_2xx
                merged.dropped += r.dropped
                merged.in_flight += r.in_flight
                merged.samples_ms += r.samples_ms
                merged.raw_files += r.raw_files
                for kind, n in r.failures.items():
                    merged.failures[kind] = merged.failures.get(kind, 0) + n
            merged.offered_rate = sum(r.offered_rate or 0.0 for r in results)
            merged.duration_s = max((r.duration_s or 0.0) for r in results) or None
            merged.rps = merged.completed / merged.duration_s if merged.duration_s else None
            cpus = [r.tool_cpu_pct for r in results if r.tool_cpu_pct is not None]
            merged.tool_cpu_pct = max(cpus) if cpus else None
            merged.aborted = any(r.aborted for r in results)
            merged.abort_reason = "; ".join(r.abort_reason for r in results if r.abort_reason)
            lengths = {r.document_length for r in results}
            merged.document_length = lengths.pop() if len(lengths) == 1 else None
            merged.latency_ms, refused = percentiles(merged.samples_ms)
            merged.extra = {
                "vus": sum(r.extra.get("vus", 0) for r in results),
                "graceful_stop_s": results[0].extra.get("graceful_stop_s"),
                "refused_percentiles": refused,
                "timeline": merge_timelines([r.extra.get("timeline", []) for r in results]),
                "k6_wall_s": max(r.extra.get("k6_wall_s", 0.0) for r in results),
            }
        merged.extra["spectrum"] = spectrum(merged.samples_ms)
        merged.extra["overload"] = open_loop_reasons(merged)
        return merged
