"""The one wrapper around `terraform` on infra/local: the default stack (prefix abw,
198.18.0.0/24, Terraform's state in infra/local, inventory/local.yml), or a stack of its
own (prefix, subnet, and state, keys and inventory kept in `workdir`) so a test, the
main job or the self-benchmark never touches anyone else's hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from runner.stagelines import terraform_error

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "infra" / "local"
CLEAN = MODULE / "scripts" / "clean-hosts.sh"


class StackError(Exception):
    """terraform failed on the stack: one line naming the stage and Terraform's (or
    infra/local's) own error; `output` keeps the whole of it."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


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
    state_dir: Path | None = None  # the keys' folder when the checkout's cannot hold them

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
        elif self.state_dir:
            values["state_dir"] = self.state_dir
        values["loadgen_count"] = self.loadgen_count
        return [a for k, v in values.items() if v for a in ("-var", f"{k}={v}")]

    def env(self) -> dict[str, str]:
        """Terraform's environment (its own data folder for a stack of its own)."""
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
        if self.workdir:
            env["TF_DATA_DIR"] = str(self.workdir / "tfdata")
        return env

    def terraform(self, *args: str, timeout: float = 600) -> float:
        """Run terraform on infra/local with this stack's state; return its wall time.
        On failure raise StackError naming the stage and Terraform's own error line."""
        extra = [] if args[0] in ("init", "output") else ["-state", str(self.state_file)]
        extra += self._var_args() if args[0] in ("apply", "destroy") else []
        argv = ["terraform", f"-chdir={MODULE}", *args, "-input=false", "-no-color", *extra]
        stage = f"terraform {args[0]}"
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env()
            )
        except OSError as exc:
            raise StackError(f"stage {stage} could not start: {exc.strerror}") from None
        lines: list[str] = []
        reader = threading.Thread(target=self._collect, args=(proc, lines), daemon=True)
        reader.start()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            output = "".join(lines)
            raise StackError(f"stage {stage} timed out after {timeout:.0f}s", output) from None
        finally:
            reader.join(timeout=10)
        if code != 0:
            output = "".join(lines)
            raise StackError(f"stage {stage} failed: {terraform_error(output)}", output)
        return time.monotonic() - started

    def _collect(self, proc: subprocess.Popen, lines: list[str]) -> None:
        """Keep terraform's output for the error line; echo it when streaming."""
        assert proc.stdout is not None
        for line in proc.stdout:
            if self.stream:
                sys.stderr.write(line)
            lines.append(line)

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
