#!/usr/bin/env python3
"""Measurements taken ON a host (stdlib only: it is copied to each host's bench_root).

Commands, each printing one JSON object:
  probe.py http URL            status, length, table rows and (for JSON) the body of a GET
  probe.py cpu                 CPU time of this host (its cgroup if it has one, else /proc/stat)
  probe.py specs               what this host has: CPU model, CPUs, memory, kernel
  probe.py procs NAME          count and resident memory of the processes named NAME
  probe.py memory              this host's memory: limit, usage, peak, limit hits, OOM kills
  probe.py httpver URL         GET URL twice on one connection as HTTP/1.0 with Keep-Alive
                               (ab -k) and as HTTP/1.1 (wrk): the headers that decide
                               keep-alive, and whether the connection was kept
  probe.py sample OUT MAX_S [INTERVAL_S] [procs]
                               CPU readings every INTERVAL_S (0.05) into OUT, one JSON line
                               each, until SIGTERM or MAX_S: the timed window's CPU is
                               interpolated from them (runner/cpuwindow.py)
  probe.py counted URL N       N sequential GETs asking the app to count (X-Bench-Instrument:
                               1); status, length, thread hops and CPU ms of each
  probe.py bundle CMD[:ARG]... several of the above in one start-up (one SSH round trip),
                               in order: {"cpu": {...}, "procs:granian": {...}}
A host made by infra/local shares /proc with the machine, so what it "has" is read from its
own cgroup (the one sshd and this probe run in; v1 or v2), not from /proc/cpuinfo or
/proc/meminfo; a cloud host is the whole machine. host_resources.py (beside it) reads them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import signal
import sys
import time
import urllib.error
import urllib.request

try:  # on a host the probe runs from bench_root, with host_resources.py beside it
    import host_resources
except ImportError:  # imported from the runner package
    from runner import host_resources


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def cpu() -> dict:
    """CPU seconds used so far by this host, and the machine's steal time."""
    res = host_resources.detect()
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "time": time.time(),
        "cpu_s": res.cpu_seconds(),
        # This probe's own CPU so far (Python's start-up, mostly): it is inside cpu_s, and
        # a caller taking a delta subtracts it so the figure is the host's work alone.
        "self_cpu_s": own.ru_utime + own.ru_stime,
        "source": res.source,
        "steal_s": res.steal_seconds(),
        "cpus": res.cpus(),
        "throttling": res.throttling(),
    }


def specs() -> dict:
    """CPU model, CPUs and memory as this host sees them (its cgroup first)."""
    res = host_resources.detect()
    model = "unknown"
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    limit = res.memory_limit()
    return {
        "cpu_model": model,
        "cpus": res.cpus(),
        "cpuset": res.cgroup_cpuset(),
        "memory_mib": limit // (1024 * 1024) if limit else 0,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "cgroup": res.cgroup(),
        "resources": res.source,
    }


def http(url: str) -> dict:
    """GET url once; report status, length, rows of an HTML table, JSON body if any."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    except (urllib.error.URLError, OSError) as exc:
        return {"url": url, "error": str(getattr(exc, "reason", exc))}
    out = {
        "url": url,
        "status": status,
        "length": len(body),
        "rows": body.count(b"<tr") - 1 if b"<table" in body else None,
        "elapsed_s": time.monotonic() - started,
    }
    if not 200 <= status < 300:  # the error page's start says why (a project's 404/500)
        out["body"] = body[:4000].decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError):
        out["json"] = json.loads(body)
    return out


def counted(url: str, count: str = "10") -> dict:
    """GET url `count` times, one at a time, asking the app for its per-request counters."""
    results = []
    for _ in range(max(int(count), 1)):
        request = urllib.request.Request(url, headers={"X-Bench-Instrument": "1"})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                body, status, headers = resp.read(), resp.status, resp.headers
        except urllib.error.HTTPError as exc:
            body, status, headers = exc.read(), exc.code, exc.headers
        except (urllib.error.URLError, OSError) as exc:
            results.append({"error": str(getattr(exc, "reason", exc))})
            continue
        hops, cpu_ms = headers.get("X-Bench-Hops"), headers.get("X-Bench-Cpu-Ms")
        results.append(
            {
                "status": status,
                "length": len(body),
                "hops": int(hops) if hops is not None else None,
                "cpu_ms": float(cpu_ms) if cpu_ms is not None else None,
            }
        )
    return {"url": url, "requests": results}


def procs(name: str) -> dict:
    """How many processes of this host are called `name` and their summed resident memory."""
    count, rss_kib = 0, 0
    res = host_resources.detect()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if not res.contains(pid):  # local hosts share /proc with the machine
            continue
        comm = _read(f"/proc/{pid}/comm")
        cmdline = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
        if comm != name and f"/{name} " not in cmdline and not cmdline.startswith(name):
            continue
        for line in (_read(f"/proc/{pid}/status") or "").splitlines():
            if line.startswith("VmRSS:"):
                count += 1
                rss_kib += int(line.split()[1])
    return {"name": name, "count": count, "rss_mib": round(rss_kib / 1024, 1)}


def memory() -> dict:
    """This host's memory: limit, usage and peak in MiB, how often usage reached the limit
    and how many processes the kernel's OOM killer ended (its cgroup, else the machine)."""
    return host_resources.detect().memory()


