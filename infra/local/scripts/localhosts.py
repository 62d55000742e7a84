#!/usr/bin/python3
"""Local hosts for the benchmark: network namespaces on a bridge, each running its own sshd
inside cgroup caps (cgroup v1, or v2's unified hierarchy: host_resources.py beside this
script knows each hierarchy's files). Standard library only (it runs before any venv exists).

    localhosts.py create           make the stack described by $ABW_SPEC (JSON from infra/local)
    localhosts.py destroy          remove the stack of $ABW_SPEC, its processes and its files
    localhosts.py clean [PREFIX]   remove every host named PREFIX-* (default $ABW_PREFIX or abw),
                                   whatever state Terraform is in
    localhosts.py check ADDRESS    refuse unless ADDRESS is held by a namespace on this machine
                                   and routed through a bridge, never the default route

Every refusal or failure is one line on stderr and a non-zero exit. `create` rolls back
everything it made on any error or signal: Terraform taints a resource whose create-time
provisioner failed and then skips its destroy-time provisioner, so nothing may be left.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A symlink to runner/host_resources.py; Python finds it in this script's folder.
from host_resources import (
    CGROUP_ROOT,
    LAB_RANGE,
    HostCgroups,
    every_host_cgroups,
    host_cgroups,
)
from host_resources import (
    format_cpulist as cpulist,
)

PREFIX_RE = re.compile(r"^[a-z0-9]{1,8}$")
REGISTRY = Path("/run/abw-local")  # prefix -> spec, so clean-hosts can find a stack's files
# Each host's data_root (/var/lib/abw-local/PREFIX/HOST): for services that run as their own
# user (PostgreSQL as postgres), which cannot reach a state_dir under /root (mode 0700).
DATA_ROOT = Path("/var/lib/abw-local")
SERVER_STOP_S = 10.0
SSHD_WAIT_S = 15.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Refusal(Exception):
    """Bad input or an unfit machine: nothing was touched."""


class StackError(Exception):
    """Something failed while making or removing the stack."""


class Interrupted(BaseException):
    """A signal arrived during create: roll back, then exit."""


# -- small helpers ---------------------------------------------------------------------
def run(argv: list[str], timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command; a non-zero exit becomes a StackError naming it and its stderr."""
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    if check and proc.returncode != 0:
        err = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
        raise StackError(f"`{' '.join(argv)}` exited {proc.returncode}: {err}")
    return proc


def ip_json(*args: str) -> list[dict[str, Any]]:
    """`ip -j ARGS` parsed."""
    return json.loads(run(["ip", "-j", *args]).stdout or "[]")


def tool(name: str, env_var: str) -> str | None:
    """Path of a tool (an env override wins), searching sbin too."""
    override = os.environ.get(env_var)
    if override:
        return override if os.access(override, os.X_OK) else None
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    return shutil.which(name, path=path)


def write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a file with a mode, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def host_names(prefix: str) -> re.Pattern[str]:
    """Namespace and link names of a stack: PREFIX-app, PREFIX-lgN, and the bridge PREFIX-br."""
    return re.compile(rf"^{re.escape(prefix)}-(app|lg[0-9]+|br)$")


