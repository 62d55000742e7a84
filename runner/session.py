"""The Session: a Plan carried out against the hosts of an inventory, stage by stage.

    deploy   the target's playbook for one (mode, serving config)    `deploy`
    verify   TechEmpower-style: health, mode, every measured page    `verify`
    measure  per level: primer, warm-up, R timed repetitions, the    `measure`
             instrumented pass; every record stored the moment it exists
    report   report.md from everything stored, in `finally`          `report`

`run(policy)` loops: the policy proposes the next step (mode, serving config, levels),
the Session deploys it (when it differs from what is deployed), verifies and measures,
and hands the samples back to the policy. `fab bench`, `fab compare`, `fab tune`,
`make bench` and the self-benchmark are thin adapters over a Plan and a Session.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from runner import cpuwindow, crosscheck, ena, hostmeta, instrument, readings, watcher
from runner.console import Progress, say
from runner.deploy import ansible_playbook
from runner.inventory import Inventory
from runner.judge import CpuAround, judge
from runner.load import LoadGenerator, LoadSpec, get_load_generator
from runner.load.execute import parse_all, pull, run_on_hosts, timed_window
from runner.matrix import combination_of
from runner.model import Sample
from runner.plan import Level, Plan, check_hosts
from runner.policies.base import Policy
from runner.remote import LocalWriteError, Remote, RemoteError, connect
from runner.results import RunData, RunStore, RunStoreError, loadavg, write_error
from runner.serverwatch import note_server
from runner.targets import Deployed, Endpoint, Target, TargetError, make_target

WARMUP_S = 1.0  # a time-based tool's primer and warm-up


class BenchAbort(Exception):
    """The run cannot go on (the app failed its health check, a host vanished)."""


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


def _weight(level: Level) -> float:
    """A repetition's share of the progress line: its planned seconds when time-based
    (the request count is then only a cap), else its request count."""
    return level.duration_s or level.requests


class Session:
    """One run folder filled by carrying out a Plan on one inventory's hosts."""

    def __init__(self, plan: Plan, inventory: Inventory, store: RunStore) -> None:
        self.plan = plan
        self.inventory = inventory
        self.store = store
        self.target: Target = make_target(plan.target, plan.project, plan.project_urls, plan.config)
        self.load: LoadGenerator = get_load_generator(plan.load)
        self.commit = git_commit()
        self.app: Remote | None = None
        self.loadgens: list[Remote] = []
        self.deployed_as: tuple[str, str] | None = None  # (mode, config) deployed last
        self.deployed_config: dict[str, object] = {}  # the deploy variables of the last deploy
        self._oom_base: int | None = None  # OOM kills in the app host's cgroup at the start
        self._oom_last: int | None = None  # ... when the last sample was taken
        self._said_uninstrumented = False
        self._server_reason = ""  # the last repetition's server-side reason, if any
        self._progress: Progress | None = None  # one bar for all the modes measured in turn

    # -- the whole run ----------------------------------------------------------------
    def run(self, policy: Policy, report: bool = True) -> Path:
        """Steps from `policy` until it has none; the report is written in `finally`
        (unless `report` is False: `fab bench` prints its table only)."""
        try:
            while (step := policy.propose()) is not None:
                if step.mode is not None:
                    self.deploy(step.mode, step.config, step.label)
                samples = self.bench(step.plan or self.plan)
                policy.observe(step, samples)
                self._record_policy(policy)
            self._record_policy(policy)  # a policy may conclude only when it proposes no more
            self._record_load()
        except BaseException:
            self._record_load()
            if report:  # what was measured gets its report; the run's own error stays first
                self._report_after_error()
            raise
        if report:
            self.report()
        return self.store.run_dir

    def _record_load(self) -> None:
        """The load average as the run ends, beside its start's (a run refused before
        its first write keeps no folder, so gets none). Never raises: it must not hide
        the error that ended the run."""
        if self.store.run_dir.exists():
            with contextlib.suppress(RunStoreError, OSError):
                self.store.set_metadata({"loadavg_end": loadavg()})

    def _record_policy(self, policy: Policy) -> None:
        """What the policy decided so far, into the run's metadata."""
        if meta := policy.metadata():
            self.store.set_metadata(meta)

    def _report_after_error(self) -> None:
        try:
            self.report()
        except Exception as exc:  # never hide the error that stopped the run
            say(f"note: the report could not be written ({exc}); fab report writes it later")

    # -- stage: deploy ----------------------------------------------------------------
    def deploy(self, mode: str, config: dict[str, object], label: str = "") -> float:
        """Deploy the target in `mode` with `config` (unless exactly that is deployed by
        this session already); return the playbook's seconds."""
        from runner.policies.search import config_key

        key = (mode, config_key(dict(config)))
        if key == self.deployed_as:
            return 0.0
        words = [mode, *(f"{k}={v}" for k, v in config.items()), label, "..."]
        say("deploying " + " ".join(w for w in words if w))
        self.deployed_as = None
        variables = self.target.deploy_vars(mode, dict(config))
        seconds = ansible_playbook(self.target.playbook, self.inventory.path, variables)
        self.store.note_deploy(mode, seconds)
        self.deployed_as = key
        self.deployed_config = dict(config)
        return seconds

    # -- connections ------------------------------------------------------------------
    def open(self) -> None:
        """Connect to every host (each after the network-safety check); the load tool
        must be installed on every load generator."""
        self.app = connect(self.inventory.app)
        self.loadgens = [connect(h) for h in self.inventory.loadgens]
        tools = [self.load]
        if self.plan.cross_check:  # --cross-check: its tool must be there too
            tools.append(get_load_generator(crosscheck.CROSS_LOAD))
        for lg, tool in ((lg, tool) for lg in self.loadgens for tool in tools):
            # from bench_root: a tool may live in the host's venv
            missing = (
                f"{tool.name} is missing on this load generator ({tool.binary}): "
                "run make setup, then deploy again (ansible-playbook playbooks/deploy.yml)"
                + (" or drop --cross-check" if tool is not self.load else "")
            )
            lg.run(
                f"cd {shlex.quote(lg.host.bench_root)} 2>/dev/null; "
                f"command -v {tool.binary} >/dev/null || "
                f"{{ echo {shlex.quote(missing)} >&2; exit 127; }}",
                timeout=15,
                label=f"check for {tool.name}",
            )

    def close(self) -> None:
        """Close every connection."""
        for remote in [self.app, *self.loadgens]:
            if remote is not None:
                remote.close()

    # -- stage: verify ----------------------------------------------------------------
    def _get(self, path: str) -> dict[str, Any]:
        return self.loadgens[0].probe("http", self.inventory.app_url(path), timeout=60)

    def verify(self, plan: Plan) -> tuple[Deployed, dict[str, Endpoint]]:
        """Refuse a wrong or broken target: health, mode, then every measured page must
        answer as the target expects; return what runs and each scenario's endpoint."""
        try:
            deployed = self.target.check_health(self._get(self.target.health_path))
            self._check_combination(deployed)
            routes = set(deployed.health.get("routes") or [])
            endpoints = {
                lv.scenario: self.target.endpoint(lv.scenario, plan.view, deployed.mode)
                for lv in plan.levels
            }
            for ep in sorted(set(endpoints.values()), key=lambda e: e.path):
                deployed.lengths[ep.path] = self.target.check_page(ep, self._get(ep.path), routes)
            if warm := getattr(self.target, "warm_and_measure", None):
                # Pages whose length may change (a project's): every URL warmed, its
                # lengths recorded per mode (the report compares the modes).
                deployed.health["page_lengths"] = warm(self._get)
        except TargetError as exc:
            raise BenchAbort(str(exc)) from None
        return deployed, endpoints

    def _check_combination(self, deployed: Deployed) -> None:
        """In a version matrix the app must run the asked Django and Python; the
        combination then enters the serving config, so resume keys and the report tell
        combinations apart (other runs keep their serving config as it was)."""
        asked = combination_of(self.deployed_config) if self.plan.matrix else None
        if asked is None:
            return
        versions = deployed.health.get("versions") or {}
        running = combination_of(versions)
        if running != asked:
            raise TargetError(
                f"asked for {asked.label()}, the app runs Django {versions.get('django')} "
                f"on Python {versions.get('python')}: redeploy (fab compare deploys it)"
            )
        deployed.serving = {**deployed.serving, "django": asked.django, "python": asked.python}

    # -- stage: measure ---------------------------------------------------------------
    def bench(self, plan: Plan) -> list[Sample]:
        """Verify what is deployed, then measure every level of `plan`; return the
        samples stored this time (a resumed run skips what it has)."""
        check_hosts(plan, len(self.inventory.loadgens))
        self.open()
        try:
            deployed, endpoints = self.verify(plan)
            self._oom_base = self._oom_last = self._memory().get("oom_kills")
            self._record_metadata(deployed)
            done = self.store.completed_identities()
            progress = self._progress_for(plan)
            stored: list[Sample] = []
            for level in plan.levels:
                stored += self.measure(
                    plan, deployed, level, endpoints[level.scenario], done, progress
                )
            progress.show(f"{deployed.mode} done")
            return stored
        finally:
            self.close()

    def _progress_for(self, plan: Plan) -> Progress:
        """The run's one progress bar: planned for every mode of `plan` measured in turn
        (a compare deploys each mode and measures the same levels), widened when a
        policy measures more than that (a tuning sweep, a matrix)."""
        per_mode = sum(_weight(lv) * plan.repeat for lv in plan.levels)
        if self._progress is None:
            self._progress = Progress(per_mode * max(len(plan.modes), 1))
        elif self._progress.done + per_mode > self._progress.total:
            self._progress.total = self._progress.done + per_mode
        return self._progress

    def measure(
        self,
        plan: Plan,
        deployed: Deployed,
        level: Level,
        endpoint: Endpoint,
        done: set[str],
        progress: Progress,
    ) -> list[Sample]:
        """One level: primer and warm-up, the repetitions it is missing, then the
        instrumented pass; each record stored at once. A failed repetition stops the run."""
        path = endpoint.path
        todo = [
            r
            for r in range(1, plan.repeat + 1)
            if self.identity(plan, deployed, level, r) not in done
        ]
        progress.advance(_weight(level) * (plan.repeat - len(todo)))
        stored: list[Sample] = []
        if todo:
            self._prime(plan, deployed, level, path, progress, todo[0])
        for r in todo:
            progress.show(
                f"{deployed.mode} {level.scenario} {path} c={level.concurrency} "
                f"n={level.requests} rep {r}/{plan.repeat}"
            )
            sample = self.repetition(plan, deployed, level, path, r)
            self.store.append(sample)
            stored.append(sample)
            stored += (again := self._again_if_disturbed(plan, deployed, level, path, sample))
            sample = again[-1] if again else sample
            progress.advance(_weight(level))
            if sample.status == "failed":
                self._stopped(f"{sample.reason}; completed samples are in {self.store.run_dir}")
            if sample.status == "aborted" or sample.failed:
                self._recheck(deployed)  # a crashed app stops the run now
        stored += self.cross_check(plan, deployed, level, path, stored, done)
        stored += self._count(plan, deployed, level, path, done, progress)
        if todo:
            self._recheck(deployed)
        return stored

    def _again_if_disturbed(
        self, plan: Plan, deployed: Deployed, level: Level, path: str, sample: Sample
    ) -> list[Sample]:
        """A disturbed repetition (runner.judge) measured again, at most MAX_REMEASURES
        times; each attempt stored at once (the disturbed ones stay, invalid)."""
        from runner.policies.interleave import MAX_REMEASURES

        out: list[Sample] = []
        for attempt in range(2, MAX_REMEASURES + 2):
            if not sample.extra.get("disturbed"):
                break
            say(f"repetition {sample.repeat} disturbed ({sample.reason}): measured again")
            sample = self.repetition(
                plan, deployed, level, path, sample.repeat, f"-attempt{attempt}"
            )
            sample.extra["remeasure"] = {"of": sample.repeat, "attempt": attempt}
            self.store.append(sample)
            out.append(sample)
        return out

    def cross_check(
        self,
        plan: Plan,
        deployed: Deployed,
        level: Level,
        path: str,
        timed: list[Sample],
        done: set[str] | None = None,
    ) -> list[Sample]:
        """The level measured once more with wrk (`--cross-check`), stored at once as
        kind "crosscheck" (runner/crosscheck.py); nothing for a level not chosen."""
        if level not in crosscheck.chosen_levels(plan):
            return []
        main, self.load = self.load, get_load_generator(crosscheck.CROSS_LOAD)
        try:
            if self.identity(plan, deployed, level, 0) in (done or set()):
                return []  # a resumed run has it
            seconds = crosscheck.duration_for(level, timed)
            lv = replace(level, duration_s=seconds)
            sample = self.repetition(plan, deployed, lv, path, 0, f"-{crosscheck.CROSS_LOAD}")
        finally:
            self.load = main
        sample.kind = "crosscheck"
        sample.extra["crosscheck_of"] = main.name
        self.store.append(sample)
        return [sample]

    def spec(self, plan: Plan, level: Level, path: str, deployed: Deployed) -> LoadSpec:
        """The level as a load for the tool (the length check from verification)."""
        return LoadSpec(
            urls=(self.inventory.app_url(path),),
            concurrency=level.concurrency,
            requests=level.requests,
            duration_s=level.duration_s,
            rate=level.rate,
            keepalive=plan.keepalive,
            expected_length=self._expected_length(deployed, path),
            timeout_s=plan.timeout_s,
            host=self.inventory.app.private_address,
        )

    def repetition(  # size: the level's coordinates, as every stage passes them
        self,
        plan: Plan,
        deployed: Deployed,
        level: Level,
        path: str,
        repeat: int,
        suffix: str = "",
    ) -> Sample:
        """One repetition: the load on all load generators, CPU and the server's side
        (runner/watcher.py) around it, files pulled back, the result judged. `suffix`
        names its raw folder apart (a repetition measured again, a cross-check)."""
        key = f"{deployed.mode}-{level.scenario}-{path.strip('/').replace('/', '_')}"
        where = (
            f"{self.store.run_id}/{key}-c{level.concurrency}-n{level.requests}-rep{repeat}{suffix}"
        )
        base = self.sample_base(plan, deployed, level, path, repeat)
        base["started_at"] = datetime.now(UTC).isoformat()
        spec = self.spec(plan, level, path, deployed)
        local = self.store.run_dir / "raw" / where.split("/", 1)[1]
        stage = "load"
        watch, server, sampler = None, None, None
        try:
            net_before = self._allowances()
            watch, server = self._watch(deployed, where.split("/", 1)[1], spec.bound_s())
            sampler = self._sampler(where.split("/", 1)[1], spec.bound_s())
            assert self.app is not None
            app_before, lg_before = readings.before(self.app, self.loadgens)
            started = time.monotonic()
            runs = run_on_hosts(self.load, self.loadgens, spec, where)
            wall = time.monotonic() - started
            read = readings.after(self.app, self.loadgens, lambda: watcher.signal_stop(watch))
            app_after, lg_after, mem_after = read.app_cpu, read.loadgen_cpu, read.memory
            net_after = self._allowances()
            window_readings = cpuwindow.stop(sampler, local / cpuwindow.SAMPLE_FILE)
            stage = "pullback"
            files = pull(self.loadgens, runs, local, self.store.run_dir)
            # Last: the watcher's settle has run meanwhile (watcher.stop never raises a
            # RemoteError: a missing account is stored as its error).
            server = watcher.stop(watch, local / watcher.WATCH_FILE) if watch else server
        except LocalWriteError as exc:
            raise write_error(Path(exc.filename or self.store.run_dir), exc) from None
        except RemoteError as exc:
            watcher.signal_stop(watch)
            cpuwindow.abandon(sampler)
            return Sample(
                **base,
                status="failed",
                reason=f"{stage} failed: {exc}",
                stage=stage,
                error=str(exc),
                finished_at=datetime.now(UTC).isoformat(),
            )
        result = parse_all(self.load, runs)
        result.raw_files = files
        span = timed_window(runs, result.duration_s)
        window = cpuwindow.over(window_readings, *span, app_after.get("cpus", 1)) if span else None
        cpu = CpuAround(
            wall,
            app_before,
            app_after,
            lg_before,
            lg_after,
            window,
            plan.steal_max_pct,
            plan.outside_max_pct,
        )
        sample = judge(base, result, self._expected_length(deployed, path), cpu)
        if level.duration_s:  # time-based: the report shows the seconds asked beside ab's
            sample.extra["planned_s"] = level.duration_s
        sample.server_rss_mib = read.granian.get("rss_mib")
        ena.note(sample, net_before, net_after)
        self._note_server(sample, server, deployed, local / watcher.WATCH_FILE)
        # Kills since the last sample count: one during the warm-up hurts this one too.
        note_oom(sample, {"oom_kills": self._oom_last}, mem_after)
        self._oom_last = mem_after.get("oom_kills")
        return sample

    def _watch(
        self, deployed: Deployed, name: str, bound_s: float
    ) -> tuple[watcher.Watch | None, dict[str, Any] | None]:
        """Start the app host's server watcher (PostgreSQL's connections, Granian's
        metrics): the watch, or the error to store in its place, or neither."""
        if self.app is None:
            return None, None
        watch, error = watcher.start(self.app, deployed.health, name, bound_s)
        return watch, ({"error": error} if error else None)

    def _sampler(self, name: str, bound_s: float) -> cpuwindow.Sampler | None:
        """The app host's CPU sampler for one repetition's timed window (the /proc sum
        too when ABW_CPU_PROCS=1: the accounting's cross-check, docs/CHECKS.md)."""
        if self.app is None:
            return None
        procs = os.environ.get("ABW_CPU_PROCS") == "1"
        return cpuwindow.start(self.app, name, bound_s, procs=procs)

    def _note_server(
        self, sample: Sample, server: dict[str, Any] | None, deployed: Deployed, raw: Path
    ) -> None:
        """The watcher's account into the sample (invalid on refused connections), with
        the app's connection settings and where its raw lines are (not in raw_files: those
        are the load tool's, one folder per host); nothing when nothing was watched."""
        self._server_reason = str((server or {}).get("invalid_reason") or "")
        if server is None:
            return
        server["app_connections"] = deployed.health.get("connections")
        if raw.exists():
            server["raw_file"] = str(raw.relative_to(self.store.run_dir))
        note_server(sample, server)

    def _prime(
        self,
        plan: Plan,
        deployed: Deployed,
        level: Level,
        path: str,
        progress: Progress,
        first: int,
    ) -> None:
        """A short primer at concurrency 1 from the first load generator, then a warm-up
        at the level itself (neither stored); a failure is stored and stops the run."""
        progress.show(f"{deployed.mode} {level.scenario} {path} primer + warm-up")
        spec = self.spec(plan, level, path, deployed)
        short = min(spec.duration_s, WARMUP_S) if spec.duration_s else None  # time-based
        primer = replace(spec, concurrency=1, requests=max(plan.primer_requests, 1))
        try:
            primer = replace(primer, duration_s=short)
            run_on_hosts(self.load, self.loadgens[:1], primer, f"{self.store.run_id}/primer")
            if plan.warmup:
                n = max(level.concurrency * 2, len(self.loadgens))
                warm = replace(spec, requests=n, duration_s=short)
                run_on_hosts(self.load, self.loadgens, warm, f"{self.store.run_id}/warmup")
        except RemoteError as exc:
            failed = Sample(
                **self.sample_base(plan, deployed, level, path, first),
                status="failed",
                reason=f"warm-up failed: {exc}",
                stage="warm-up",
                error=str(exc),
                finished_at=datetime.now(UTC).isoformat(),
            )
            self.store.append(failed)
            self._stopped(f"{failed.reason}; completed samples are in {self.store.run_dir}")

    def _count(
        self,
        plan: Plan,
        deployed: Deployed,
        level: Level,
        path: str,
        done: set[str],
        progress: Progress,
    ) -> list[Sample]:
        """The level's instrumented pass, stored at once; nothing when the plan skips it,
        when the app runs without BENCH_INSTRUMENT (said once), or when a resume has it."""
        if not plan.instrument:
            return []
        if not deployed.health.get("instrument"):
            if not self._said_uninstrumented:
                say(
                    "note: the app runs without BENCH_INSTRUMENT: no instrumented pass "
                    "(redeploy with -e instrument=true, the deploy's default)"
                )
                self._said_uninstrumented = True
            return []
        base = self.sample_base(plan, deployed, level, path, 0)
        args = self._identity_args(plan, deployed, level, 0)
        if Sample.identity_of(**args, instrumented=True, load=self.load.name) in done:
            return []
        progress.show(f"{deployed.mode} {level.scenario} {path} instrumented pass ({plan.view})")
        assert self.app is not None
        sample = instrument.instrumented_pass(
            self.app,
            self.loadgens[0],
            self.inventory.app_url(path),
            {**base, "loadgen_hosts": [self.loadgens[0].host.name]},
            self._expected_length(deployed, path),
            plan.instrument_requests,
        )
        self.store.append(sample)
        return [sample]

    # -- identities -------------------------------------------------------------------
    def _identity_args(
        self, plan: Plan, deployed: Deployed, level: Level, repeat: int
    ) -> dict[str, Any]:
        return {
            "mode": deployed.mode,
            "view": plan.view,
            "scenario": level.scenario,
            "concurrency": level.concurrency,
            "requests": level.requests,
            "repeat": repeat,
            "keepalive": plan.keepalive,
            "serving": deployed.serving,
            "commit": self.commit,
        }

    def identity(self, plan: Plan, deployed: Deployed, level: Level, repeat: int) -> str:
        """The resume key of a timed repetition (runner.model.Sample.identity_of)."""
        return Sample.identity_of(
            **self._identity_args(plan, deployed, level, repeat), load=self.load.name
        )

    def sample_base(
        self, plan: Plan, deployed: Deployed, level: Level, path: str, repeat: int
    ) -> dict[str, Any]:
        """What every record of this level and repetition carries: identity and where."""
        return {
            **self._identity_args(plan, deployed, level, repeat),
            "run_id": self.store.run_id,
            "path": path,
            "loadgen_hosts": [lg.host.name for lg in self.loadgens],
            "load": self.load.name,
            "versions": dict(deployed.health.get("versions") or {}),
        }

    # -- health and memory ------------------------------------------------------------
    def _allowances(self) -> dict[str, ena.Allowances]:
        """The EC2 hosts' network allowance counters (none for local hosts)."""
        return {
            r.host.name: ena.parse_reading(r.run(ena.COMMAND, timeout=20).stdout)
            for r in [self.app, *self.loadgens]
            if r is not None and r.host.cloud == "aws"
        }

    def _memory(self) -> dict[str, Any]:
        """The app host's memory (limit, peak, limit hits, OOM kills): cgroup or machine."""
        assert self.app is not None
        return self.app.probe("memory")

    def _oom_note(self) -> str:
        """'; app host ran out of memory: ...' when the app host's cgroup saw OOM kills
        since the run started, else ''. Never raises: it only explains another error."""
        try:
            mem = self._memory()
        except (RemoteError, ValueError):
            return ""
        kills = (mem.get("oom_kills") or 0) - (self._oom_base or 0)
        return f"; {oom_text(kills, mem)}" if kills > 0 else ""

    def _recheck(self, deployed: Deployed) -> None:
        """Between levels (and after a repetition with errors) the app must still be
        healthy and in the same mode; if not, the run stops and says why."""
        try:
            health = self._get(self.target.health_path)
        except RemoteError as exc:
            self._stopped(f"health re-check failed: {exc}")
        body = health.get("json") or {}
        if health.get("status") != 200 or body.get("mode") != deployed.mode:
            self._stopped(
                f"health re-check failed ({health.get('error') or health.get('status')}): "
                f"the app stopped answering{self._oom_note()}"
                f"{'; last repetition: ' + self._server_reason if self._server_reason else ''}"
                f"; completed samples are in "
                f"{self.store.run_dir}; redeploy, then fab bench --resume {self.store.run_id}"
            )

    def _stopped(self, reason: str) -> NoReturn:
        """Record in the run's metadata why it stopped, then stop it."""
        self.store.set_metadata(
            {"stopped": {"reason": reason, "at": datetime.now(UTC).isoformat()}}
        )
        raise BenchAbort(reason)

    def _expected_length(self, deployed: Deployed, path: str) -> int | None:
        """The body length every response must have; None for a target whose pages may
        change length (the load generator then does not count that as a failure)."""
        if not getattr(self.target, "strict_length", True):
            return None
        return deployed.lengths.get(path)

    def _record_metadata(self, deployed: Deployed) -> None:
        assert self.app is not None
        hosts = {}
        for remote in [self.app, *self.loadgens]:
            specs = remote.probe("specs")
            specs.update(remote.host.describe())
            found = remote.run(hostmeta.command(remote.host.cloud), timeout=30, warn=True)
            specs["machine"] = hostmeta.parse(found.stdout)
            hosts[remote.host.name] = specs
        root = shlex.quote(self.loadgens[0].host.bench_root)
        version = (
            self.loadgens[0]
            .run(f"cd {root} 2>/dev/null; {self.load.version_command()}", timeout=15)
            .stdout.strip()
        )
        meta = {
            "run_id": self.store.run_id,
            "started_at": datetime.now(UTC).isoformat(),
            "commit": self.commit,
            "commands": [self.plan.command],
            "inventory": self.inventory.path,
            "hosts": hosts,
            "machine_class": self.inventory.app.machine_class,
            "versions": {**(deployed.health.get("versions") or {}), self.load.name: version},
            "target": self.target.name,
            **self._target_metadata(deployed),
            "load": self.load.name,
            "app": {
                k: deployed.health.get(k) for k in ("debug", "database", "middleware", "upstream")
            },
        }
        self.store.update_metadata(deployed.mode, meta)

    def _target_metadata(self, deployed: Deployed) -> dict[str, Any]:
        """A project's record and what verification saw of it (nothing for app/)."""
        record = getattr(self.target, "metadata", None)
        if record is None:
            return {}
        return {
            "project": record(),
            "project_health": {
                k: deployed.health.get(k) for k in ("versions", "debug", "overrides", "project")
            },
            "page_lengths": deployed.health.get("page_lengths") or {},
        }

    # -- stage: report ----------------------------------------------------------------
    def report(self) -> RunData | None:
        """report.md for everything stored so far (nothing when nothing was stored)."""
        from runner.report import report_run

        return report_run(self.store)


def oom_text(kills: int, mem: dict[str, Any]) -> str:
    """What the app host's memory figures say about OOM kills, in one phrase."""
    return (
        f"app host ran out of memory: {kills} OOM kill{'s' if kills != 1 else ''} "
        f"(memory limit {mem.get('limit_mib')} MiB, peak {mem.get('peak_mib')} MiB, limit "
        f"reached {mem.get('limit_hits')} times; {mem.get('source', 'cgroup')})"
    )


def note_oom(sample: Sample, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Record the app host's memory around a repetition; OOM kills make it invalid, and
    the reason says so first (a killed worker otherwise looks like a mystery timeout)."""
    sample.extra["app_memory"] = after
    kills = (after.get("oom_kills") or 0) - (before.get("oom_kills") or 0)
    if kills <= 0:
        return
    sample.reason = "; ".join(filter(None, [oom_text(kills, after), sample.reason]))
    if sample.status == "ok":
        sample.status = "invalid"
    sample.valid = False
