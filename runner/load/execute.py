"""Running a load generator on every load-generator host at once, for any tool: the
command under the outer time bound and the watchdog, the tool's own CPU time from the
shell's `times`, every file pulled back, then the tool's `parse` per host and `merge`.

What is tool-specific comes from the LoadGenerator (runner/load/base.py); this module
knows only the files it writes itself: `load.rc` (the exit code), `load.times` and
`load.clock` (the wall time the tool started and ended: the timed window's anchor).
"""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from runner.load.base import HostRun, LoadGenerator, LoadResult, LoadSpec
from runner.remote import Remote

RC_FILE = "load.rc"
TIMES_FILE = "load.times"
CLOCK_FILE = "load.clock"

# Ends the tool when the SSH session that started it is gone (a lost controller or a cut
# link: sshd exits, no signal reaches a command without a terminal). $PPID is that sshd.
WATCHDOG = (
    "( s=$PPID; while kill -0 $tool 2>/dev/null; do "
    "kill -0 $s 2>/dev/null || kill -TERM $tool; sleep 1; done ) >/dev/null 2>&1 & dog=$!;"
)


def wrapped(gen: LoadGenerator, spec: LoadSpec, where: str) -> str:
    """The shell command one host runs: into `where`, the tool under `timeout` (SIGINT
    first, so the tool prints what it has) and the watchdog, then its exit code and the
    shell's `times` (the tool's own CPU) into files; it prints the exit code."""
    bound = spec.bound_s()
    quoted = shlex.quote(where)
    cmd = gen.command(spec)
    tool = (
        f"timeout --signal=INT {bound} {shlex.join(cmd.argv)} "
        f"> {shlex.quote(cmd.stdout)} 2> {shlex.quote(cmd.stderr)}"
    )
    return (
        f"mkdir -p {quoted} && cd {quoted} && "
        f"{{ date +%s.%N > {CLOCK_FILE}; {tool} & tool=$!; {WATCHDOG} wait $tool; "
        f"echo $? > {RC_FILE}; date +%s.%N >> {CLOCK_FILE}; "
        f"times > {TIMES_FILE}; kill $dog 2>/dev/null; cat {RC_FILE}; }}"
    )


def _place_files(lg: Remote, gen: LoadGenerator, spec: LoadSpec, where: str) -> None:
    """Put the tool's support files (e.g. a Lua script) into its working folder."""
    files = gen.support_files(spec)
    if not files:
        return
    lg.run(f"mkdir -p {shlex.quote(where)}", timeout=20)
    for name, text in files.items():
        path = shlex.quote(f"{where}/{name}")
        lg.run(f"cat > {path} <<'LOAD_EOF'\n{text}\nLOAD_EOF", timeout=20)


def run_on_hosts(
    gen: LoadGenerator, loadgens: list[Remote], spec: LoadSpec, where: str
) -> list[HostRun]:
    """Run `spec`, split across `loadgens`, on all of them at once; each host works in
    `<bench_root>/runs/<where>`. Return one HostRun per host (exit code known)."""
    shares = gen.split(spec, len(loadgens))

    def one(args: tuple[Remote, LoadSpec]) -> HostRun:
        lg, share = args
        remote_dir = f"{lg.host.bench_root}/runs/{where}"
        _place_files(lg, gen, share, remote_dir)
        size = f"-d {share.duration_s:g}s" if share.duration_s else f"-n {share.requests}"
        label = f"{gen.name} {size} -c {share.concurrency} {share.url}"
        result = lg.run(wrapped(gen, share, remote_dir), timeout=share.bound_s() + 30, label=label)
        run = HostRun(lg.host.name, share, remote_dir, Path())
        run.rc = int((result.stdout.strip() or "1").splitlines()[-1])
        return run

    pool = ThreadPoolExecutor(max_workers=len(loadgens))
    try:
        return list(pool.map(one, zip(loadgens, shares, strict=True)))
    except BaseException:
        # Ctrl-C or a lost host: end the other sessions now (their watchdogs stop the
        # tool) instead of waiting for every run to finish.
        for lg in loadgens:
            lg.close()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def pull(loadgens: list[Remote], runs: list[HostRun], local: Path, run_dir: Path) -> list[str]:
    """Bring every file of every host's working folder back under `local/<host>/`; set
    each run's `local_dir` and `files`; return the paths relative to `run_dir`."""
    files: list[str] = []
    by_name = {lg.host.name: lg for lg in loadgens}
    for run in runs:
        lg = by_name[run.host]
        run.local_dir = local / run.host
        listing = lg.run(f"ls {shlex.quote(run.remote_dir)}", timeout=20).stdout.split()
        for name in listing:
            dest = run.local_dir / name
            lg.get(f"{run.remote_dir}/{name}", dest)
            run.files.append(name)
            files.append(str(dest.relative_to(run_dir)))
    return files