# -- the spec Terraform passes ---------------------------------------------------------
def load_spec() -> dict[str, Any]:
    """The stack description from $ABW_SPEC, checked for what could hurt this machine."""
    raw = os.environ.get("ABW_SPEC")
    if not raw:
        raise Refusal("ABW_SPEC is not set: run this through terraform -chdir=infra/local apply")
    try:
        spec = json.loads(raw)
        prefix = spec["name_prefix"]
        subnet = ipaddress.ip_network(spec["subnet_cidr"])
        hosts = spec["hosts"]
        Path(spec["state_dir"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Refusal(f"ABW_SPEC is not a stack description ({exc}): use infra/local") from exc
    check_prefix(prefix)
    if not subnet.subnet_of(LAB_RANGE):  # type: ignore[arg-type]
        raise Refusal(f"subnet {subnet} is outside {LAB_RANGE}: choose a subnet_cidr inside it")
    for host in hosts:
        if ipaddress.ip_address(host["address"]) not in subnet:
            raise Refusal(f"host {host['short']} address {host['address']} is not in {subnet}")
    if not os.path.isabs(spec["state_dir"]):
        raise Refusal(f"state_dir {spec['state_dir']} must be an absolute path")
    return spec


def check_prefix(prefix: str) -> None:
    """Refuse a prefix that could match someone else's objects."""
    if not PREFIX_RE.match(prefix or ""):
        raise Refusal(f"name prefix {prefix!r} must be 1-8 characters of [a-z0-9]")


# -- preflight: refuse before touching anything ----------------------------------------
def _cgroup_root() -> Path:
    """Where the cgroup hierarchy is mounted (ABW_CGROUP_ROOT moves it, for tests)."""
    return Path(os.environ.get("ABW_CGROUP_ROOT") or CGROUP_ROOT)


def cgroups() -> HostCgroups:
    """The cgroup hierarchy that caps the hosts here (v1 or v2), or a Refusal saying why none."""
    try:
        return host_cgroups(_cgroup_root())
    except ValueError as exc:
        raise Refusal(str(exc)) from None


def preflight(spec: dict[str, Any]) -> None:
    """The refusals the issue lists (root was checked by stack_lock), before anything is made."""
    for name, env_var in (("ip", "ABW_IP"), ("sshd", "ABW_SSHD"), ("ssh-keygen", "ABW_KEYGEN")):
        if tool(name, env_var) is None:
            raise Refusal(f"{name} not found: run `make setup` (iproute2, openssh-server)")
    if tool("nsenter", "ABW_NSENTER") is None:
        raise Refusal("nsenter not found: install util-linux")
    tree = cgroups()
    have = tree.machine_cpus()
    for host in spec["hosts"]:
        asked = set(host["cpus"])
        if not asked <= have:
            raise Refusal(
                f"host {host['short']} asks for CPUs {cpulist(asked)} but this machine has "
                f"{cpulist(have)} ({tree.hierarchy}): "
                "choose a smaller machine_class"
            )
    mem_total_mib = _mem_total_mib()
    for host in spec["hosts"]:
        if host["memory_mib"] > mem_total_mib:
            raise Refusal(
                f"host {host['short']} asks for {host['memory_mib']} MiB but this machine has "
                f"{mem_total_mib} MiB: choose a smaller machine_class"
            )
    _check_free(spec)
    _check_private_path(Path(spec["state_dir"]))


def _mem_total_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def _check_free(spec: dict[str, Any]) -> None:
    """Refuse when the subnet or any of the stack's names is already in use here."""
    subnet = ipaddress.ip_network(spec["subnet_cidr"])
    prefix = spec["name_prefix"]
    for link in ip_json("addr", "show"):
        for a in link.get("addr_info", []):
            if a.get("family") != "inet":
                continue
            net = ipaddress.ip_network(f"{a['local']}/{a['prefixlen']}", strict=False)
            if net.overlaps(subnet):
                raise Refusal(
                    f"subnet {subnet} is already in use on this machine ({a['local']} on "
                    f"{link['ifname']}): choose another subnet_cidr or run `make clean-hosts`"
                )
    for route in ip_json("route", "show", "table", "all"):
        dst = route.get("dst", "")
        if dst in ("default", "") or ":" in dst:
            continue
        try:
            net = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            continue
        if net.overlaps(subnet):
            raise Refusal(
                f"subnet {subnet} is already routed on this machine ({dst} dev "
                f"{route.get('dev', '?')}): choose another subnet_cidr or run `make clean-hosts`"
            )
    leftovers = existing_objects(prefix)
    if any(leftovers.values()):
        found = ", ".join(sorted({n for names in leftovers.values() for n in names}))
        raise Refusal(
            f"a stack named {prefix} already exists ({found}): run `terraform destroy` or "
            f"`infra/local/scripts/clean-hosts.sh {prefix}`"
        )


def _check_private_path(state_dir: Path) -> None:
    """sshd's StrictModes refuses keys below a group- or world-writable folder: say so now."""
    for parent in [state_dir, *state_dir.parents]:
        try:
            st = parent.stat()
        except FileNotFoundError:
            continue
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise Refusal(
                f"state_dir {state_dir} is below {parent}, which is not root-owned or is group/"
                "world-writable; sshd (StrictModes) would refuse the keys: choose a private folder"
            )


# -- what exists on this machine for a prefix ------------------------------------------
def existing_objects(prefix: str) -> dict[str, list[str]]:
    """Namespaces, links and cgroup folders of a prefix that exist now."""
    names = host_names(prefix)
    namespaces = [ns["name"] for ns in ip_json("netns", "list") if names.match(ns["name"])]
    links = [ln["ifname"] for ln in ip_json("link", "show") if names.match(ln["ifname"])]
    folders = [str(f) for tree in every_host_cgroups(_cgroup_root()) for f in tree.folders(prefix)]
    return {"namespaces": namespaces, "links": links, "cgroups": folders}


def stack_pids(prefix: str) -> set[int]:
    """Every process in the stack's cgroups or network namespaces."""
    pids: set[int] = set()
    for tree in every_host_cgroups(
        _cgroup_root()
    ):  # both hierarchies: a sweep finds leftovers in either
        pids |= tree.pids(prefix)
    names = host_names(prefix)
    for ns in ip_json("netns", "list"):
        if names.match(ns["name"]):
            out = run(["ip", "netns", "pids", ns["name"]], check=False).stdout
            pids.update(int(p) for p in out.split() if p.isdigit())
    pids.discard(os.getpid())
    return pids


# -- removal (destroy, rollback and clean-hosts share it) ------------------------------
def remove_stack(prefix: str, state_dir: str | None) -> list[str]:
    """Kill every process of the stack, remove its cgroups, namespaces, links and files.

    Harmless when already gone. Returns what could not be removed (empty when clean).
    """
    check_prefix(prefix)
    _stop_servers(prefix)
    _kill_all(prefix)
    problems = _remove_cgroups(prefix)
    names = host_names(prefix)
    for ns in ip_json("netns", "list"):
        if names.match(ns["name"]):
            run(["ip", "netns", "del", ns["name"]], check=False)
    for link in ip_json("link", "show"):
        if names.match(link["ifname"]):
            run(["ip", "link", "del", link["ifname"]], check=False)
    if state_dir:
        _remove_files(Path(state_dir))
    _remove_data_root(prefix)
    if (DATA_ROOT / prefix).exists():
        problems.append(str(DATA_ROOT / prefix))
    (REGISTRY / f"{prefix}.json").unlink(missing_ok=True)
    left = existing_objects(prefix)
    problems += [n for names_ in left.values() for n in names_ if n not in problems]
    if stack_pids(prefix):
        problems.append(f"processes {sorted(stack_pids(prefix))}")
    return problems


def _postmaster_files(prefix: str) -> list[Path]:
    """postmaster.pid of every PostgreSQL cluster under the stack's data roots."""
    return sorted((DATA_ROOT / prefix).glob("*/postgres/data/postmaster.pid"))


def _stop_servers(prefix: str) -> None:
    """Ask each PostgreSQL of the stack for an immediate shutdown before the SIGKILLs.

    A killed postmaster leaves its SysV shared-memory segment behind; one that shuts down
    (SIGQUIT: immediate, no checkpoint, the data is thrown away anyway) removes it.
    """
    ours = stack_pids(prefix)
    waiting: list[int] = []
    for pidfile in _postmaster_files(prefix):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pidfile.read_text().splitlines()[0])
            if pid in ours:
                os.kill(pid, signal.SIGQUIT)
                waiting.append(pid)
    end = time.monotonic() + SERVER_STOP_S
    while waiting and time.monotonic() < end:
        waiting = [pid for pid in waiting if Path(f"/proc/{pid}").exists()]
        time.sleep(0.1)


def _remove_data_root(prefix: str) -> None:
    """Remove DATA_ROOT/PREFIX, and the shared memory of a server that was killed."""
    for pidfile in _postmaster_files(prefix):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Line 7 of postmaster.pid: "<shm key> <shm id>" of the server's SysV segment.
            shm_id = pidfile.read_text().splitlines()[6].split()[1]
            if _shm_attached(shm_id) == 0:
                run(["ipcrm", "-m", shm_id], check=False)
    # DATA_ROOT itself stays: another stack's create may be making its folder right now.
    shutil.rmtree(DATA_ROOT / prefix, ignore_errors=True)


def _shm_attached(shm_id: str) -> int | None:
    """Processes attached to a SysV shared-memory segment, None when it does not exist."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/sysvipc/shm").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1] == shm_id:
                return int(fields[6])
    return None


def _kill_all(prefix: str, rounds: int = 100) -> None:
    """SIGKILL until no process is left (a process may fork while we kill)."""
    for _ in range(rounds):
        pids = stack_pids(prefix)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _remove_cgroups(prefix: str) -> list[str]:
    """rmdir the stack's cgroups in every hierarchy, deepest first, killing and waiting
    (up to ~10 s per folder) while processes exit."""

    def kill_and_wait() -> None:
        _kill_all(prefix, rounds=1)
        time.sleep(0.1)

    return [
        left
        for tree in every_host_cgroups(_cgroup_root())
        for left in tree.remove(prefix, kill_and_wait)
    ]


def _remove_files(state_dir: Path) -> None:
    """Remove what create wrote under state_dir; state_dir itself only if then empty."""
    for name in ("ssh", "sshd", "hosts"):
        shutil.rmtree(state_dir / name, ignore_errors=True)
    (state_dir / "stack.json").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        state_dir.rmdir()


# -- creation --------------------------------------------------------------------------
def create(spec: dict[str, Any]) -> None:
    """Make the stack; on any error or signal remove everything made, then re-raise."""
    preflight(spec)
    prefix, state_dir = spec["name_prefix"], Path(spec["state_dir"])
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupted)
    try:
        _die_with_parent()
        REGISTRY.mkdir(mode=0o700, exist_ok=True)
        write(REGISTRY / f"{prefix}.json", json.dumps(spec), 0o600)
        _make_files(spec)
        _make_bridge(spec)
        tree = cgroups()
        tree.create_parent(prefix, set().union(*(set(h["cpus"]) for h in spec["hosts"])))
        for host in spec["hosts"]:
            _make_host(spec, host, tree)
            _start_sshd(spec, host, tree)
            _test_hooks(host["short"])
        for host in spec["hosts"]:
            check_route(host["address"])
            _wait_for_sshd(spec, host)
        _write_known_hosts(spec)
    except BaseException as exc:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # the rollback itself must not be cut short
        left = remove_stack(prefix, str(state_dir))
        note = f"; could not remove {', '.join(left)}" if left else "; rolled back"
        raise StackError(f"{_describe(exc)}{note}") from exc


def _die_with_parent() -> None:
    """SIGTERM us (hence a rollback) when our parent dies.

    On Ctrl-C or a timeout Terraform SIGKILLs the shell that runs this script; without
    this the script would go on making a stack that Terraform has already given up on.
    """
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise StackError(f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(ctypes.get_errno())}")
    if os.getppid() != parent:  # the parent died before prctl took effect
        raise Interrupted("the calling process (terraform) is gone")


def _test_hooks(short: str) -> None:
    """For tests only: fail (ABW_TEST_FAIL_AT=host) or pause for a signal
    (ABW_TEST_PAUSE_AT=host) right after that host is up, i.e. half-way through."""
    if os.environ.get("ABW_TEST_FAIL_AT") == short:
        raise StackError(f"ABW_TEST_FAIL_AT={short}: failing on purpose after host {short}")
    if os.environ.get("ABW_TEST_PAUSE_AT") == short:
        print(f"paused after host {short}", flush=True)
        time.sleep(60)


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _make_files(spec: dict[str, Any]) -> None:
    """State folders, the stack's client key pair and authorized_keys, the host keys."""
    state_dir = Path(spec["state_dir"])
    state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    ssh = state_dir / "ssh"
    shutil.rmtree(ssh, ignore_errors=True)  # a fresh key pair for every stack
    ssh.mkdir(mode=0o700)
    (ssh / "host_keys").mkdir(mode=0o700)
    (state_dir / "sshd").mkdir(mode=0o700, exist_ok=True)
    keygen = tool("ssh-keygen", "ABW_KEYGEN") or "ssh-keygen"
    prefix = spec["name_prefix"]
    _keygen(keygen, ssh / "id_ed25519", f"{prefix}-stack")
    write(ssh / "authorized_keys", (ssh / "id_ed25519.pub").read_text(), 0o600)
    for host in spec["hosts"]:
        key = ssh / "host_keys" / f"{host['short']}_ed25519_key"
        _keygen(keygen, key, f"{prefix}-{host['short']}")
        bench_root = state_dir / "hosts" / host["short"]
        bench_root.mkdir(mode=0o755, parents=True, exist_ok=True)
        data_root = DATA_ROOT / prefix / host["short"]
        data_root.mkdir(mode=0o755, parents=True, exist_ok=True)
        for folder in (DATA_ROOT, DATA_ROOT / prefix, data_root):
            os.chmod(folder, 0o755)  # reachable by the services' own users (umask aside)
    write(state_dir / "stack.json", json.dumps(spec, indent=2) + "\n", 0o600)


def _keygen(keygen: str, path: Path, comment: str) -> None:
    """A fresh passphrase-less ed25519 key pair at `path`, the private half 0600."""
    run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    os.chmod(path, 0o600)


def _make_bridge(spec: dict[str, Any]) -> None:
    bridge = f"{spec['name_prefix']}-br"
    plen = ipaddress.ip_network(spec["subnet_cidr"]).prefixlen
    run(["ip", "link", "add", bridge, "type", "bridge"])
    run(["ip", "addr", "add", f"{spec['bridge_address']}/{plen}", "dev", bridge])
    run(["ip", "link", "set", bridge, "up"])


def _make_host(spec: dict[str, Any], host: dict[str, Any], tree: HostCgroups) -> None:
    """Namespace, veth on the bridge (eth0 inside, no default route) and cgroup caps."""
    prefix, short = spec["name_prefix"], host["short"]
    name = f"{prefix}-{short}"
    plen = ipaddress.ip_network(spec["subnet_cidr"]).prefixlen
    run(["ip", "netns", "add", name])
    run(["ip", "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", name])
    run(["ip", "link", "set", name, "master", f"{prefix}-br"])
    run(["ip", "link", "set", name, "up"])
    run(["ip", "-n", name, "addr", "add", f"{host['address']}/{plen}", "dev", "eth0"])
    run(["ip", "-n", name, "link", "set", "eth0", "up"])
    run(["ip", "-n", name, "link", "set", "lo", "up"])
    tree.create_host(prefix, short, set(host["cpus"]), host["memory_mib"] * 1024 * 1024)


def _sshd_config(spec: dict[str, Any], host: dict[str, Any]) -> Path:
    state_dir, short = Path(spec["state_dir"]), host["short"]
    folder = state_dir / "sshd" / short
    folder.mkdir(mode=0o700, exist_ok=True)
    config = folder / "sshd_config"
    write(
        config,
        "\n".join(
            [
                f"# sshd of local host {spec['name_prefix']}-{short} (written by infra/local)",
                f"ListenAddress {host['address']}",
                "Port 22",
                f"HostKey {state_dir}/ssh/host_keys/{short}_ed25519_key",
                f"PidFile {folder}/sshd.pid",
                f"AuthorizedKeysFile {state_dir}/ssh/authorized_keys",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes yes",
                "X11Forwarding no",
                "PrintMotd no",
                "MaxSessions 30",
                "MaxStartups 30:50:100",
                "ClientAliveInterval 15",
                "Subsystem sftp internal-sftp",
                "",
            ]
        ),
        0o600,
    )
    return config


def _start_sshd(spec: dict[str, Any], host: dict[str, Any], tree: HostCgroups) -> None:
    """Start sshd inside the host's cgroups and namespace, so its sessions inherit both.

    nsenter --net switches only the network namespace; `ip netns exec` would also remount
    /sys in a new mount namespace and hide /sys/fs/cgroup from everything on the host.
    """
    prefix, short = spec["name_prefix"], host["short"]
    sshd = tool("sshd", "ABW_SSHD") or "sshd"
    nsenter = tool("nsenter", "ABW_NSENTER") or "nsenter"
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
    config = _sshd_config(spec, host)
    run([sshd, "-t", "-f", str(config)])
    procs = tree.procs_files(prefix, short)

    def enter_cgroups() -> None:
        for path in procs:
            path.write_text(str(os.getpid()))

    log = config.with_name("sshd.log")
    proc = subprocess.run(
        [
            nsenter,
            f"--net=/run/netns/{prefix}-{short}",
            "--",
            sshd,
            "-f",
            str(config),
            "-E",
            str(log),
        ],
        preexec_fn=enter_cgroups,  # single-threaded here, so preexec_fn is safe
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=20,
        check=False,
    )
    if proc.returncode != 0:
        raise StackError(f"sshd of {prefix}-{short} exited {proc.returncode}: {_tail(log)}")


def _tail(path: Path) -> str:
    try:
        lines = path.read_text().strip().splitlines()
    except FileNotFoundError:
        return "no log"
    return lines[-1] if lines else "empty log"


def _wait_for_sshd(spec: dict[str, Any], host: dict[str, Any]) -> None:
    """Until the host's sshd sends its banner (through the bridge), or fail."""
    end = time.monotonic() + SSHD_WAIT_S
    last = ""
    while time.monotonic() < end:
        try:
            with socket.create_connection((host["address"], 22), timeout=2) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    log = Path(spec["state_dir"]) / "sshd" / host["short"] / "sshd.log"
    raise StackError(
        f"sshd of {spec['name_prefix']}-{host['short']} does not answer ({last}): {_tail(log)}"
    )


def _write_known_hosts(spec: dict[str, Any]) -> None:
    """The stack's own known_hosts, from the host keys generated above: SSH is verified."""
    ssh = Path(spec["state_dir"]) / "ssh"
    lines = []
    for host in spec["hosts"]:
        kind, key = (ssh / "host_keys" / f"{host['short']}_ed25519_key.pub").read_text().split()[:2]
        lines.append(f"{host['address']} {kind} {key}\n")
    write(ssh / "known_hosts", "".join(lines), 0o644)


# -- the safety check before traffic ---------------------------------------------------
def check_route(address: str) -> str:
    """Refuse unless a namespace here holds `address` and the route to it is a bridge.

    Returns the bridge's name. Addresses outside 198.18.0.0/15 are refused too: only the
    lab range is ever served by local hosts.
    """
    ip = ipaddress.ip_address(address)
    if ip not in LAB_RANGE:
        raise Refusal(f"{address} is outside {LAB_RANGE}: not a local host")
    holder = None
    for ns in ip_json("netns", "list"):
        try:
            links = ip_json("-n", ns["name"], "addr", "show")
        except StackError:
            continue  # a namespace removed since the listing (another stack's teardown)
        for link in links:
            if any(a.get("local") == address for a in link.get("addr_info", [])):
                holder = ns["name"]
    if holder is None:
        raise Refusal(f"no network namespace here holds {address}: the local hosts are down")
    routes = ip_json("route", "get", address)
    route = routes[0] if routes else {}
    dev = route.get("dev", "")
    if route.get("gateway") or not dev:
        raise Refusal(
            f"route to {address} goes via {route.get('gateway') or 'nothing'}, not a bridge: "
            "refusing traffic that could leave this machine"
        )
    links = ip_json("-d", "link", "show", "dev", dev)
    kind = (links[0].get("linkinfo") or {}).get("info_kind") if links else None
    if kind != "bridge":
        raise Refusal(
            f"route to {address} leaves through {dev} ({kind or 'not a bridge'}): refusing"
        )
    return dev


# -- command line ----------------------------------------------------------------------
def main(argv: list[str]) -> int:
    """Dispatch a subcommand; every failure is one line on stderr and exit 1."""
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd in ("destroy", "clean"):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a removal cut short would leave a half stack
    try:
        if cmd in ("create", "destroy"):
            spec = load_spec()
            with stack_lock(spec["name_prefix"]):
                if cmd == "create":
                    create(spec)
                else:
                    _removed(remove_stack(spec["name_prefix"], spec["state_dir"]))
        elif cmd == "clean":
            prefix = argv[2] if len(argv) > 2 else os.environ.get("ABW_PREFIX", "abw")
            check_prefix(prefix)
            with stack_lock(prefix):
                _removed(remove_stack(prefix, _registered_state_dir(prefix)))
            print(f"clean-hosts: no host of prefix {prefix} is left")
        elif cmd == "check" and len(argv) == 3:
            print(f"{argv[2]}: local host, routed through bridge {check_route(argv[2])}")
        else:
            raise Refusal("usage: localhosts.py create|destroy|clean [PREFIX]|check ADDRESS")
    except (Refusal, StackError, OSError, subprocess.SubprocessError) as exc:
        print(f"infra/local {cmd}: {_describe(exc)}", file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def stack_lock(prefix: str, wait_s: float = 120) -> Iterator[None]:
    """One create/destroy/clean of a prefix at a time (root only, checked first)."""
    if os.geteuid() != 0:
        raise Refusal("must run as root (namespaces, cgroups and sshd need it): use sudo")
    REGISTRY.mkdir(mode=0o700, exist_ok=True)
    with open(REGISTRY / f"{prefix}.lock", "w") as f:
        end = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > end:
                    raise Refusal(
                        f"another create or destroy of stack {prefix} is running"
                    ) from None
                time.sleep(0.2)
        yield


def _removed(left: list[str]) -> None:
    if left:
        raise StackError(f"could not remove {', '.join(left)}")


def _registered_state_dir(prefix: str) -> str | None:
    try:
        return json.loads((REGISTRY / f"{prefix}.json").read_text()).get("state_dir")
    except (FileNotFoundError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv))
