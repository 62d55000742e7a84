"""`fab compare --stacks N`'s loop with a fake Terraform: order (apply, compare, destroy),
destroy in finally whatever happened, a failed destroy stops everything, results on disk
after each stack, and the ratio's spread across stacks from real run folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runner.model import Sample
from runner.results import RunStore
from runner.stacks import (
    STACKS_JSON,
    STACKS_MD,
    StacksError,
    TerraformCli,
    check_plan,
    run_stacks,
    stack_prefix,
)


class FakeTerraform:
    """Records every call; fails where told."""

    def __init__(self, fail_apply: set[str] = frozenset(), fail_destroy: set[str] = frozenset()):
        self.calls: list[tuple[str, str]] = []
        self.fail_apply, self.fail_destroy = fail_apply, fail_destroy

    def apply(self, name_prefix: str, inventory_path: Path) -> None:
        self.calls.append(("apply", name_prefix))
        if name_prefix in self.fail_apply:
            raise RuntimeError("Error: creating EC2 Instance: InsufficientInstanceCapacity")
        inventory_path.parent.mkdir(parents=True, exist_ok=True)
        inventory_path.write_text("all: {}\n")

    def destroy(self, name_prefix: str, inventory_path: Path) -> None:
        self.calls.append(("destroy", name_prefix))
        if name_prefix in self.fail_destroy:
            raise RuntimeError("terraform destroy exited 1")
        inventory_path.unlink(missing_ok=True)


def _run(root: Path, name: str, asgi: list[float], wsgi: list[float]) -> Path:
    """A real run folder with one io cell per mode."""
    store = RunStore(root, name)
    for mode, values in (("asgi", asgi), ("wsgi", wsgi)):
        for rep, rps in enumerate(values, 1):
            store.append(
                Sample(
                    run_id=name,
                    mode=mode,
                    view="original",
                    scenario="io",
                    path="/async/" if mode == "asgi" else "/sync/",
                    concurrency=80,
                    requests=1000,
                    repeat=rep,
                    rps=rps,
                    completed=1000,
                )
            )
    return store.run_dir


def _comparer(root: Path, draws: dict[str, tuple[list[float], list[float]]], calls: list):
    def compare(inventory: Path) -> Path:
        prefix = inventory.parent.name
        calls.append(("compare", prefix))
        if prefix not in draws:
            raise RuntimeError("app at http://10.77.0.5:8000/health/ failed its health check")
        return _run(root / "runs", f"run-{prefix}", *draws[prefix])

    return compare


def test_each_stack_is_applied_compared_destroyed_in_turn(tmp_path: Path) -> None:
    tf = FakeTerraform()
    draws = {
        "haws1": ([200, 202, 198], [100, 101, 99]),  # ratio 2.0
        "haws2": ([220, 222, 218], [100, 101, 99]),  # ratio 2.2
        "haws3": ([180, 182, 178], [100, 101, 99]),  # ratio 1.8
    }
    compare = _comparer(tmp_path, draws, tf.calls)
    out = tmp_path / "stacks"
    outcomes = run_stacks(3, "haw", out, tf, compare)
    assert tf.calls == [
        (verb, f"haws{i}") for i in (1, 2, 3) for verb in ("apply", "compare", "destroy")
    ]
    assert [o.status for o in outcomes] == ["ok"] * 3 and all(o.destroyed for o in outcomes)
    doc = json.loads((out / STACKS_JSON).read_text())
    row = doc["spread"]["io original c=80"]
    assert row["stacks"] == 3
    assert row["per_stack"] == pytest.approx({"haws1": 2.0, "haws2": 2.2, "haws3": 1.8})
    assert row["across_mean"] == pytest.approx(2.0)
    assert row["across_stdev"] == pytest.approx(0.2)
    assert row["across_ci95"][0] < 2.0 < row["across_ci95"][1]
    # Within a stack the ratio is tight (+-1%), across stacks it moves by 10%.
    assert row["within_half_width_mean"] < row["across_stdev"]
    md = (out / STACKS_MD).read_text()
    assert "| io original c=80 | 3 | 2.000, 2.200, 1.800 | 2.000 |" in md


def test_a_failed_compare_is_recorded_and_the_stack_still_destroyed(tmp_path: Path) -> None:
    tf = FakeTerraform(fail_apply={"haws2"})
    draws = {"haws3": ([200, 202, 198], [100, 101, 99])}
    outcomes = run_stacks(3, "haw", tmp_path / "s", tf, _comparer(tmp_path, draws, tf.calls))
    assert [(o.status, o.stage) for o in outcomes] == [
        ("failed", "compare"),
        ("failed", "apply"),
        ("ok", ""),
    ]
    assert (
        "health check" in outcomes[0].error and "InsufficientInstanceCapacity" in outcomes[1].error
    )
    assert [c for c in tf.calls if c[0] == "destroy"] == [
        ("destroy", "haws1"),
        ("destroy", "haws2"),
        ("destroy", "haws3"),
    ]
    doc = json.loads((tmp_path / "s" / STACKS_JSON).read_text())
    assert doc["spread"]["io original c=80"]["stacks"] == 1


def test_a_failed_destroy_stops_the_loop(tmp_path: Path) -> None:
    tf = FakeTerraform(fail_destroy={"haws1"})
    draws = {"haws1": ([200, 202], [100, 101]), "haws2": ([200, 202], [100, 101])}
    with pytest.raises(StacksError, match=r"destroy of stack haws1 failed .*fab aws-reap"):
        run_stacks(2, "haw", tmp_path / "s", tf, _comparer(tmp_path, draws, tf.calls))
    assert ("apply", "haws2") not in tf.calls
    doc = json.loads((tmp_path / "s" / STACKS_JSON).read_text())
    assert doc["stacks"][0]["status"] == "destroy-failed"


def test_ctrl_c_destroys_the_current_stack_then_stops(tmp_path: Path) -> None:
    tf = FakeTerraform()

    def compare(inventory: Path) -> Path:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_stacks(3, "haw", tmp_path / "s", tf, compare)
    assert tf.calls == [("apply", "haws1"), ("destroy", "haws1")]
    doc = json.loads((tmp_path / "s" / STACKS_JSON).read_text())
    assert doc["stacks"][0]["error"] == "interrupted" and doc["stacks"][0]["destroyed"]


@pytest.mark.parametrize(
    ("stacks", "ttl", "minutes", "message"),
    [
        (0, 180, 60, "--stacks must be a whole number from 1 to 20"),
        (21, 180, 60, "--stacks must be a whole number from 1 to 20"),
        (3, 60, 60, "ttl_minutes 60 is shorter than the planned run"),
        (3, 180, 0, "--stack-minutes must be at least 1"),
    ],
)
def test_bad_plans_are_refused(stacks: int, ttl: int, minutes: int, message: str) -> None:
    with pytest.raises(StacksError, match=message):
        check_plan(stacks, ttl, minutes)


def test_prefixes_fit_terraforms_limit() -> None:
    assert stack_prefix("haw", 12) == "haws12"
    with pytest.raises(StacksError, match="too long"):
        stack_prefix("a-very-long-name", 1)


def test_terraform_cli_gives_each_stack_its_own_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real runner's command lines, through a stand-in `terraform` on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv.log"
    fake = bin_dir / "terraform"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n[ "$2" = destroy ] && exit 3\nexit 0\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    cli = TerraformCli(Path("/repo/infra/aws"), ttl_minutes=90, extra_vars={"region": "eu-west-1"})
    inventory = tmp_path / "out" / "haws1" / "inventory.yml"
    cli.apply("haws1", inventory)
    with pytest.raises(StacksError, match="terraform destroy of haws1 exited 3"):
        cli.destroy("haws1", inventory)
    apply, destroy = log.read_text().splitlines()
    state = inventory.parent.resolve() / "terraform.tfstate"
    assert apply.split()[:5] == [
        "-chdir=/repo/infra/aws", "apply", "-auto-approve", "-input=false", f"-state={state}",
    ]  # fmt: skip
    for word in (
        "-var=name_prefix=haws1",
        f"-var=inventory_path={inventory.resolve()}",
        "-var=ttl_minutes=90",
        "-var=region=eu-west-1",
    ):
        assert word in apply.split() and word in destroy.split()
    assert destroy.split()[1] == "destroy"
