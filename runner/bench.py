"""The measuring loop behind `fab bench`: validate the target, then per scenario and
concurrency level a primer, a warm-up and R repetitions of ab on every load generator at
once, with CPU sampled around each, every raw file pulled back, and every sample stored
the moment it exists."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from runner import ena, hostmeta
from runner.abcmd import ab_argv, split_load
from runner.abparse import AbResult, merge_results, parse_ab_gnuplot_tsv, parse_ab_stdout
from runner.instrument import maybe_count
from runner.inventory import Inventory
from runner.model import Latency, Sample
from runner.plan import Level, PlanError, route
from runner.remote import LocalWriteError, Remote, RemoteError, connect
from runner.results import RunStore, write_error

LOADGEN_SATURATED_PCT = 90.0
EXPECTED_USERS = 1000


class BenchAbort(Exception):
    """The run cannot go on (the app failed its health check, a host vanished)."""


@dataclass
class BenchOptions:
    """Everything one `fab bench` invocation measures, already checked."""

    levels: list[Level]
    view: str
    repeat: int
    keepalive: bool
    timeout_s: int
    primer_requests: int = 5
    warmup: bool = True
    command: str = ""
    instrument: bool = True  # the separate counting pass after each level (runner.instrument)
    instrument_requests: int = 12


@dataclass
class Target:
    """What the validation found on the app host: mode, serving config, page lengths."""

    mode: str
    serving: dict[str, Any]
    health: dict[str, Any]
    lengths: dict[str, int] = field(default_factory=dict)


def git_commit() -> str:
    """The controller's commit (with -dirty when the tree has changes)."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class Progress:
    """One line on stderr: what runs now, how far, and the time left."""

    def __init__(self, total_requests: int) -> None:
        self.total = max(total_requests, 1)
        self.done = 0
        self.started = time.monotonic()

    def show(self, label: str) -> None:
        """Print the bar with `label` for the step about to run."""
        frac = self.done / self.total
        elapsed = time.monotonic() - self.started
        left = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * int(frac * 20)
        print(
            f"[{bar:<20}] {frac:4.0%}  ~{left:4.0f}s left  {label}",
            file=sys.stderr,
            flush=True,
        )

    def advance(self, requests: int) -> None:
        """Count requests that are done."""
        self.done += requests


