"""ApacheBench 2.3's outputs turned into numbers: its report (stdout, with stderr appended),
its -g per-request TSV; and the merge of N load generators.

ab's limits, which the parser knows: when -s fires, or a socket error is fatal, ab prints
an `apr_...: message (code)` line and `Total of N requests completed`, exits non-zero and
writes no -g file. Such a run is `aborted`, with `complete_requests` = N.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from runner.model import Latency

_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_FIELDS: dict[str, tuple[str, type]] = {
    "concurrency": (r"^Concurrency Level:\s+(\d+)", int),
    "time_taken_s": (rf"^Time taken for tests:\s+{_NUM} seconds", float),
    "complete_requests": (r"^Complete requests:\s+(\d+)", int),
    "failed_requests": (r"^Failed requests:\s+(\d+)", int),
    "non_2xx": (r"^Non-2xx responses:\s+(\d+)", int),
    "keepalive_requests": (r"^Keep-Alive requests:\s+(\d+)", int),
    "requests_per_second": (rf"^Requests per second:\s+{_NUM}", float),
    "time_per_request_ms": (rf"^Time per request:\s+{_NUM} \[ms\] \(mean\)$", float),
    "time_per_request_all_ms": (
        rf"^Time per request:\s+{_NUM} \[ms\] \(mean, across all concurrent requests\)",
        float,
    ),
    "total_transferred": (r"^Total transferred:\s+(\d+) bytes", int),
    "html_transferred": (r"^HTML transferred:\s+(\d+) bytes", int),
}
_BREAKDOWN = re.compile(
    r"^\s+\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)", re.M
)
_DOC_LENGTH = re.compile(r"^Document Length:\s+(\d+) bytes", re.M)
_DOC_PATH = re.compile(r"^Document Path:\s+(\S*)", re.M)
_TOTAL = re.compile(rf"^Total:\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+{_NUM}", re.M)
_PERCENTILE = re.compile(r"^\s+(\d+)%\s+(\d+)", re.M)
_TOTAL_OF = re.compile(r"^.*?Total of (\d+) requests completed", re.M)
# apr_pollset_poll: The timeout specified has expired (70007)
# apr_socket_recv: Connection reset by peer (104)
# apr_sockaddr_info_get() for nohost: Name or service not known (670002)
_APR_ERROR = re.compile(r"(apr_\w+(?:\(\))?[^:\n]*: [^\n]*\(\d+\))\s*$", re.M)
# ab marks a run that went to the end: "(be patient).....done" (few requests) or
# "Finished N requests" on stderr (with progress lines): stderr must be appended.
_FINISHED = re.compile(r"\(be patient\)\.*done|^Finished \d+ requests", re.M)
_OTHER_ABORT = re.compile(
    r"^((?:Test aborted after \d+ failures|ab: invalid URL|ab: .*|Usage: ab .*))\s*$", re.M
)


@dataclass
class AbResult:
    """One ab run's figures (or the merge of several runs at once).

    Times are in ms unless named _s. `percentiles` maps the percentage (50, 66, ..., 100)
    to ms; 100 is the longest request. `total_ms` is ab's "Total:" connection-time line
    (min, mean, sd, median, max).
    """

    complete_requests: int = 0
    failed_requests: int = 0
    failed_connect: int = 0
    failed_receive: int = 0
    failed_length: int = 0
    failed_exceptions: int = 0
    non_2xx: int = 0
    keepalive_requests: int = 0
    requests_per_second: float | None = None
    time_taken_s: float | None = None
    time_per_request_ms: float | None = None
    time_per_request_all_ms: float | None = None
    total_transferred: int | None = None
    html_transferred: int | None = None
    document_length: int | None = None
    document_path: str | None = None
    concurrency: int | None = None
    percentiles: dict[int, float] = field(default_factory=dict)
    total_ms: dict[str, float] | None = None
    aborted: bool = False
    abort_reason: str = ""
    hosts: int = 1
    latency_exact: bool = True

    @property
    def latency(self) -> Latency | None:
        """mean (ab's Total mean), p50, p90, p99 and max, or None when ab printed none."""
        p = self.percentiles
        if not self.total_ms or not all(k in p for k in (50, 90, 99)):
            return None
        return Latency(
            mean=self.total_ms["mean"],
            p50=p[50],
            p90=p[90],
            p99=p[99],
            max=p.get(100, self.total_ms["max"]),
        )

    @property
    def successful_requests(self) -> int:
        """Completed minus failed (ab counts a refused connection as two failures)."""
        return max(self.complete_requests - self.failed_requests, 0)

    def failure_breakdown(self) -> str:
        """ab's failure kinds that are not zero, e.g. 'Length: 45'; '' when none."""
        kinds = {
            "Connect": self.failed_connect,
            "Receive": self.failed_receive,
            "Length": self.failed_length,
            "Exceptions": self.failed_exceptions,
        }
        return ", ".join(f"{k}: {v}" for k, v in kinds.items() if v)


def parse_ab_stdout(text: str) -> AbResult:
    """Parse ab's report: its stdout with its stderr appended (ab writes errors and the
    'Finished' line there; without stderr a long run looks interrupted)."""
    res = AbResult()
    for name, (pattern, kind) in _FIELDS.items():
        m = re.search(pattern, text, re.M)
        if m:
            setattr(res, name, kind(m.group(1)))
    if m := _BREAKDOWN.search(text):
        (res.failed_connect, res.failed_receive, res.failed_length, res.failed_exceptions) = (
            int(g) for g in m.groups()
        )
    if m := _DOC_LENGTH.search(text):
        res.document_length = int(m.group(1))
    if m := _DOC_PATH.search(text):
        res.document_path = m.group(1)
    if m := _TOTAL.search(text):
        res.total_ms = dict(
            zip(("min", "mean", "sd", "median", "max"), map(float, m.groups()), strict=True)
        )
    table = text.split("Percentage of the requests served", 1)
    if len(table) == 2:
        res.percentiles = {int(p): float(ms) for p, ms in _PERCENTILE.findall(table[1])}
    finished = re.search(r"^Complete requests:", text, re.M) is not None
    errors = _APR_ERROR.findall(text) + _OTHER_ABORT.findall(text)
    if not finished:
        res.aborted = True
        if m := _TOTAL_OF.search(text):
            res.complete_requests = int(m.group(1))
        res.abort_reason = "; ".join(errors) or "ab printed no results"
    elif errors:  # results printed, yet ab reported an error
        res.aborted = True
        res.abort_reason = "; ".join(errors)
    elif not _FINISHED.search(text):
        # SIGINT (the runner's outer bound) makes ab print its figures so far as if done
        res.aborted = True
        res.abort_reason = (
            f"ab was interrupted after {res.complete_requests} requests (no 'done'/'Finished')"
        )
    return res


@dataclass(frozen=True)
class AbRequest:
    """One request from ab -g: start (epoch s, whole seconds), connect, processing
    (dtime), total and waiting times in ms."""

    starttime: str
    seconds: int
    ctime: int
    dtime: int
    ttime: int
    wait: int


def parse_ab_gnuplot_tsv(text: str) -> list[AbRequest]:
    """ab -g: one row per request (header `starttime seconds ctime dtime ttime wait`).
    Raises ValueError when the text is not an ab -g file; skips a malformed row."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = lines[0].split("\t")
    if header != ["starttime", "seconds", "ctime", "dtime", "ttime", "wait"]:
        raise ValueError(f"not an ab -g file: header is {lines[0]!r}")
    rows = []
    for line in lines[1:]:
        parts = line.split("\t")
        try:
            start, seconds, ctime, dtime, ttime, wait = parts
            rows.append(
                AbRequest(start, int(seconds), int(ctime), int(dtime), int(ttime), int(wait))
            )
        except ValueError:  # a row cut short (disk full while ab wrote): skip it
            continue
    return rows


def percentile_at(sorted_ms: list[float], pct: float) -> float:
    """ab's own rule: the element at index floor(n * pct / 100), the last for 100%."""
    n = len(sorted_ms)
    return sorted_ms[min(int(n * pct / 100), n - 1)]


AB_PERCENTS = (50, 66, 75, 80, 90, 95, 98, 99, 100)


def latency_from_times(times_ms: list[float]) -> tuple[dict[int, float], dict[str, float]]:
    """Percentiles and the Total line (min, mean, sd, median, max) from per-request
    total times (ab -g's ttime column)."""
    times = sorted(times_ms)
    n = len(times)
    mean = sum(times) / n
    sd = math.sqrt(sum((t - mean) ** 2 for t in times) / (n - 1)) if n > 1 else 0.0
    percentiles = {p: percentile_at(times, p) for p in AB_PERCENTS}
    total = {"min": times[0], "mean": mean, "sd": sd, "median": percentiles[50], "max": times[-1]}
    return percentiles, total


def row_times(rows: list[AbRequest]) -> list[float]:
    """The total time of each ab -g row, in ms."""
    return [float(r.ttime) for r in rows]


def _merge_counts(results: list[AbResult]) -> AbResult:
    """The hosts' counts added up, their lengths compared and their aborts joined."""
    merged = AbResult(hosts=len(results))
    for name in (
        "complete_requests",
        "failed_requests",
        "failed_connect",
        "failed_receive",
        "failed_length",
        "failed_exceptions",
        "non_2xx",
        "keepalive_requests",
    ):
        setattr(merged, name, sum(getattr(r, name) for r in results))
    merged.concurrency = sum(r.concurrency or 0 for r in results) or None
    for name in ("total_transferred", "html_transferred"):
        values = [getattr(r, name) for r in results]
        setattr(merged, name, sum(values) if None not in values else None)
    lengths = [r.document_length for r in results if r.document_length is not None]
    merged.document_length = lengths[0] if lengths else None
    if len(set(lengths)) > 1:  # the hosts saw different pages: a length failure
        merged.failed_length += 1
        merged.failed_requests += 1
    merged.document_path = results[0].document_path
    merged.aborted = any(r.aborted for r in results)
    merged.abort_reason = "; ".join(
        f"host {i + 1}: {r.abort_reason}" for i, r in enumerate(results) if r.aborted
    )
    return merged


def merge_results(results: list[AbResult], per_host_rows: list[list[float]]) -> AbResult:
    """One figure from N load generators that ran at once.

    Counts add up; requests/s = all completed requests / the wall span, taken as the
    longest host's time (the hosts start together); latency is recomputed from the merged
    -g rows when every host has them, else it is unavailable (no percentiles,
    `latency_exact` False): percentiles are never averaged.
    """
    if not results:
        raise ValueError("merge_results needs at least one ab result")
    rows_ok = len(per_host_rows) == len(results) and all(per_host_rows)
    if len(results) == 1:
        merged = replace(results[0], percentiles=dict(results[0].percentiles))
        if rows_ok and not merged.total_ms:  # ab printed no table; -g still has the rows
            merged.percentiles, merged.total_ms = latency_from_times(per_host_rows[0])
        return merged
    merged = _merge_counts(results)
    spans = [r.time_taken_s for r in results if r.time_taken_s]
    if spans:
        merged.time_taken_s = max(spans)
        merged.requests_per_second = merged.complete_requests / merged.time_taken_s
        if merged.concurrency:
            merged.time_per_request_all_ms = (
                merged.time_taken_s * 1000 / max(merged.complete_requests, 1)
            )
            merged.time_per_request_ms = merged.time_per_request_all_ms * merged.concurrency
    if rows_ok:
        merged.percentiles, merged.total_ms = latency_from_times(
            [ms for rows in per_host_rows for ms in rows]
        )
    else:
        # Percentiles of several hosts cannot be averaged into percentiles: without every
        # host's per-request rows the merged latency is unavailable, and says so.
        merged.latency_exact = False
    return merged
