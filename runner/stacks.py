"""`fab compare --stacks N`: the same comparison on N fresh AWS stacks in turn (apply,
compare, destroy), and the spread of the ASGI/WSGI ratio across stacks beside the spread
within each. One pair of instances is one draw of hardware; N pairs say how far the next
pair may land (PerfKitBenchmarker's practice: fresh machines per run).

The loop takes a Terraform runner and a compare function, so tests drive it with fakes;
`destroy` runs in a `finally` for every stack that began an apply, before anything is
reported, and a failed destroy stops the loop (no new stack while one may be billing).
Every stack's outcome is written to stacks.json the moment it exists.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from scipy import stats as sps

from runner.report import build_cells, pair_cells
from runner.results import load_run

STACKS_JSON = "stacks.json"
STACKS_MD = "stacks.md"
# Apply (hosts booted and bootstrapped) plus destroy, on top of the planned run.
APPLY_DESTROY_MINUTES = 15
MAX_STACKS = 20


class StacksError(Exception):
    """The multi-stack run cannot start or go on (bad input, a destroy that failed)."""


class TerraformRunner(Protocol):
    """What the loop needs of Terraform: make one stack, and remove it."""

    def apply(self, name_prefix: str, inventory_path: Path) -> None:
        """Create the stack `name_prefix`, writing its inventory to `inventory_path`."""

    def destroy(self, name_prefix: str, inventory_path: Path) -> None:
        """Remove everything of the stack `name_prefix`; raise when that fails."""


@dataclass
class StackOutcome:
    """One stack of the loop: its prefix, run folder, and how it ended."""

    index: int
    name_prefix: str
    status: str = "pending"  # ok, failed (apply, compare, interrupted), destroy-failed
    stage: str = ""
    error: str = ""
    run_dir: str | None = None
    destroyed: bool = False
    ratios: dict[str, dict[str, Any]] = field(default_factory=dict)


def check_plan(stacks: int, ttl_minutes: int, stack_minutes: int) -> None:
    """Refuse, before anything is created, a stack count out of range or a TTL shorter
    than one stack's planned life (the hosts would power off mid-run)."""
    if not 1 <= stacks <= MAX_STACKS:
        raise StacksError(f"--stacks must be a whole number from 1 to {MAX_STACKS}, not {stacks}")
    if stack_minutes < 1:
        raise StacksError(f"--stack-minutes must be at least 1, not {stack_minutes}")
    needed = stack_minutes + APPLY_DESTROY_MINUTES
    if ttl_minutes < needed:
        raise StacksError(
            f"ttl_minutes {ttl_minutes} is shorter than the planned run ({stack_minutes} min "
            f"per stack + {APPLY_DESTROY_MINUTES} min apply/destroy = {needed}): raise "
            "--ttl-minutes or lower --stack-minutes"
        )


def stack_prefix(base: str, index: int) -> str:
    """The name_prefix of stack `index` (1-based): base + 's' + index, within 16 chars."""
    prefix = f"{base}s{index}"
    if len(prefix) > 16:
        raise StacksError(f"--prefix {base!r} is too long for {prefix!r}: at most 13 characters")
    return prefix


def pair_key(scenario: str, view: str, concurrency: int, keepalive: bool) -> str:
    """A cell's label across stacks, e.g. 'io original c=80'."""
    return f"{scenario} {view} c={concurrency}" + (" keep-alive" if keepalive else "")


