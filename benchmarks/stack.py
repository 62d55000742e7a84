"""A local stack of the script's own (infra/local with its own prefix, subnet, Terraform
state and state folder), so measuring the harness never touches anyone else's hosts."""

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
    """terraform failed on the script's stack; the message has the tail of its output."""


@dataclass
class Stack:
    """infra/local applied as `prefix` on `subnet`, everything kept under `workdir`."""

    prefix: str
    subnet: str
    workdir: Path
    loadgen_count: int = 1

    @property
    def inventory(self) -> Path:
        """The inventory this stack writes."""
        return self.workdir / "inventory.yml"

    @property
    def state_file(self) -> Path:
        """This stack's own Terraform state (never infra/local/terraform.tfstate)."""
        return self.workdir / "terraform.tfstate"

    def _var_args(self) -> list[str]:
        values = {
            "name_prefix": self.prefix,
            "subnet_cidr": self.subnet,
            "state_dir": str(self.workdir / "state"),
            "inventory_path": str(self.inventory),
            "loadgen_count": str(self.loadgen_count),
        }
        return [arg for k, v in values.items() for arg in ("-var", f"{k}={v}")]

    def terraform(self, *args: str, timeout: float = 600) -> float:
        """Run terraform on infra/local with this stack's state; return its wall time."""
        env = {
            **os.environ,
            "TF_DATA_DIR": str(self.workdir / "tfdata"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
        extra = [] if args[0] == "init" else ["-state", str(self.state_file), *self._var_args()]
        started = time.monotonic()
        proc = subprocess.run(
            ["terraform", f"-chdir={MODULE}", *args, "-input=false", "-no-color", *extra],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise StackError(f"terraform {args[0]} on stack {self.prefix} failed:\n{tail}")
        return time.monotonic() - started

    def up(self) -> float:
        """Sweep leftovers of an earlier crashed run of this prefix, init and apply;
        return the wall time of init + apply."""
        self.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self.clean()
        started = time.monotonic()
        self.terraform("init", "-upgrade=false", timeout=180)
        self.terraform("apply", "-auto-approve")
        return time.monotonic() - started

    def down(self) -> float:
        """terraform destroy, then the by-name sweep as a backstop; return the wall time.
        Never raises: teardown must finish whatever happened before."""
        started = time.monotonic()
        try:
            if self.state_file.exists():
                self.terraform("destroy", "-auto-approve")
        except (StackError, subprocess.SubprocessError, OSError) as exc:
            print(f"selfbench: {exc}; sweeping {self.prefix} by name", file=sys.stderr)
        self.clean()
        return time.monotonic() - started

    def clean(self) -> None:
        """clean-hosts.sh PREFIX: remove this prefix's hosts whatever Terraform's state."""
        try:
            subprocess.run([str(CLEAN), self.prefix], capture_output=True, timeout=180, check=False)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"selfbench: clean-hosts {self.prefix} failed: {exc}", file=sys.stderr)

    def outputs(self) -> dict[str, object]:
        """terraform output -json, as values."""
        proc = subprocess.run(
            ["terraform", f"-chdir={MODULE}", "output", "-json", "-state", str(self.state_file)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "TF_DATA_DIR": str(self.workdir / "tfdata")},
            check=False,
        )
        if proc.returncode != 0:
            return {}
        return {k: v["value"] for k, v in json.loads(proc.stdout).items()}