def tool_cpu_s(times_output: str) -> float | None:
    """The children's user + sys seconds from the shell's `times` (its second line, e.g.
    "0m1.250s 0m0.300s"): the tool's own CPU, reaped before `times` ran."""
    lines = times_output.strip().splitlines()
    if len(lines) < 2:
        return None
    total = 0.0
    for word in lines[1].split()[:2]:
        minutes, _, seconds = word.rstrip("s").partition("m")
        try:
            total += float(minutes) * 60 + float(seconds)
        except ValueError:
            return None
    return total


def tool_clock(text: str) -> tuple[float, float] | None:
    """(started, ended) wall times from `load.clock`, None when unreadable."""
    try:
        first, last = (float(v) for v in text.split()[:2])
    except ValueError:
        return None
    return first, last


def timed_window(runs: list[HostRun], duration_s: float | None) -> tuple[float, float] | None:
    """The wall-time window of the load's timed span: from the first host's tool start
    for the tool's own timed span (the longest over the hosts), never past the last
    tool's end. None when a host's clock file is missing or the tool gave no span."""
    clocks = [tool_clock(read_text(run.local_dir / CLOCK_FILE)) for run in runs]
    if not duration_s or not clocks or None in clocks:
        return None
    start = min(c[0] for c in clocks if c)
    end = max(c[1] for c in clocks if c)
    return start, min(start + duration_s, end)


def read_text(path: Path) -> str:
    """A pulled-back file's text, '' when it is missing."""
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def parse_host(gen: LoadGenerator, run: HostRun) -> LoadResult:
    """One host's result: the tool's parse, its exit code and its own CPU share."""
    run.cpu_s = tool_cpu_s(read_text(run.local_dir / TIMES_FILE))
    res = gen.parse(run)
    if run.rc != 0 and not res.aborted:
        res.aborted = True
        res.abort_reason = res.abort_reason or f"{gen.name} exited {run.rc}"
    if run.cpu_s is not None and res.duration_s:
        res.tool_cpu_pct = run.cpu_s / res.duration_s * 100
    return res


def merge_hosts(gen: LoadGenerator, results: list[LoadResult]) -> LoadResult:
    """The tool's merge, with the largest host CPU share as the tool's."""
    merged = gen.merge(results)
    merged.tool_cpu_pct = max((r.tool_cpu_pct or 0.0) for r in results)
    return merged


def parse_all(gen: LoadGenerator, runs: list[HostRun]) -> LoadResult:
    """Every host's result (with the tool's CPU share) merged into one."""
    return merge_hosts(gen, [parse_host(gen, run) for run in runs])


def reparse(
    gen: LoadGenerator, run_dir: Path, raw_files: list[str], spec: LoadSpec | None = None
) -> list[LoadResult]:
    """Each host's result read again from a stored record's raw files (relative to
    `run_dir`, one folder per host), in host order: for re-reporting a recorded run and
    for per-host figures."""
    folders = sorted({(run_dir / rel).parent for rel in raw_files})
    spec = spec or LoadSpec(urls=("",), concurrency=1)
    out = []
    for folder in folders:
        rc_text = read_text(folder / RC_FILE).strip()
        run = HostRun(folder.name, spec, "", folder, rc=int(rc_text) if rc_text.isdigit() else 0)
        run.files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        out.append(parse_host(gen, run))
    return out
