"""Fabric tasks for the AWS stack: `fab aws-specs`, `fab aws-reap` and `fab aws-ami`.

They talk to EC2 with the caller's usual AWS credentials (AWS_PROFILE, environment, or
instance role); AWS_ENDPOINT_URL is honoured by boto3, which is how tests point them at moto.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
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
    newest_image,
    now_utc,
    region_from_env,
    terminate_expired,
)
from runner.awspreflight import PreflightError, check_key, check_types, tf_var
from runner.inventory import InventoryError, load_inventory
from runner.results import new_run_id
from runner.stacks import StacksError, TerraformCli, check_plan, run_stacks

AWS_MODULE = Path(__file__).resolve().parents[1] / "infra" / "aws"
REGION_HELP = "AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION)"
DEFAULT_PROJECT = "asgi-wsgi-bench"
# The types infra/aws allows (variables.tf): app host first, then load generators.
DEFAULT_TYPES = "m6i.xlarge,m7i.xlarge,c6i.2xlarge,c7i.2xlarge,c6i.4xlarge,c7i.4xlarge"


def _region(task_name: str, region: str) -> str:
    """--region, else the environment's; one clear line when neither is set."""
    found = region_from_env(region)
    if not found:
        raise Exit(
            f"fab {task_name}: no AWS region: pass --region or set AWS_REGION (e.g. us-east-1)",
            code=1,
        )
    return found


def _ec2(region: str) -> Any:
    """An EC2 client for `region`, with a clear error when boto3 cannot make one."""
    try:
        return boto3.client("ec2", region_name=region or None)
    except NoRegionError:
        raise Exit("no AWS region: pass --region or set AWS_REGION", code=1) from None
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
        "region": REGION_HELP,
        "types": f"comma list of instance types (default: those infra/aws allows: {DEFAULT_TYPES})",
        "inventory": "an inventory (e.g. inventory/aws.yml): report each host's type instead",
        "output": "also write the JSON to this file (e.g. beside a run's results.json)",
    }
)
def aws_specs(c, region="", types="", inventory="", output=""):
    """Print instance type specs from EC2 (DescribeInstanceTypes) as JSON: vCPUs, cores,
    threads per core, memory, processor, sustained clock, burstable, and whether the type
    matches the original laptop's class (4 vCPUs on 2 cores, >= 11.6 GiB, fixed performance)."""
    ec2 = _ec2(_region("aws-specs", region))
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
        "region": REGION_HELP,
        "project": f"the project tag of the harness's hosts (default {DEFAULT_PROJECT})",
        "stack": "only this stack's hosts (the stack tag: infra/aws's name_prefix)",
        "yes": "terminate the expired hosts listed (without it, only list them)",
    }
)
def aws_reap(c, region="", project=DEFAULT_PROJECT, stack="", yes=False):
    """List the project's hosts in a region and which are past their expiry tag; with --yes,
    terminate exactly those. Hosts without an expiry tag, and hosts younger than their TTL
    (an expiry they cannot have earned), are shown, never terminated."""
    region = _region("aws-reap", region)
    ec2 = _ec2(region)
    now = now_utc()
    try:
        hosts = find_project_hosts(ec2, project, stack)
        expired = terminate_expired(ec2, project, now, dry_run=not yes, stack=stack)
    except AwsError as exc:
        raise _aws_failure("aws-reap", exc) from None
    expired_ids = {h.instance_id for h in expired}
    where = f"project {project}" + (f" stack {stack}" if stack else "")
    print(f"{where} in {region}: {len(hosts)} live host(s), {len(expired)} expired")
    for host in hosts:
        if host.instance_id in expired_ids:
            verdict = "TERMINATED" if yes else "expired (run again with --yes to terminate)"
        elif host.expiry is None:
            verdict = "no expiry tag: left alone"
        elif host.is_expired(now) and host.too_young(now):
            verdict = f"expiry passed but younger than its TTL ({host.ttl_minutes} min): left alone"
        else:
            verdict = "not expired"
        expiry = host.expiry.isoformat() if host.expiry else "-"
        print(
            f"  {host.instance_id}  {host.name or '-':<16} {host.role or '-':<8} "
            f"{host.instance_type:<12} {host.state:<9} expiry {expiry}  owner {host.owner or '-'}"
            f"  {verdict}"
        )
    sys.stdout.flush()


@task(
    help={
        "region": REGION_HELP,
        "output": "also write the JSON to this file",
    }
)
def aws_ami(c, region="", output=""):
    """Print the newest official Debian 12 (amd64) image of a region as JSON: the value to
    pin as infra/aws's ami_id when you want a new image (it never changes by itself)."""
    ec2 = _ec2(_region("aws-ami", region))
    try:
        image = newest_image(ec2)
    except AwsError as exc:
        raise _aws_failure("aws-ami", exc) from None
    text = json.dumps(image, indent=2, sort_keys=True)
    print(text)
    pin = f"terraform -chdir=infra/aws apply -var ami_id={image['image_id']}"
    print(f"pin it: {pin}", file=sys.stderr)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise Exit(f"fab aws-ami: cannot write {output}: {exc}", code=1) from None


def compare_on_stacks(
    stacks: int,
    stack_minutes: int,
    ttl_minutes: int,
    prefix: str,
    results: str,
    compare: Callable[[Path], Path],
) -> Path:
    """`fab compare --stacks N`: every check first (plan, TTL, key, region, types), then
    the apply/compare/destroy loop of runner.stacks; returns the stacks folder."""
    try:
        check_plan(stacks, ttl_minutes, stack_minutes)
        region = region_from_env(tf_var("region"))
        if not region:
            raise PreflightError("no AWS region: set AWS_REGION (and TF_VAR_region) first")
        check_key(tf_var("ssh_private_key_path"), tf_var("ssh_agent") == "true")
        types = [tf_var("app_instance_type"), tf_var("loadgen_instance_type")]
        check_types(_ec2(region), region, types)
    except (StacksError, PreflightError) as exc:
        raise Exit(f"fab compare --stacks: {exc}", code=1) from None
    except AwsError as exc:
        raise _aws_failure("compare --stacks", exc) from None
    out_dir = Path(results) / f"stacks-{new_run_id()}"
    terraform = TerraformCli(AWS_MODULE, ttl_minutes, {"region": region})
    try:
        run_stacks(stacks, prefix, out_dir, terraform, compare, log=_say)
    except StacksError as exc:
        raise Exit(f"fab compare --stacks: {exc}", code=1) from None
    except KeyboardInterrupt:
        raise Exit(
            f"fab compare --stacks: interrupted; the current stack was destroyed; {out_dir}",
            code=130,
        ) from None
    print(f"stacks report: {out_dir / 'stacks.md'}")
    return out_dir


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
