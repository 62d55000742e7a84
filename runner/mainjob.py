"""The README's main command (`make bench`): local hosts up, both modes deployed and
benched in turn, the report written, and the hosts destroyed whatever happened."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from runner.deploy import DeployError
from runner.plan import PlanOptions, build_plan
from runner.preflight import PreflightError, require, state_dir_for, unfit_for_keys
from runner.runs import FAILURES, run_plan
from runner.stagelines import ansible_error, terraform_error

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / "infra" / "local"


@dataclass
class Stack:
    """Which local stack the main job makes: the defaults (prefix abw, 198.18.0.0/24,
    Terraform's state in infra/local, inventory/local.yml), or one of its own, with
    everything (state, keys, inventory) in `folder`, so a test can run the main job
    without touching the default stack."""

    prefix: str = ""
    subnet: str = ""
    folder: Path | None = None
    state_dir: Path | None = None  # the keys' folder when the checkout's cannot hold them

    @property
    def inventory(self) -> Path:
        """Where Terraform writes this stack's inventory."""
        return self.folder / "inventory.yml" if self.folder else ROOT / "inventory" / "local.yml"

    def env(self) -> dict[str, str]:
        """Terraform's environment (its own data folder for a stack of its own)."""
        env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
        if self.folder:
            env["TF_DATA_DIR"] = str(self.folder / "tfdata")
        return env

    def args(self, command: str) -> list[str]:
        """-state and -var flags for apply and destroy (none for the default stack)."""
        if command not in ("apply", "destroy"):
            return []
        out: list[str] = []
        if self.folder:
            out += [f"-state={self.folder / 'terraform.tfstate'}"]
            out += ["-var", f"state_dir={self.folder / 'state'}"]
            out += ["-var", f"inventory_path={self.inventory}"]
        elif self.state_dir:
            out += ["-var", f"state_dir={self.state_dir}"]
        if self.prefix:
            out += ["-var", f"name_prefix={self.prefix}"]
        if self.subnet:
            out += ["-var", f"subnet_cidr={self.subnet}"]
        return out


class StageError(Exception):
    """A stage of the main job failed: one line naming it and the tool's own error."""


def terraform(*args: str, timeout: int = 600, stack: Stack | None = None) -> None:
    """Run terraform in infra/local, its output shown as it comes; raise StageError
    naming the stage and Terraform's own last error line on failure."""
    stack = stack or Stack()
    argv = ["terraform", f"-chdir={LOCAL}", *args, *stack.args(args[0])]
    stage = f"terraform {args[0]}"
    try:
        proc = subprocess.Popen(
            [*argv, "-input=false", "-no-color"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=stack.env(),
        )
    except OSError as exc:
        raise StageError(f"stage {stage} could not start: {exc.strerror}") from None
    lines: list[str] = []

    def echo() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
            lines.append(line)

    reader = threading.Thread(target=echo, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise StageError(f"stage {stage} timed out after {timeout}s") from None
    finally:
        reader.join(timeout=10)
    if code != 0:
        raise StageError(f"stage {stage} failed: {terraform_error(''.join(lines))}")


def _preflight(stack: Stack) -> bool:
    """What the machine lacks, one line each, before any work; where the keys go when the
    checkout's folder cannot hold them. False when the main job cannot run."""
    try:
        require("bench", stack.prefix or "abw")
        unfit = unfit_for_keys(stack.folder) if stack.folder else None
        if unfit:
            raise PreflightError(
                f"--stack-dir {stack.folder} cannot hold the stack's keys ({unfit}; sshd's "
                "StrictModes would refuse them): choose a private folder (mode 0700)"
            )
        if not stack.folder:
            state_dir, note = state_dir_for(stack.prefix or "abw")
            if note:  # the checkout's folder cannot hold the keys: the user's private one
                stack.state_dir = state_dir
                print(f"make bench: {note}", file=sys.stderr)
    except PreflightError as exc:
        for line in str(exc).splitlines():
            print(f"make bench: {line}", file=sys.stderr)
        return False
    return True


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--preset", default="", help="runner preset (default, original, smoke)")
    parser.add_argument("--scenario", default="", help="comma list of users, io, plain")
    parser.add_argument("--concurrency", default="")
    parser.add_argument("--requests", default="")
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--keep-hosts", action="store_true", help="do not destroy (debugging)")
    parser.add_argument("--name-prefix", default="", help="hosts' name prefix (default abw)")
    parser.add_argument("--subnet", default="", help="hosts' subnet (default 198.18.0.0/24)")
    parser.add_argument(
        "--stack-dir",
        default="",
        help="a private folder (mode 0700) for this stack's Terraform state, keys and "
        "inventory (default: infra/local's own state and inventory/local.yml)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Apply, compare, report, destroy; the exit code says whether everything ran."""
    args = _parser().parse_args(argv)
    stack = Stack(args.name_prefix, args.subnet, Path(args.stack_dir) if args.stack_dir else None)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    if not _preflight(stack):
        return 2
    try:
        plan = build_plan(
            PlanOptions(
                scenario=args.scenario,
                concurrency=args.concurrency,
                requests=args.requests,
                repeat=args.repeat,
                preset=args.preset,
                modes="asgi,wsgi",
                inventory=str(stack.inventory),
                results=args.results,
            )
        )
    except FAILURES as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 2
    code = 0
    try:
        terraform("init", "-upgrade=false", stack=stack)
        terraform("apply", "-auto-approve", stack=stack)
        run_dir = run_plan(plan)
        print(f"\nreport: {run_dir / 'report.md'}")
    except KeyboardInterrupt:
        print("make bench: interrupted; completed samples are kept", file=sys.stderr)
        code = 130
    except DeployError as exc:
        playbook = str(exc).split(" ", 1)[0]
        print(
            f"make bench: stage deploy ({playbook}) failed: {ansible_error(str(exc))}",
            file=sys.stderr,
        )
        code = 1
    except (*FAILURES, StageError, subprocess.SubprocessError) as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # teardown must not be interrupted
        if not args.keep_hosts:
            code = _teardown(stack) or code
    return code


def _teardown(stack: Stack) -> int:
    """terraform destroy, then always the by-name sweep of this stack's prefix (a backstop
    for whatever an interrupted run left); 0 when the hosts are gone."""
    destroyed = True
    try:
        terraform("destroy", "-auto-approve", stack=stack)
    except (StageError, subprocess.SubprocessError, OSError) as exc:
        destroyed = False
        print(f"make bench: {exc}; sweeping hosts by name", file=sys.stderr)
    sweep = subprocess.run(
        [str(LOCAL / "scripts" / "clean-hosts.sh"), stack.prefix or "abw"],
        check=False,
        env=os.environ.copy(),
        stdout=sys.stderr,
    )
    return 0 if sweep.returncode == 0 and destroyed else 1


if __name__ == "__main__":
    sys.exit(main())
