"""runner/aws.py and the fab tasks against moto: spec lookup and the expired-host reaper.

In-process tests use moto's mock_aws; the `fab` command-line tests run the real `fab` in a
subprocess against moto's server. Credentials are fake everywhere: nothing reaches AWS.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from invoke import Context
from invoke.exceptions import Exit

from runner import tasks_aws
from runner.aws import (
    AwsError,
    find_expired,
    find_project_hosts,
    host_specs,
    instance_type_specs,
    parse_expiry,
    terminate_expired,
)
from tests.aws.awshelp import ROOT, instance_state, run_instance

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
PAST = "2030-01-01T11:00:00Z"
FUTURE = "2030-01-01T13:00:00Z"
FAB = [str(ROOT / ".venv" / "bin" / "fab"), "-r", str(ROOT / "runner"), "-c", "tasks_aws"]


def _tags(name: str, expiry: str | None, project: str = "asgi-wsgi-bench") -> dict[str, str]:
    tags = {"Name": name, "project": project, "role": "app", "owner": "ci"}
    if expiry is not None:
        tags["expiry"] = expiry
    return tags


@pytest.fixture
def fleet(ec2: Any) -> dict[str, str]:
    """Four hosts: one of the project past expiry, one not yet, one with no expiry tag, and
    one of another project past expiry."""
    return {
        "expired": run_instance(ec2, _tags("abw-app", PAST)),
        "fresh": run_instance(ec2, _tags("abw-lg1", FUTURE)),
        "untagged": run_instance(ec2, _tags("abw-lg2", None)),
        "foreign": run_instance(ec2, _tags("other", PAST, project="someone-else")),
    }


# ---------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------


def test_specs_of_the_app_class(ec2: Any) -> None:
    spec = instance_type_specs(ec2, ["m5.xlarge"])["m5.xlarge"]
    assert (spec.vcpus, spec.cores, spec.threads_per_core, spec.memory_mib) == (4, 2, 2, 16384)
    assert spec.processor == "Intel" and "x86_64" in spec.architectures
    assert spec.sustained_clock_ghz and spec.sustained_clock_ghz > 2.0
    assert not spec.burstable and spec.matches_original_class()


def test_classes_that_do_not_match_the_laptop(ec2: Any) -> None:
    specs = instance_type_specs(ec2, ["c5.xlarge", "t3.xlarge", "m5.2xlarge"])
    assert not specs["c5.xlarge"].matches_original_class()  # 8 GiB: too small
    assert specs["t3.xlarge"].burstable and not specs["t3.xlarge"].matches_original_class()
    assert not specs["m5.2xlarge"].matches_original_class()  # 8 vCPUs


def test_unknown_type_is_a_clear_error(ec2: Any) -> None:
    with pytest.raises(AwsError, match=r"m5\.nonsense"):
        instance_type_specs(ec2, ["m5.xlarge", "m5.nonsense"])


def test_host_specs_keys_by_host(ec2: Any) -> None:
    specs = host_specs(ec2, {"abw-app": "m5.xlarge", "abw-lg1": "c5.2xlarge"})
    assert specs["abw-app"]["vcpus"] == 4 and specs["abw-lg1"]["vcpus"] == 8
    assert specs["abw-lg1"]["architectures"] == ["x86_64"]


# ---------------------------------------------------------------------------------------
# The reaper
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-01-01T11:00:00Z", datetime(2030, 1, 1, 11, 0, tzinfo=UTC)),
        ("2030-01-01T13:00:00+02:00", datetime(2030, 1, 1, 11, 0, tzinfo=UTC)),
        ("2030-01-01T11:00:00", datetime(2030, 1, 1, 11, 0, tzinfo=UTC)),
        ("tomorrow", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_expiry(value: str | None, expected: datetime | None) -> None:
    assert parse_expiry(value) == expected


def test_project_hosts_exclude_other_projects(ec2: Any, fleet: dict[str, str]) -> None:
    ids = {h.instance_id for h in find_project_hosts(ec2, "asgi-wsgi-bench")}
    assert ids == {fleet["expired"], fleet["fresh"], fleet["untagged"]}


def test_find_expired_lists_only_the_projects_expired_hosts(
    ec2: Any, fleet: dict[str, str]
) -> None:
    expired = find_expired(ec2, "asgi-wsgi-bench", NOW)
    assert [h.instance_id for h in expired] == [fleet["expired"]]
    assert expired[0].name == "abw-app" and expired[0].expiry == parse_expiry(PAST)


def test_naive_now_is_refused(ec2: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        find_expired(ec2, "asgi-wsgi-bench", datetime(2030, 1, 1))


def test_dry_run_terminates_nothing(ec2: Any, fleet: dict[str, str]) -> None:
    listed = terminate_expired(ec2, "asgi-wsgi-bench", NOW, dry_run=True)
    assert [h.instance_id for h in listed] == [fleet["expired"]]
    assert {instance_state(ec2, i) for i in fleet.values()} == {"running"}


def test_terminate_only_expired_project_hosts(ec2: Any, fleet: dict[str, str]) -> None:
    terminate_expired(ec2, "asgi-wsgi-bench", NOW, dry_run=False)
    states = {role: instance_state(ec2, i) for role, i in fleet.items()}
    assert states["expired"] in {"shutting-down", "terminated"}
    assert (states["fresh"], states["untagged"], states["foreign"]) == ("running",) * 3
    # Terminated hosts are no longer live: a second pass finds nothing to do.
    assert terminate_expired(ec2, "asgi-wsgi-bench", NOW, dry_run=False) == []


def test_later_now_catches_the_fresh_host_too(ec2: Any, fleet: dict[str, str]) -> None:
    later = NOW + timedelta(hours=2)
    assert {h.instance_id for h in find_expired(ec2, "asgi-wsgi-bench", later)} == {
        fleet["expired"],
        fleet["fresh"],
    }


# ---------------------------------------------------------------------------------------
# The fab tasks, in process (mock_aws) and as the real `fab` command (moto server)
# ---------------------------------------------------------------------------------------


def test_aws_reap_task_lists_then_terminates(
    ec2: Any, fleet: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The task reads the clock: these expiries are in 2030, so move them to the past/future.
    ec2.create_tags(
        Resources=[fleet["expired"]], Tags=[{"Key": "expiry", "Value": "2001-01-01T00:00:00Z"}]
    )
    ec2.create_tags(
        Resources=[fleet["fresh"]], Tags=[{"Key": "expiry", "Value": "2999-01-01T00:00:00Z"}]
    )
    tasks_aws.aws_reap(Context(), region="us-east-1")
    listing = capsys.readouterr().out
    assert "3 live host(s), 1 expired" in listing
    assert "run again with --yes" in listing and "no expiry tag: left alone" in listing
    assert instance_state(ec2, fleet["expired"]) == "running"
    tasks_aws.aws_reap(Context(), region="us-east-1", yes=True)
    assert "TERMINATED" in capsys.readouterr().out
    assert instance_state(ec2, fleet["expired"]) in {"shutting-down", "terminated"}
    assert instance_state(ec2, fleet["fresh"]) == "running"


def test_aws_specs_task_flags_the_class(
    ec2: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "specs.json"
    tasks_aws.aws_specs(Context(), types="m5.xlarge,c5.xlarge", output=str(out_file))
    printed = capsys.readouterr().out
    assert '"matches_original_class": true' in printed
    assert out_file.read_text().strip() == printed.strip()


def test_aws_specs_task_refuses_an_unknown_type(ec2: Any) -> None:
    with pytest.raises(Exit) as info:
        tasks_aws.aws_specs(Context(), types="m5.nonsense")
    assert info.value.code == 1 and "m5.nonsense" in str(info.value.message)


def _fab(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*FAB, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        check=False,
    )


def test_fab_aws_reap_command(moto_env: dict[str, str], server_ec2: Any) -> None:
    old = run_instance(server_ec2, _tags("abw-app", "2001-01-01T00:00:00Z"))
    new = run_instance(server_ec2, _tags("abw-lg1", "2999-01-01T00:00:00Z"))
    listed = _fab(moto_env, "aws-reap", "--region", "us-east-1")
    assert listed.returncode == 0, listed.stderr
    assert old in listed.stdout and new in listed.stdout and "1 expired" in listed.stdout
    assert instance_state(server_ec2, old) == "running"
    reaped = _fab(moto_env, "aws-reap", "--region", "us-east-1", "--yes")
    assert reaped.returncode == 0, reaped.stderr
    assert instance_state(server_ec2, old) in {"shutting-down", "terminated"}
    assert instance_state(server_ec2, new) == "running"


def test_fab_help_documents_every_option(moto_env: dict[str, str]) -> None:
    for name, options in (
        ("aws-reap", ("--region", "--project", "--stack", "--yes")),
        ("aws-ami", ("--region", "--output")),
        ("aws-specs", ("--region", "--types", "--inventory", "--output")),
    ):
        proc = _fab(moto_env, "--help", name)
        assert proc.returncode == 0, proc.stderr
        for option in options:
            options_part = proc.stdout.split("Options:", 1)[1]
            line = next(ln for ln in options_part.splitlines() if option in ln)
            assert len(line.split(option, 1)[1].strip()) > 10, f"{name} {option} lacks help"


def test_fab_without_credentials_says_so(moto_env: dict[str, str]) -> None:
    env = {
        k: v for k, v in moto_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    proc = _fab(env, "aws-reap", "--region", "us-east-1")
    assert proc.returncode == 1
    assert "no AWS credentials" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
