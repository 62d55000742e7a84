"""The one wrapper around `terraform` on infra/local: the default stack (prefix abw,
198.18.0.0/24, Terraform's state in infra/local, inventory/local.yml), or a stack of its
own (prefix, subnet, and state, keys and inventory kept in `workdir`) so a test, the
main job or the self-benchmark never touches anyone else's hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "infra" / "local"
CLEAN = MODULE / "scripts" / "clean-hosts.sh"


class StackError(Exception):
    """terraform failed on the stack; the message has the tail of its output."""


@dataclass
class Stack:
    """infra/local applied as `prefix` on `subnet` with everything under `workdir`; empty
    values mean the default stack's. `stream`: terraform's output goes to stderr as it
    runs (the main job), else it is kept for the error message only."""

    prefix: str = ""
    subnet: str = ""
    workdir: Path | None = None
    loadgen_count: int | None = None
    stream: bool = False

    @property
    def name(self) -> str:
        """The hosts' name prefix."""
        return self.prefix or "abw"

    @property
    def inventory(self) -> Path:
        """The inventory this stack writes."""
        return self.workdir / "inventory.yml" if self.workdir else ROOT / "inventory" / "local.yml"

    @property
    def state_file(self) -> Path:
        """This stack's Terraform state (infra/local's own for the default stack)."""
        return (self.workdir or MODULE) / "terraform.tfstate"

    def _var_args(self) -> list[str]:
        values: dict[str, object] = {"name_prefix": self.prefix, "subnet_cidr": self.subnet}
        if self.workdir:
            values["state_dir"] = self.workdir / "state"
            values["inventory_path"] = self.inventory
        values["loadgen_count"] = self.loadgen_count
        return [a for k, v in values.items() if v for a in ("-var", f"{k}={v}")]

    def env(self) -> dict[str, str]:
        """Terraform's environment (its own data folder for a stack of its own)."""
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
        if self.workdir:
            env["TF_DATA_DIR"] = str(self.workdir / "tfdata")
        return env

    def terraform(self, *args: str, timeout: float = 600) -> float:
        """Run terraform on infra/local with this stack's state; return its wall time."""
        extra = [] if args[0] in ("init", "output") else ["-state", str(self.state_file)]
        extra += self._var_args() if args[0] in ("apply", "destroy") else []
        started = time.monotonic()
        proc = subprocess.run(
            ["terraform", f"-chdir={MODULE}", *args, "-input=false", "-no-color", *extra],
            stdout=sys.stderr if self.stream else subprocess.PIPE,
            stderr=None if self.stream else subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env=self.env(),
            check=False,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout or "").strip().splitlines()[-15:])
            raise StackError(
                f"terraform {args[0]} on stack {self.name} failed (exit {proc.returncode})"
                + (f":\n{tail}" if tail else "")
            )
        return time.monotonic() - started

    def up(self, sweep_first: bool = True) -> float:
        """Sweep leftovers of an earlier crashed run of this prefix (unless told not to),
        init and apply; return the wall time of init + apply."""
        if self.workdir:
            self.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.workdir, 0o700)
        if sweep_first:
            self.clean()
        started = time.monotonic()
        self.terraform("init", "-upgrade=false", timeout=180)
        self.terraform("apply", "-auto-approve")
        return time.monotonic() - started

    def down(self) -> bool:
        """terraform destroy, then always the by-name sweep as a backstop; True when both
        went through. Never raises: teardown must finish whatever happened before."""
        destroyed = True
        try:
            if self.state_file.exists():
                self.terraform("destroy", "-auto-approve")
        except (StackError, subprocess.SubprocessError, OSError) as exc:
            destroyed = False
            print(f"{exc}; sweeping hosts {self.name} by name", file=sys.stderr)
        return self.clean() and destroyed

    def clean(self) -> bool:
        """clean-hosts.sh PREFIX: remove this prefix's hosts whatever Terraform's state;
        True when it finished cleanly."""
        try:
            proc = subprocess.run(
                [str(CLEAN), self.name],
                stdout=sys.stderr if self.stream else subprocess.DEVNULL,
                stderr=None if self.stream else subprocess.DEVNULL,
                timeout=180,
                check=False,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"clean-hosts {self.name} failed: {exc}", file=sys.stderr)
            return False
        return proc.returncode == 0

    def outputs(self) -> dict[str, object]:
        """terraform output -json, as values."""
        proc = subprocess.run(
            ["terraform", f"-chdir={MODULE}", "output", "-json", "-state", str(self.state_file)],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env(),
            check=False,
        )
        if proc.returncode != 0:
            return {}
        return {k: v["value"] for k, v in json.loads(proc.stdout).items()}
