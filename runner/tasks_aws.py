"""Fabric tasks for the AWS stack: `fab aws-specs` and `fab aws-reap`.

Both talk to EC2 with the caller's usual AWS credentials (AWS_PROFILE, environment, or
instance role); AWS_ENDPOINT_URL is honoured by boto3, which is how tests point them at moto.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, NoCredentialsError, NoRegionError
from fabric import task
from invoke.exceptions import Exit

from runner.aws import (
    AwsError,
    find_project_hosts,
    host_specs,
    instance_type_specs,
    now_utc,
    terminate_expired,
)
from runner.inventory import InventoryError, load_inventory

DEFAULT_REGION = "us-east-1"
DEFAULT_PROJECT = "asgi-wsgi-bench"
# The types infra/aws allows (variables.tf): app host first, then load generators.
DEFAULT_TYPES = "m5.xlarge,m6i.xlarge,m7i.xlarge,c5.2xlarge,c6i.2xlarge,c7i.2xlarge"


def _ec2(region: str) -> Any:
    """An EC2 client for `region`, with a clear error when boto3 cannot make one."""
    try:
        return boto3.client("ec2", region_name=region or None)
    except NoRegionError:
        raise Exit("no AWS region: pass --region (e.g. us-east-1)", code=1) from None
    except BotoCoreError as exc:
        raise Exit(f"cannot create an EC2 client: {exc}", code=1) from None


def _aws_failure(task_name: str, exc: Exception) -> Exit:
    """One clear line for what went wrong talking to AWS."""
    if isinstance(exc.__cause__, NoCredentialsError) or isinstance(exc, NoCredentialsError):
        return Exit(
            f"fab {task_name}: no AWS credentials: set AWS_PROFILE (aws configure) "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            code=1,
        )
    return Exit(f"fab {task_name}: {exc}", code=1)


@task(
    help={
        "region": f"AWS region to ask (default {DEFAULT_REGION})",
        "types": f"comma list of instance types (default: those infra/aws allows: {DEFAULT_TYPES})",
        "inventory": "an inventory (e.g. inventory/aws.yml): report each host's type instead",
        "output": "also write the JSON to this file (e.g. beside a run's results.json)",
    }
)
def aws_specs(c, region=DEFAULT_REGION, types="", inventory="", output=""):
    """Print instance type specs from EC2 (DescribeInstanceTypes) as JSON: vCPUs, cores,
    threads per core, memory, processor, sustained clock, burstable, and whether the type
    matches the original laptop's class (4 vCPUs on 2 cores, >= 11.6 GiB, fixed performance)."""
    ec2 = _ec2(region)
    try:
        if inventory:
            inv = load_inventory(inventory)
            classes = {h.name: str(h.machine_class.get("name", "")) for h in inv.hosts}
            unnamed = [name for name, itype in classes.items() if not itype]
            if unnamed:
                raise Exit(
                    f"fab aws-specs: host(s) {', '.join(unnamed)} have no machine_class.name "
                    "(the instance type): is this an AWS inventory?",
                    code=1,
                )
            data: dict[str, Any] = host_specs(ec2, classes)
        else:
            wanted = [t.strip() for t in (types or DEFAULT_TYPES).split(",") if t.strip()]
            specs = instance_type_specs(ec2, wanted)
            data = {
                name: {**spec.as_dict(), "matches_original_class": spec.matches_original_class()}
                for name, spec in specs.items()
            }
    except InventoryError as exc:
        raise Exit(f"fab aws-specs: {exc}", code=1) from None
    except AwsError as exc:
        raise _aws_failure("aws-specs", exc) from None
    text = json.dumps(data, indent=2, sort_keys=True)
    print(text)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise Exit(f"fab aws-specs: cannot write {output}: {exc}", code=1) from None


@task(
    help={
        "region": f"AWS region to look in (default {DEFAULT_REGION})",
        "project": f"the project tag of the harness's hosts (default {DEFAULT_PROJECT})",
        "yes": "terminate the expired hosts listed (without it, only list them)",
    }
)
def aws_reap(c, region=DEFAULT_REGION, project=DEFAULT_PROJECT, yes=False):
    """List the project's hosts in a region and which are past their expiry tag; with --yes,
    terminate exactly those. Hosts without an expiry tag are shown, never terminated."""
    ec2 = _ec2(region)
    now = now_utc()
    try:
        hosts = find_project_hosts(ec2, project)
        expired = terminate_expired(ec2, project, now, dry_run=not yes)
    except AwsError as exc:
        raise _aws_failure("aws-reap", exc) from None
    expired_ids = {h.instance_id for h in expired}
    print(f"project {project} in {region}: {len(hosts)} live host(s), {len(expired)} expired")
    for host in hosts:
        if host.instance_id in expired_ids:
            verdict = "TERMINATED" if yes else "expired (run again with --yes to terminate)"
        elif host.expiry is None:
            verdict = "no expiry tag: left alone"
        else:
            verdict = "not expired"
        expiry = host.expiry.isoformat() if host.expiry else "-"
        print(
            f"  {host.instance_id}  {host.name or '-':<16} {host.role or '-':<8} "
            f"{host.instance_type:<12} {host.state:<9} expiry {expiry}  owner {host.owner or '-'}"
            f"  {verdict}"
        )
    sys.stdout.flush()