def ratios_of_run(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Per paired cell of one run: the ASGI/WSGI ratio of mean requests/s and its 95%
    interval within the stack (from Welch's interval of the difference)."""
    run = load_run(run_dir)
    timed = [
        s
        for s in run.samples
        if getattr(s, "kind", "timed") == "timed" and not s.extra.get("instrumented")
    ]
    out: dict[str, dict[str, Any]] = {}
    for pair in pair_cells(build_cells(timed)):
        v = pair.verdict
        mean_asgi, mean_wsgi = pair.asgi.rps_mean(), pair.wsgi.rps_mean()
        if mean_asgi is None or not mean_wsgi:
            continue
        out[pair_key(pair.scenario, pair.view, pair.concurrency, pair.keepalive)] = {
            "ratio": mean_asgi / mean_wsgi,
            "within_low": v.ratio.ci_low,
            "within_high": v.ratio.ci_high,
            "n_asgi": v.n_asgi,
            "n_wsgi": v.n_wsgi,
            "verdict": v.verdict,
        }
    return out


def spread(outcomes: list[StackOutcome]) -> dict[str, dict[str, Any]]:
    """Per paired cell: the ratio in each stack, and across stacks its mean, standard
    deviation, coefficient of variation and 95% interval of the mean, beside the mean
    half-width of the within-stack intervals."""
    keys = sorted({k for o in outcomes for k in o.ratios})
    table: dict[str, dict[str, Any]] = {}
    for key in keys:
        rows = [(o.name_prefix, o.ratios[key]) for o in outcomes if key in o.ratios]
        values = [r["ratio"] for _, r in rows]
        halves = [
            (r["within_high"] - r["within_low"]) / 2
            for _, r in rows
            if r["within_low"] is not None and r["within_high"] is not None
        ]
        mean = statistics.fmean(values) if values else None
        stdev = statistics.stdev(values) if len(values) >= 2 else None
        ci = None
        if mean is not None and stdev is not None:
            half = float(sps.t.ppf(0.975, len(values) - 1)) * stdev / math.sqrt(len(values))
            ci = [mean - half, mean + half]
        table[key] = {
            "stacks": len(values),
            "per_stack": {name: r["ratio"] for name, r in rows},
            "across_mean": mean,
            "across_stdev": stdev,
            "across_cv": stdev / mean if stdev is not None and mean else None,
            "across_ci95": ci,
            "within_half_width_mean": statistics.fmean(halves) if halves else None,
        }
    return table


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(outcomes: list[StackOutcome], table: dict[str, dict[str, Any]]) -> str:
    """stacks.md: one line per stack, then the ratio's spread across and within stacks."""
    lines = [
        "# ASGI/WSGI across fresh stacks",
        "",
        "Each stack is a fresh set of instances (apply, compare, destroy). The ratio is ASGI "
        "mean requests/s over WSGI's; *within* is the mean half-width of each stack's own 95% "
        "interval, *across* the spread of the per-stack ratios. An across-stack spread much "
        "wider than the within-stack one means the hardware draw matters more than the "
        "repetitions: read one stack's verdict with that in mind.",
        "",
        "| stack | status | run |",
        "|---|---|---|",
    ]
    for o in outcomes:
        status = o.status + (f" ({o.stage}: {o.error})" if o.error else "")
        lines.append(f"| {o.name_prefix} | {status} | {o.run_dir or '-'} |")
    lines += [
        "",
        "| cell | stacks | ratio per stack | across: mean | across: 95% CI | across: CV "
        "| within: mean half-width |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, row in table.items():
        per = ", ".join(f"{_f(v)}" for v in row["per_stack"].values())
        ci = row["across_ci95"]
        ci_text = f"{_f(ci[0])}..{_f(ci[1])}" if ci else "-"
        cv = row["across_cv"]
        lines.append(
            f"| {key} | {row['stacks']} | {per} | {_f(row['across_mean'])} | {ci_text} "
            f"| {'-' if cv is None else f'{cv * 100:.1f}%'} "
            f"| {_f(row['within_half_width_mean'])} |"
        )
    return "\n".join(lines) + "\n"


def _write(out_dir: Path, outcomes: list[StackOutcome]) -> None:
    """stacks.json and stacks.md, each replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = spread([o for o in outcomes if o.status == "ok"])
    doc = {"stacks": [asdict(o) for o in outcomes], "spread": table}
    for name, text in (
        (STACKS_JSON, json.dumps(doc, indent=2)),
        (STACKS_MD, render(outcomes, table)),
    ):
        tmp = out_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out_dir / name)


def run_stacks(
    stacks: int,
    base_prefix: str,
    out_dir: Path,
    terraform: TerraformRunner,
    compare: Callable[[Path], Path],
    log: Callable[[str], None] = lambda _: None,
) -> list[StackOutcome]:
    """Apply, compare (compare(inventory_path) -> run folder) and destroy `stacks` fresh
    stacks in turn; write stacks.json/stacks.md after each. A failed apply or compare is
    recorded and the next stack goes on; a failed destroy is recorded and stops the loop
    (StacksError). Ctrl-C destroys the current stack, then stops."""
    outcomes: list[StackOutcome] = []
    for index in range(1, stacks + 1):
        outcome = StackOutcome(index, stack_prefix(base_prefix, index))
        outcomes.append(outcome)
        inventory = out_dir / outcome.name_prefix / "inventory.yml"
        stage = "apply"
        try:
            log(f"stack {index}/{stacks} ({outcome.name_prefix}): terraform apply ...")
            terraform.apply(outcome.name_prefix, inventory)
            stage = "compare"
            log(f"stack {index}/{stacks} ({outcome.name_prefix}): compare ...")
            run_dir = compare(inventory)
            outcome.run_dir = str(run_dir)
            outcome.ratios = ratios_of_run(run_dir)
            outcome.status = "ok"
        except Exception as exc:  # one stack's failure is that stack's record
            outcome.status, outcome.stage, outcome.error = "failed", stage, str(exc)
        finally:
            if outcome.status == "pending":  # Ctrl-C: destroy still runs, then it goes on up
                outcome.status, outcome.stage, outcome.error = "failed", stage, "interrupted"
            log(f"stack {index}/{stacks} ({outcome.name_prefix}): terraform destroy ...")
            try:
                terraform.destroy(outcome.name_prefix, inventory)
                outcome.destroyed = True
            except Exception as exc:
                outcome.status, outcome.stage, outcome.error = "destroy-failed", "destroy", str(exc)
            _write(out_dir, outcomes)
        if not outcome.destroyed:
            raise StacksError(
                f"terraform destroy of stack {outcome.name_prefix} failed ({outcome.error}): "
                f"run `terraform -chdir=infra/aws destroy -var name_prefix={outcome.name_prefix}` "
                f"and `fab aws-reap --stack {outcome.name_prefix}`; no further stack was made"
            )
    return outcomes


@dataclass
class TerraformCli:
    """The real runner: `terraform` in infra/aws (initialised by the user), one stack at a
    time with its own state file, the caller's variables (TF_VAR_* and terraform.tfvars
    as usual) plus the stack's prefix, inventory path and TTL."""

    module: Path
    ttl_minutes: int
    extra_vars: dict[str, str] = field(default_factory=dict)
    timeout_s: int = 3600

    def _run(self, verb: str, name_prefix: str, inventory_path: Path) -> None:
        variables = {
            "name_prefix": name_prefix,
            "inventory_path": str(inventory_path.resolve()),
            "ttl_minutes": str(self.ttl_minutes),
            **self.extra_vars,
        }
        # Each stack keeps its own state beside its results: the operator's own stack in
        # infra/aws (its terraform.tfstate) is never planned against, let alone replaced.
        state = (inventory_path.parent / "terraform.tfstate").resolve()
        argv = ["terraform", f"-chdir={self.module}", verb, "-auto-approve", "-input=false"]
        argv += [f"-state={state}", *(f"-var={k}={v}" for k, v in variables.items())]
        proc = subprocess.run(argv, text=True, timeout=self.timeout_s, check=False)
        if proc.returncode != 0:
            raise StacksError(f"terraform {verb} of {name_prefix} exited {proc.returncode}")

    def apply(self, name_prefix: str, inventory_path: Path) -> None:
        """terraform apply (the module's own pre-flight checks run first)."""
        inventory_path.parent.mkdir(parents=True, exist_ok=True)
        self._run("apply", name_prefix, inventory_path)

    def destroy(self, name_prefix: str, inventory_path: Path) -> None:
        """terraform destroy (also removes the inventory and the stack's known hosts)."""
        self._run("destroy", name_prefix, inventory_path)
