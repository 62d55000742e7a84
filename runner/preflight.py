"""What this machine lacks for the local hosts, said before any work starts: one line per
missing or unfit piece, each with how to get it.

    python3 -m runner.preflight setup|bench [-v]

`make setup` and `make bench` run it first, and so do the Fabric tasks that touch hosts.
Standard library only: `make setup` runs it before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from runner import host_resources

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / "infra" / "local"
RELEASES = "https://releases.hashicorp.com/terraform"
SBIN_PATH = ":/usr/local/sbin:/usr/sbin:/sbin"
APP_NAME = "asgi-wsgi-bench"


class PreflightError(Exception):
    """The machine lacks something: str() is one line per missing piece."""


@dataclass
class Report:
    """What the checks found: problems stop the run, notes are what was found fit."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def which(name: str) -> str | None:
    """A tool on PATH, or in the sbin folders (sshd lives there, outside a user's PATH)."""
    return shutil.which(name, path=os.environ.get("PATH", "") + SBIN_PATH)


# -- Terraform ------------------------------------------------------------------------------
def required_terraform(versions_tf: Path = LOCAL / "versions.tf") -> str:
    """The required_version constraint of a module's versions.tf, e.g. '>= 1.4'."""
    match = re.search(r'required_version\s*=\s*"([^"]+)"', versions_tf.read_text())
    return match.group(1) if match else ">= 0"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def satisfies(version: str, constraint: str) -> bool:
    """Whether `version` meets a Terraform version constraint ('>= 1.4, < 2.0', '~> 1.5')."""
    have = _version(version)
    for part in filter(None, (p.strip() for p in constraint.split(","))):
        op, want_text = re.match(r"(>=|<=|!=|~>|>|<|=)?\s*(.+)", part).groups()  # type: ignore[union-attr]
        want = _version(want_text)
        padded = have + (0,) * (len(want) - len(have))
        cut = padded[: len(want)]
        ok = {
            ">=": padded >= want,
            ">": padded > want,
            "<=": cut <= want,
            "<": padded < want,
            "!=": cut != want,
            "~>": padded >= want and cut[:-1] == want[:-1],
            None: cut == want,
            "=": cut == want,
        }[op]
        if not ok:
            return False
    return True


def _terraform_hint(version: str = "<version>") -> str:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return (
        f"Terraform is not a Debian package: download terraform_{version}_linux_{arch}.zip "
        f"and terraform_{version}_SHA256SUMS from {RELEASES}/{version}/, check the zip with "
        "`sha256sum --ignore-missing -c terraform_*_SHA256SUMS`, unzip it into /usr/local/bin"
    )


