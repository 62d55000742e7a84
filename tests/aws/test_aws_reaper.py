"""The reaper's rules (project and stack, no host younger than its TTL), the region from
the environment, type offerings and the image lookup, against moto. Nothing reaches AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from invoke import Context
from invoke.exceptions import Exit

from runner import tasks_aws
from runner.aws import (
    AwsError,
    find_expired,
    find_project_hosts,
    newest_image,
    region_from_env,
    terminate_expired,
    zones_offering,
)
from tests.aws.awshelp import instance_state, run_instance
from tests.aws.test_aws_boto import _fab

PAST = "2001-01-01T00:00:00Z"


def _tags(name: str, stack: str, ttl: str | None = "180", expiry: str = PAST) -> dict[str, str]:
    tags = {"Name": name, "project": "asgi-wsgi-bench", "stack": stack, "role": "app"}
    tags["expiry"] = expiry
    if ttl is not None:
        tags["ttl_minutes"] = ttl
    return tags


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def two_stacks(ec2: Any) -> dict[str, str]:
    """Hosts of two stacks, all with a past expiry tag and a 180-minute TTL."""
    return {
        "a": run_instance(ec2, _tags("abw-app", "abw")),
        "b": run_instance(ec2, _tags("haw-app", "haw")),
    }


def test_stack_filter_keeps_to_one_stack(ec2: Any, two_stacks: dict[str, str]) -> None:
    assert {h.instance_id for h in find_project_hosts(ec2, "asgi-wsgi-bench", "haw")} == {
        two_stacks["b"]
    }
    assert {h.stack for h in find_project_hosts(ec2, "asgi-wsgi-bench")} == {"abw", "haw"}


def test_a_host_younger_than_its_ttl_is_never_reaped(ec2: Any, two_stacks: dict[str, str]) -> None:
    """Just launched, a past expiry tag (inherited): spared; the same host once it is older
    than its TTL: reaped."""
    now = _now()
    hosts = find_project_hosts(ec2, "asgi-wsgi-bench")
    assert all(h.launched and h.ttl_minutes == 180 and h.too_young(now) for h in hosts)
    assert terminate_expired(ec2, "asgi-wsgi-bench", now, dry_run=False) == []
    assert instance_state(ec2, two_stacks["a"]) == "running"
    later = now + timedelta(minutes=181)
    reaped = terminate_expired(ec2, "asgi-wsgi-bench", later, dry_run=False, stack="abw")
    assert [h.instance_id for h in reaped] == [two_stacks["a"]]
    assert instance_state(ec2, two_stacks["a"]) in {"shutting-down", "terminated"}
    assert instance_state(ec2, two_stacks["b"]) == "running"


def test_a_host_without_ttl_tag_follows_its_expiry(ec2: Any) -> None:
    old = run_instance(ec2, _tags("old-app", "abw", ttl=None))
    bad = run_instance(ec2, _tags("bad-app", "abw", ttl="soon"))
    ids = {h.instance_id for h in find_expired(ec2, "asgi-wsgi-bench", _now())}
    assert ids == {old, bad}


def test_reap_task_says_why_a_young_host_is_left(
    ec2: Any, two_stacks: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    tasks_aws.aws_reap(Context(), stack="haw", yes=True)  # region from AWS_REGION
    out = capsys.readouterr().out
    assert "stack haw in us-east-1: 1 live host(s), 0 expired" in out
    assert "younger than its TTL (180 min): left alone" in out
    assert instance_state(ec2, two_stacks["b"]) == "running"


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        ("eu-west-1", {"AWS_REGION": "us-east-1"}, "eu-west-1"),
        ("", {"AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-north-1"),
        ("", {"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        ("", {}, ""),
    ],
)
def test_region_from_env(
    monkeypatch: pytest.MonkeyPatch, explicit: str, env: dict[str, str], expected: str
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert region_from_env(explicit) == expected


def test_no_region_anywhere_is_one_line(fake_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for task in (tasks_aws.aws_reap, tasks_aws.aws_specs, tasks_aws.aws_ami):
        with pytest.raises(Exit) as info:
            task(Context())
        assert info.value.code == 1
        assert "no AWS region: pass --region or set AWS_REGION" in str(info.value.message)


def test_fab_reads_the_region_from_the_environment(
    moto_env: dict[str, str], server_ec2: Any
) -> None:
    """Hosts in us-east-1; AWS_REGION=eu-west-1 and no --region looks in eu-west-1."""
    run_instance(server_ec2, _tags("abw-app", "abw", ttl=None))
    here = _fab(moto_env, "aws-reap")
    assert here.returncode == 0, here.stderr
    assert "in us-east-1: 1 live host(s), 1 expired" in here.stdout
    there = _fab({**moto_env, "AWS_REGION": "eu-west-1"}, "aws-reap")
    assert there.returncode == 0, there.stderr
    assert "in eu-west-1: 0 live host(s)" in there.stdout


def test_zones_offering(ec2: Any) -> None:
    zones = zones_offering(ec2, "m6i.xlarge")
    assert zones and all(z.startswith("us-east-1") for z in zones)
    assert zones_offering(ec2, "m6i.nonsense") == []


def test_newest_image_of_an_owner(ec2: Any) -> None:
    """moto ships real Amazon Linux images (EBS, HVM, x86_64): the newest by creation date
    is chosen; moto cannot make EBS images of its own, so the Debian owner is not tried."""
    owner, pattern = "137112412989", "amzn2-ami-*"
    found = newest_image(ec2, owner=owner, pattern=pattern)
    images = ec2.describe_images(Owners=[owner], Filters=[{"Name": "name", "Values": [pattern]}])
    candidates = [i for i in images["Images"] if i.get("RootDeviceType") == "ebs"]
    best = max(candidates, key=lambda i: (i["CreationDate"], i["ImageId"]))
    assert found == {
        "image_id": best["ImageId"],
        "name": best["Name"],
        "created": best["CreationDate"],
    }
    with pytest.raises(AwsError, match="no image named debian-13"):
        newest_image(ec2, owner=owner, pattern="debian-13-amd64-*")