class Bench:
    """One run against the hosts of an inventory, writing into a RunStore."""

    def __init__(self, inventory: Inventory, store: RunStore, options: BenchOptions) -> None:
        self.inventory = inventory
        self.store = store
        self.options = options
        self.commit = git_commit()
        self.app: Remote | None = None
        self.loadgens: list[Remote] = []
        self._oom_base: int | None = None  # OOM kills in the app host's cgroup at the start
        self._oom_last: int | None = None  # ... when the last sample was taken

    # -- connections ------------------------------------------------------------------
    def open(self) -> None:
        """Connect to every host (each after the network-safety check)."""
        self.app = connect(self.inventory.app)
        self.loadgens = [connect(h) for h in self.inventory.loadgens]
        for lg in self.loadgens:
            lg.run("command -v ab", timeout=15)

    def close(self) -> None:
        """Close every connection."""
        for remote in [self.app, *self.loadgens]:
            if remote is not None:
                remote.close()

    # -- validation -------------------------------------------------------------------
    def _get(self, path: str) -> dict[str, Any]:
        return self.loadgens[0].probe("http", self.inventory.app_url(path), timeout=60)

    def validate(self, paths: list[str]) -> Target:
        """Refuse a wrong or broken app: health, mode, 1000 users, every path answering."""
        health = self._get("/health/")
        if "error" in health or health.get("status") != 200 or "json" not in health:
            raise BenchAbort(
                f"app at {self.inventory.app_url('/health/')} failed its health check "
                f"({health.get('error') or health.get('status')}): deploy it first "
                "(ansible-playbook playbooks/deploy.yml -e mode=asgi)"
            )
        body = health["json"]
        if body.get("mode") not in ("asgi", "wsgi"):
            raise BenchAbort(f"app reports mode {body.get('mode')!r}: not a harness app")
        if body.get("users") != EXPECTED_USERS:
            raise BenchAbort(
                f"app has {body.get('users')} users, not {EXPECTED_USERS}: "
                "redeploy to load the data"
            )
        # The middleware stack is part of the serving config: a sweep over it must not
        # look like repetitions of one configuration (to the report or to --resume).
        serving = {**(body.get("serving") or {}), "middleware": body.get("middleware")}
        target = Target(mode=body["mode"], serving=serving, health=body)
        routes = set(body.get("routes") or [])
        for path in paths:
            if routes and path not in routes:
                raise BenchAbort(f"app does not serve {path} (its routes: {sorted(routes)})")
            page = self._get(path)
            if page.get("status") != 200:
                raise BenchAbort(f"{path} answered {page.get('status') or page.get('error')}")
            is_users = path in ("/sync/", "/async/") or path.startswith("/users/")
            if is_users and page.get("rows") != EXPECTED_USERS:
                raise BenchAbort(f"{path} shows {page.get('rows')} rows, not {EXPECTED_USERS}")
            target.lengths[path] = page["length"]
        return target

    # -- one ab run ---------------------------------------------------------------------
    def _ab_on_all(
        self, run_dir: str, path: str, requests: int, concurrency: int, only_first: bool = False
    ) -> tuple[list[tuple[Remote, str, int]], float]:
        """Run ab on every load generator at once (or on the first only, for a primer at
        concurrency 1); return (host, dir, rc) per host and the wall time."""
        loadgens = self.loadgens[:1] if only_first else self.loadgens
        shares = split_load(requests, concurrency, len(loadgens))
        url = self.inventory.app_url(path)
        bound = int(self.options.timeout_s * (requests / concurrency + 2) + 30)
        bound = min(bound, 3600)

        def one(args: tuple[Remote, tuple[int, int]]) -> tuple[Remote, str, int]:
            lg, (n, c) = args
            where = f"{lg.host.bench_root}/runs/{run_dir}"
            argv = ab_argv(
                url,
                n,
                c,
                keepalive=self.options.keepalive,
                timeout_s=self.options.timeout_s,
                percentiles_csv="percentiles.csv",
                gnuplot_tsv="requests.tsv",
            )
            ab = f"timeout --signal=INT {bound} {shlex.join(argv)} > ab.stdout 2> ab.stderr"
            cmd = (
                f"mkdir -p {shlex.quote(where)} && cd {shlex.quote(where)} && "
                f"{{ {ab} & ab=$!; {_WATCHDOG} wait $ab; echo $? > ab.rc; times > ab.times; "
                "kill $dog 2>/dev/null; cat ab.rc; }"
            )
            result = lg.run(cmd, timeout=bound + 30, label=f"ab -n {n} -c {c} {url}")
            return lg, where, int(result.stdout.strip() or 1)

        started = time.monotonic()
        pool = ThreadPoolExecutor(max_workers=len(loadgens))
        try:
            outcomes = list(pool.map(one, zip(loadgens, shares, strict=True)))
        except BaseException:
            # Ctrl-C or a lost host: end the other sessions now (their watchdogs stop ab)
            # instead of waiting for every ab to finish its run.
            for lg in loadgens:
                lg.close()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return outcomes, time.monotonic() - started

    def _pull(self, outcomes: list[tuple[Remote, str, int]], local: Path) -> list[str]:
        """Bring every raw file back; return their paths relative to the run folder."""
        files: list[str] = []
        for lg, where, _ in outcomes:
            listing = lg.run(f"ls {shlex.quote(where)}", timeout=20).stdout.split()
            for name in listing:
                dest = local / lg.host.name / name
                lg.get(f"{where}/{name}", dest)
                files.append(str(dest.relative_to(self.store.run_dir)))
        return files

    def _cpu(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        assert self.app is not None
        return self.app.probe("cpu"), [lg.probe("cpu") for lg in self.loadgens]

    def measure(
        self, target: Target, level: Level, path: str, repeat: int, kind: str = "rep"
    ) -> Sample:
        """One repetition: ab on all load generators, CPU around it, files pulled back."""
        key = f"{target.mode}-{level.scenario}-{path.strip('/').replace('/', '_')}"
        run_dir = f"{self.store.run_id}/{key}-c{level.concurrency}-n{level.requests}-{kind}{repeat}"
        base = self._sample_base(target, level, path, repeat)
        base["started_at"] = datetime.now(UTC).isoformat()
        stage = "load"
        try:
            net_before = self._allowances()
            app_before, lg_before = self._cpu()
            outcomes, wall = self._ab_on_all(run_dir, path, level.requests, level.concurrency)
            app_after, lg_after = self._cpu()
            net_after = self._allowances()
            mem_after = self._memory()
            granian = self.app.probe("procs", "granian") if self.app else {}
            stage = "pullback"
            local = self.store.run_dir / "raw" / run_dir.split("/", 1)[1]
            files = self._pull(outcomes, local)
        except LocalWriteError as exc:
            raise write_error(Path(exc.filename or self.store.run_dir), exc) from None
        except RemoteError as exc:
            return Sample(
                **base,
                status="failed",
                valid=False,
                reason=f"{stage} failed: {exc}",
                stage=stage,
                error=str(exc),
                finished_at=datetime.now(UTC).isoformat(),
            )
        results, rows = [], []
        for lg, _, rc in outcomes:
            host_dir = local / lg.host.name
            stdout = _read(host_dir / "ab.stdout") + "\n" + _read(host_dir / "ab.stderr")
            res = parse_ab_stdout(stdout)
            if rc != 0 and not res.aborted:
                res.aborted = True
                res.abort_reason = res.abort_reason or f"ab exited {rc}"
            results.append(res)
            tsv = host_dir / "requests.tsv"
            try:
                rows.append(parse_ab_gnuplot_tsv(_read(tsv)) if tsv.exists() else [])
            except ValueError:  # not an ab -g file (cut short): percentiles from ab's table
                rows.append([])
        merged = merge_results(results, rows)
        ab_pct = max(
            (_ab_cpu_pct(_read(local / lg.host.name / "ab.times"), res.time_taken_s) or 0.0)
            for (lg, _, _), res in zip(outcomes, results, strict=True)
        )
        sample = self._judge(
            base,
            merged,
            target,
            path,
            files,
            wall,
            (app_before, app_after),
            (lg_before, lg_after),
            ab_pct,
        )
        sample.server_rss_mib = granian.get("rss_mib")
        ena.note(sample, net_before, net_after)
        # Kills since the last sample count: one during the warm-up hurts this one too.
        _note_oom(sample, {"oom_kill": self._oom_last}, mem_after)
        self._oom_last = mem_after.get("oom_kill")
        return sample

    def _allowances(self) -> dict[str, ena.Allowances]:
        """The EC2 hosts' network allowance counters (none for local hosts)."""
        return {
            r.host.name: ena.parse_reading(r.run(ena.COMMAND, timeout=20).stdout)
            for r in [self.app, *self.loadgens]
            if r is not None and r.host.cloud == "aws"
        }

    def _memory(self) -> dict[str, Any]:
        """The app host's memory cgroup (limit, peak, failcnt, OOM kills)."""
        assert self.app is not None
        return self.app.probe("memory")

    def _oom_note(self) -> str:
        """'; app host ran out of memory: ...' when the app host's cgroup saw OOM kills
        since the run started, else ''. Never raises: it only explains another error."""
        try:
            mem = self._memory()
        except (RemoteError, ValueError):
            return ""
        kills = (mem.get("oom_kill") or 0) - (self._oom_base or 0)
        return f"; {_oom_text(kills, mem)}" if kills > 0 else ""

    def _sample_base(self, target: Target, level: Level, path: str, repeat: int) -> dict[str, Any]:
        """What every sample of this level and repetition carries: its identity and where."""
        return {
            **self._identity_args(target, level, path, repeat),
            "run_id": self.store.run_id,
            "path": path,
            "loadgen_hosts": [lg.host.name for lg in self.loadgens],
        }

    def _judge(
        self,
        base: dict[str, Any],
        merged: AbResult,
        target: Target,
        path: str,
        files: list[str],
        wall: float,
        app_cpu: tuple[dict[str, Any], dict[str, Any]],
        lg_cpu: tuple[list[dict[str, Any]], list[dict[str, Any]]],
        ab_pct: float,
    ) -> Sample:
        """Turn merged ab figures and CPU deltas into a sample marked valid or not, and why.

        The load generator counts as the limit when ab itself (single-threaded) used
        LOADGEN_SATURATED_PCT of a CPU or more; the hosts' whole CPU is kept beside it."""
        completed = merged.complete_requests
        app_before, app_after = app_cpu
        lg_before, lg_after = lg_cpu
        server_cpu = _cpu_delta(app_before, app_after)
        lg_host_pct = max(
            _cpu_delta(before, after) / max(wall, 1e-9) / max(after.get("cpus", 1), 1) * 100
            for before, after in zip(lg_before, lg_after, strict=True)
        )
        reasons: list[str] = []
        status = "ok"
        if merged.aborted:
            status = "aborted"
            reasons.append(f"ab aborted after {completed} requests: {merged.abort_reason}")
        if merged.failed_requests:
            reasons.append(
                f"{merged.failed_requests} failed requests ({merged.failure_breakdown()})"
            )
        if merged.non_2xx:
            reasons.append(f"{merged.non_2xx} non-2xx responses")
        expected = target.lengths.get(path)
        if expected is not None and merged.document_length not in (None, expected):
            reasons.append(f"document length {merged.document_length}, expected {expected}")
        if ab_pct >= LOADGEN_SATURATED_PCT and (merged.time_taken_s or 0) < 1.0:
            reasons.append(
                f"ab ran {merged.time_taken_s or 0:.2f} s and used {ab_pct:.0f}% of a CPU: too "
                "short to rule out the load generator as the limit; raise --requests"
            )
        elif ab_pct >= LOADGEN_SATURATED_PCT:
            reasons.append(f"ab used {ab_pct:.0f}% of a CPU: the load generator limited the run")
        if reasons and status == "ok":
            status = "invalid"
        latency = merged.latency
        return Sample(
            **base,
            rps=merged.requests_per_second,
            latency_ms=Latency(**latency) if isinstance(latency, dict) else latency,
            failed=merged.failed_requests,
            non_2xx=merged.non_2xx,
            completed=completed,
            duration_s=merged.time_taken_s,
            server_cpu_s_per_request=server_cpu / completed if completed else None,
            loadgen_cpu_pct=round(ab_pct, 1),
            status=status,
            valid=status == "ok",
            reason="; ".join(reasons),
            document_length=merged.document_length,
            raw_files=files,
            steal_s=app_after.get("steal_s", 0) - app_before.get("steal_s", 0),
            finished_at=datetime.now(UTC).isoformat(),
            extra={"loadgen_host_cpu_pct": round(lg_host_pct, 1)},
        )

    # -- the whole run ------------------------------------------------------------------
    def run(self, progress_label: Callable[[str], str] = lambda s: s) -> list[Sample]:
        """Validate, then measure every level; return the samples stored this time."""
        opts = self.options
        too_low = [
            lv.concurrency for lv in opts.levels if lv.concurrency < len(self.inventory.loadgens)
        ]
        if too_low:
            raise PlanError(
                f"concurrency {min(too_low)} is below the {len(self.inventory.loadgens)} load "
                "generators: each needs at least one client; raise --concurrency"
            )
        self.open()
        try:
            probe_paths: list[str] = []
            target0 = self.validate([])  # the mode decides the paths
            paths = {lv.scenario: route(lv.scenario, opts.view, target0.mode) for lv in opts.levels}
            probe_paths = sorted(set(paths.values()))
            target = self.validate(probe_paths)
            self._oom_base = self._oom_last = self._memory().get("oom_kill")
            self._record_metadata(target)
            done = self.store.completed_identities()
            total = sum(lv.requests * opts.repeat for lv in opts.levels)
            progress = Progress(total)
            stored: list[Sample] = []
            for level in opts.levels:
                path = paths[level.scenario]
                todo = [
                    r
                    for r in range(1, opts.repeat + 1)
                    if Sample.identity_of(**self._identity_args(target, level, path, r)) not in done
                ]
                progress.advance(level.requests * (opts.repeat - len(todo)))
                if not todo:
                    stored += maybe_count(self, target, level, path, done, progress.show)
                    continue
                try:
                    self._prime(target, level, path, progress)
                except RemoteError as exc:
                    failed = Sample(
                        **self._sample_base(target, level, path, todo[0]),
                        status="failed",
                        reason=f"warm-up failed: {exc}",
                        stage="warm-up",
                        error=str(exc),
                        finished_at=datetime.now(UTC).isoformat(),
                    )
                    self.store.append(failed)
                    self._stopped(f"{failed.reason}; completed samples are in {self.store.run_dir}")
                for r in todo:
                    progress.show(
                        f"{target.mode} {level.scenario} {path} c={level.concurrency} "
                        f"n={level.requests} rep {r}/{opts.repeat}"
                    )
                    sample = self.measure(target, level, path, r)
                    self.store.append(sample)
                    stored.append(sample)
                    progress.advance(level.requests)
                    if sample.status == "failed":
                        self._stopped(
                            f"{sample.reason}; completed samples are in {self.store.run_dir}"
                        )
                    if sample.status == "aborted" or sample.failed:
                        self._recheck(target)  # a crashed app stops the run now
                stored += maybe_count(self, target, level, path, done, progress.show)
                self._recheck(target)
            progress.show("done")
            return stored
        finally:
            self.close()

    def _identity_args(
        self, target: Target, level: Level, path: str, repeat: int
    ) -> dict[str, Any]:
        return {
            "mode": target.mode,
            "view": self.options.view,
            "scenario": level.scenario,
            "concurrency": level.concurrency,
            "requests": level.requests,
            "repeat": repeat,
            "keepalive": self.options.keepalive,
            "serving": target.serving,
            "commit": self.commit,
        }

    def _prime(self, target: Target, level: Level, path: str, progress: Progress) -> None:
        """A short primer at concurrency 1, then a warm-up at the level itself (not stored)."""
        primer = Level(level.scenario, 1, max(self.options.primer_requests, 1))
        progress.show(f"{target.mode} {level.scenario} {path} primer + warm-up")
        self._ab_on_all(f"{self.store.run_id}/primer", path, primer.requests, 1, only_first=True)
        if self.options.warmup:
            n = max(level.concurrency * 2, len(self.loadgens))
            self._ab_on_all(f"{self.store.run_id}/warmup", path, n, level.concurrency)

    def _recheck(self, target: Target) -> None:
        """Between levels (and after a repetition with errors) the app must still be
        healthy and in the same mode; if not, the run stops and says why."""
        try:
            health = self._get("/health/")
        except RemoteError as exc:
            self._stopped(f"health re-check failed: {exc}")
        body = health.get("json") or {}
        if health.get("status") != 200 or body.get("mode") != target.mode:
            self._stopped(
                f"health re-check failed ({health.get('error') or health.get('status')}): "
                f"the app stopped answering{self._oom_note()}; completed samples are in "
                f"{self.store.run_dir}; redeploy, then fab bench --resume {self.store.run_id}"
            )

    def _stopped(self, reason: str) -> NoReturn:
        """Record in the run's metadata why it stopped, then stop it."""
        self.store.set_metadata(
            {"stopped": {"reason": reason, "at": datetime.now(UTC).isoformat()}}
        )
        raise BenchAbort(reason)

    def _record_metadata(self, target: Target) -> None:
        assert self.app is not None
        hosts = {}
        for remote in [self.app, *self.loadgens]:
            specs = remote.probe("specs")
            specs.update(remote.host.describe())
            found = remote.run(hostmeta.command(remote.host.cloud), timeout=30, warn=True)
            specs["machine"] = hostmeta.parse(found.stdout)
            hosts[remote.host.name] = specs
        ab_version = self.loadgens[0].run("ab -V | head -1", timeout=15).stdout.strip()
        meta = {
            "run_id": self.store.run_id,
            "started_at": datetime.now(UTC).isoformat(),
            "commit": self.commit,
            "commands": [self.options.command],
            "inventory": self.inventory.path,
            "hosts": hosts,
            "machine_class": self.inventory.app.machine_class,
            "versions": {**(target.health.get("versions") or {}), "ab": ab_version},
            "app": {
                k: target.health.get(k) for k in ("debug", "database", "middleware", "upstream")
            },
        }
        self.store.update_metadata(target.mode, meta)


def _cpu_delta(before: dict[str, Any], after: dict[str, Any]) -> float:
    """CPU seconds a host spent between two probes, less the second probe's own start-up."""
    return max(after["cpu_s"] - before["cpu_s"] - after.get("self_cpu_s", 0.0), 0.0)


def _ab_cpu_pct(times_output: str, ab_seconds: float | None) -> float | None:
    """ab's own CPU (user + sys, from the shell's `times` after ab was reaped) as a percent
    of one CPU over ab's run: ab is single-threaded, so near 100% means it was the limit."""
    lines = times_output.strip().splitlines()
    if len(lines) < 2 or not ab_seconds:
        return None
    total = 0.0
    for word in lines[1].split()[:2]:  # children's user and sys, e.g. "0m1.250s"
        minutes, _, seconds = word.rstrip("s").partition("m")
        try:
            total += float(minutes) * 60 + float(seconds)
        except ValueError:
            return None
    return total / ab_seconds * 100


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# Ends ab when the SSH session that started it is gone (a lost controller or a cut link:
# sshd exits, no signal reaches a command without a terminal). $PPID is that sshd.
_WATCHDOG = (
    "( s=$PPID; while kill -0 $ab 2>/dev/null; do "
    "kill -0 $s 2>/dev/null || kill -TERM $ab; sleep 1; done ) >/dev/null 2>&1 & dog=$!;"
)


def _oom_text(kills: int, mem: dict[str, Any]) -> str:
    return (
        f"app host ran out of memory: {kills} OOM kill{'s' if kills != 1 else ''} in its "
        f"cgroup (limit {mem.get('limit_mib')} MiB, peak {mem.get('max_usage_mib')} MiB, "
        f"limit hit {mem.get('failcnt')} times)"
    )


def _note_oom(sample: Sample, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Record the app host's memory around a repetition; OOM kills make it invalid, and
    the reason says so first (a killed worker otherwise looks like a mystery timeout)."""
    sample.extra["app_memory"] = after
    kills = (after.get("oom_kill") or 0) - (before.get("oom_kill") or 0)
    if kills <= 0:
        return
    sample.reason = "; ".join(filter(None, [_oom_text(kills, after), sample.reason]))
    if sample.status == "ok":
        sample.status = "invalid"
    sample.valid = False