def check_terraform(report: Report, versions_tf: Path = LOCAL / "versions.tf") -> None:
    """Terraform present and at least the version infra/local's versions.tf requires."""
    wanted = required_terraform(versions_tf)
    binary = which("terraform")
    if binary is None:
        report.problems.append(f"Terraform ({wanted}) not found: {_terraform_hint()}")
        return
    try:
        out = subprocess.run(
            [binary, "version", "-json"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        version = json.loads(out)["terraform_version"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError):
        report.problems.append(f"{binary} does not run (`terraform version` failed): reinstall")
        return
    if not satisfies(version, wanted):
        report.problems.append(
            f"Terraform {version} is older than infra/local requires ({wanted}): "
            + _terraform_hint()
        )
    else:
        report.notes.append(f"Terraform {version} ({wanted})")


# -- the machine ----------------------------------------------------------------------------
def check_root(report: Report) -> None:
    """Namespaces, cgroups and sshd need root."""
    if os.geteuid() != 0:
        report.problems.append("not root: the local hosts need root (namespaces, cgroups, sshd)")


def check_netns(report: Report) -> None:
    """`ip netns` works and the kernel makes veth pairs (tried in a throwaway namespace)."""
    ip = which("ip")
    if ip is None:
        report.problems.append("ip not found: install iproute2 (make setup)")
        return
    if os.geteuid() != 0:
        return  # said by check_root; the trial below needs root
    unshare = which("unshare")
    if unshare is None:
        report.problems.append("unshare not found: install util-linux")
        return
    # A fresh network namespace that vanishes with the command: nothing is left behind.
    trial = [unshare, "--net", "--", ip, "link", "add", "pf0", "type", "veth", "peer", "pf1"]
    for argv, what in (([ip, "netns", "list"], "ip netns"), (trial, "veth pairs")):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            err = (proc.stderr.strip() or "no output").splitlines()[-1]
            report.problems.append(
                f"{what} do not work here ({err}): the kernel needs network namespaces "
                "and the veth driver (CONFIG_NET_NS, CONFIG_VETH; `modprobe veth`)"
            )
            return
    report.notes.append("ip netns and veth work")


def check_cgroups(report: Report, root: Path = host_resources.CGROUP_ROOT) -> set[int] | None:
    """Which cgroup hierarchy is mounted and whether it can cap hosts; its CPUs."""
    try:
        tree = host_resources.host_cgroups(root)
    except ValueError as exc:
        report.problems.append(str(exc))
        return None
    try:
        cpus = tree.machine_cpus()
    except OSError as exc:
        report.problems.append(f"{tree.hierarchy} at {root}: cannot read its CPUs ({exc})")
        return None
    report.notes.append(f"{host_resources.hierarchy(root)}: hosts capped in {tree.hierarchy}")
    return cpus


def machine_class_cpus(variables_tf: Path = LOCAL / "variables.tf") -> tuple[str, set[int]]:
    """The default machine class's name and the CPUs it pins (app and load generators)."""
    text = variables_tf.read_text()
    block = text[text.index('variable "machine_class"') :]
    default = block[block.index("default") :]
    name = re.search(r'name\s*=\s*"([^"]+)"', default)
    cpus: set[int] = set()
    for key in ("app_cpus", "loadgen_cpus"):
        found = re.search(rf"{key}\s*=\s*\[([^\]]*)\]", default)
        cpus |= {int(c) for c in re.findall(r"\d+", found.group(1))} if found else set()
    return (name.group(1) if name else "default"), cpus


def check_cpus(report: Report, have: set[int] | None, name: str, wanted: set[int]) -> None:
    """Every CPU the machine class pins exists here."""
    if have is None:
        return
    missing = wanted - have
    if missing:
        report.problems.append(
            f"machine class {name} pins CPUs {host_resources.format_cpulist(wanted)} but this "
            f"machine offers {host_resources.format_cpulist(have)}: choose a smaller "
            "machine_class (infra/local/presets, -var-file)"
        )


def check_tools(report: Report) -> None:
    """The load generators' and the hosts' programs (make setup installs them)."""
    wanted = {
        "ab": "apache2-utils",
        "wrk": "wrk",
        "sshd": "openssh-server",
        "ssh": "openssh-client",
        "ssh-keygen": "openssh-client",
        "nsenter": "util-linux",
    }
    missing = sorted({pkg for tool, pkg in wanted.items() if which(tool) is None})
    for tool, pkg in wanted.items():
        if which(tool) is None:
            report.problems.append(f"{tool} not found: run `make setup` (Debian package {pkg})")
    if not missing:
        report.notes.append("ab, wrk, sshd, ssh, nsenter present")


# -- where the stack's keys go --------------------------------------------------------------
def unfit_for_keys(folder: Path) -> str | None:
    """Why sshd (StrictModes) would refuse keys below `folder`, or None: every existing
    parent must be owned by root or this user and writable by nobody else."""
    for parent in [folder, *folder.parents]:
        try:
            st = parent.stat()
        except FileNotFoundError:
            continue
        if st.st_uid not in (0, os.geteuid()):
            return f"{parent} is owned by another user"
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{parent} is group- or world-writable"
    return None


def private_state_dir(prefix: str) -> Path:
    """The user's own folder for a stack's keys: $XDG_STATE_HOME (or ~/.local/state)/
    asgi-wsgi-bench/PREFIX."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP_NAME / prefix


def state_dir_for(prefix: str, default: Path = LOCAL / ".state") -> tuple[Path, str]:
    """Where the stack's keys go: the checkout's own folder when sshd would trust it, else
    the user's private one (made 0700). Returns the folder and a line saying why, empty
    when the default is used. Raises PreflightError when neither will do."""
    reason = unfit_for_keys(default)
    if reason is None:
        return default, ""
    private = private_state_dir(prefix)
    try:
        private.mkdir(mode=0o700, parents=True, exist_ok=True)
        private.chmod(0o700)
    except OSError as exc:
        raise PreflightError(
            f"the checkout's {default} cannot hold the stack's keys ({reason}) and {private} "
            f"cannot be made ({exc.strerror}): set XDG_STATE_HOME to a private folder"
        ) from None
    other = unfit_for_keys(private)
    if other:
        raise PreflightError(
            f"neither the checkout's {default} ({reason}) nor {private} ({other}) can hold "
            "the stack's keys (sshd's StrictModes): set XDG_STATE_HOME to a private folder"
        )
    return private, f"the stack's keys go to {private} ({reason}, which sshd would refuse)"


def check_state_dir(report: Report, prefix: str = "abw") -> None:
    """A folder for the stack's keys exists or can be made (said before setup's work)."""
    try:
        folder, note = state_dir_for(prefix)
    except PreflightError as exc:
        report.problems.append(str(exc))
        return
    report.notes.append(note or f"the stack's keys go to {folder}")


# -- profiles -------------------------------------------------------------------------------
def check(profile: str, prefix: str = "abw") -> Report:
    """Run the checks of a profile: 'setup' (before make setup installs the tools), 'bench'
    (the main job: everything), 'hosts' (a Fabric task on local hosts: no Terraform)."""
    report = Report()
    if profile in ("setup", "bench"):
        check_terraform(report)
    if profile in ("bench", "hosts"):
        check_root(report)
    check_netns(report)
    cpus = check_cgroups(report)
    if profile in ("setup", "bench"):
        check_cpus(report, cpus, *machine_class_cpus())
        check_state_dir(report, prefix)
    if profile in ("bench", "hosts"):
        check_tools(report)
    return report


def require(profile: str, prefix: str = "abw") -> None:
    """Raise PreflightError (one line per problem) when the profile's checks fail."""
    problems = check(profile, prefix).problems
    if problems:
        raise PreflightError("\n".join(problems))


def _lab_addresses(inventory: Path) -> list[str]:
    """The inventory's addresses in the lab range (local hosts), read as text."""
    try:
        text = inventory.read_text()
    except OSError:
        return []
    found = re.findall(r"\b198\.1[89]\.\d{1,3}\.\d{1,3}\b", text)
    return [a for a in found if ipaddress.ip_address(a) in host_resources.LAB_RANGE]


def require_for_inventory(inventory: str) -> None:
    """The preflight of a Fabric task that touches an inventory's hosts: a missing
    inventory says how to make the hosts (and whether Terraform is there to do it); local
    hosts (lab addresses) need what the 'hosts' profile checks; cloud hosts need nothing
    of this machine."""
    path = Path(inventory)
    if not path.exists():
        report = Report()
        check_terraform(report)
        raise PreflightError(  # one line: the missing Terraform is the same problem
            "; ".join(
                [
                    f"inventory {inventory} does not exist: bring hosts up with "
                    "`terraform -chdir=infra/local apply` (or pass --inventory)",
                    *report.problems,
                ]
            )
        )
    if _lab_addresses(path):
        require("hosts")


def main(argv: list[str] | None = None) -> int:
    """Print one line per problem (and with -v what was found fit); exit 1 on a problem."""
    parser = argparse.ArgumentParser(prog="python3 -m runner.preflight", description=__doc__)
    parser.add_argument("profile", choices=("setup", "bench", "hosts"))
    parser.add_argument("-v", "--verbose", action="store_true", help="also say what is fit")
    parser.add_argument("--prefix", default="abw", help="the stack's name prefix")
    parser.add_argument("--label", default="", help="what to start each line with")
    args = parser.parse_args(argv)
    report = check(args.profile, args.prefix)
    label = args.label or f"preflight ({args.profile})"
    for line in report.problems:
        print(f"{label}: {line}", file=sys.stderr)
    if args.verbose:
        for line in report.notes:
            print(f"{label}: ok: {line}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