def _read_response(sock_file) -> dict:
    """One response from a socket file: status, the framing headers, the body's length
    and how it was framed (length, chunked, or until the server closed)."""
    status = sock_file.readline().decode("latin-1").strip()
    if not status:
        return {"status": None}
    headers = {}
    while (line := sock_file.readline().decode("latin-1").strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body, framing = sock_file.read(int(headers["content-length"])), "content-length"
    elif "chunked" in headers.get("transfer-encoding", ""):
        body, framing = b"", "chunked"
        while (size := int(sock_file.readline().split(b";")[0].strip() or b"0", 16)) > 0:
            body += sock_file.read(size)
            sock_file.readline()
        sock_file.readline()
    else:
        body, framing = sock_file.read(), "until close"
    keys = ("content-length", "transfer-encoding", "connection", "keep-alive")
    return {
        "status": status,
        "headers": {k: headers.get(k) for k in keys},
        "body_bytes": len(body),
        "framing": framing,
    }


def httpver(url: str) -> dict:
    """The same GET twice on one connection, as ab -k (HTTP/1.0 + Keep-Alive) and as
    wrk (HTTP/1.1): what framed the body and whether the second request was answered."""
    import socket
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    out = {}
    for version, extra in (("HTTP/1.0", "Connection: Keep-Alive\r\n"), ("HTTP/1.1", "")):
        request = (
            f"GET {parts.path or '/'} {version}\r\nHost: {parts.netloc}\r\n{extra}"
            "User-Agent: probe-httpver\r\nAccept: */*\r\n\r\n"
        ).encode()
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=30) as s:
            f = s.makefile("rb")
            s.sendall(request)
            first = _read_response(f)
            try:
                s.sendall(request)
                second = _read_response(f)
            except OSError as exc:
                second = {"status": None, "error": str(exc)}
        out[version] = {**first, "connection_kept": second.get("status") is not None}
    return {"url": url, "versions": out}


def sample(out: str, max_s: str, interval_s: str = "0.05", procs: str = "") -> dict:
    """Write a window reading (host_resources.Resources.window_reading) with its wall
    time and this sampler's own CPU so far to `out`, every `interval_s`, until SIGTERM
    or `max_s` seconds; the last line is written on the way out."""
    res = host_resources.detect()
    kernel = res.softirq_pids()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    end = time.monotonic() + float(max_s)
    lines = 0
    with open(out, "w") as fh:
        while True:
            own = resource.getrusage(resource.RUSAGE_SELF)
            reading = res.window_reading(procs=procs == "procs", kernel_pids=kernel)
            reading.update(t=time.time(), self_s=own.ru_utime + own.ru_stime)
            fh.write(json.dumps(reading) + "\n")
            fh.flush()
            lines += 1
            if stop or time.monotonic() >= end:
                break
            time.sleep(float(interval_s))
    return {"out": out, "lines": lines}


def bundle(*commands: str) -> dict:
    """Several commands in one start-up, in the order given: a command's arguments follow
    it after colons (procs:granian); the result maps each as written to its JSON."""
    out = {}
    for spec in commands:
        name, *args = spec.split(":")
        if name not in COMMANDS or name in ("bundle", "sample"):
            raise ValueError(f"bundle: no command {name!r}")
        out[spec] = COMMANDS[name](*args)
    return out


COMMANDS = {
    "cpu": cpu,
    "specs": specs,
    "http": http,
    "procs": procs,
    "counted": counted,
    "memory": memory,
    "sample": sample,
    "httpver": httpver,
    "bundle": bundle,
}


def main(argv: list[str]) -> int:
    """Dispatch one command and print its JSON."""
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: probe.py {{{'|'.join(COMMANDS)}}} [ARG]", file=sys.stderr)
        return 2
    print(json.dumps(COMMANDS[argv[0]](*argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
