"""What the runner asks of AWS (boto3): instance type specs, type offerings, the newest
Debian image, and the project's expired hosts.

Every function takes an EC2 client, never builds one, so tests hand in moto's and the
Fabric tasks in runner/tasks_aws.py hand in a real one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

# The original study's laptop (Intel i3-6006U, 2 cores / 4 threads, 11,830 MiB): the
# class an app host must match (see docs/AWS.md).
ORIGINAL_CLASS = {"vcpus": 4, "cores": 2, "min_memory_mib": 11_830}

# States in which an instance still bills, or may again (stopped keeps its volume).
LIVE_STATES = ("pending", "running", "stopping", "stopped")

_NEVER = datetime.max.replace(tzinfo=UTC)


class AwsError(Exception):
    """An AWS call failed or returned something the harness cannot use."""


@dataclass(frozen=True)
class InstanceTypeSpec:
    """What DescribeInstanceTypes says one instance type has."""

    instance_type: str
    vcpus: int
    cores: int
    threads_per_core: int
    memory_mib: int
    processor: str
    architectures: tuple[str, ...]
    sustained_clock_ghz: float | None
    burstable: bool

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping for results metadata."""
        data = asdict(self)
        data["architectures"] = list(self.architectures)
        return data

    def matches_original_class(self) -> bool:
        """True when this type is the original laptop's class: 4 vCPUs on 2 cores,
        at least its memory, and fixed performance (no burst credits)."""
        return (
            self.vcpus == ORIGINAL_CLASS["vcpus"]
            and self.cores == ORIGINAL_CLASS["cores"]
            and self.memory_mib >= ORIGINAL_CLASS["min_memory_mib"]
            and not self.burstable
        )


@dataclass(frozen=True)
class ProjectHost:
    """One EC2 instance tagged with the project, and when it is due to go."""

    instance_id: str
    name: str
    role: str
    owner: str
    state: str
    instance_type: str
    expiry: datetime | None
    stack: str = ""
    launched: datetime | None = None
    ttl_minutes: int | None = None

    def is_expired(self, now: datetime) -> bool:
        """True when the host has a valid expiry tag that is at or before `now`."""
        return self.expiry is not None and self.expiry <= now

    def too_young(self, now: datetime) -> bool:
        """True when the host was launched less than its TTL ago: an expiry tag already
        past on such a host was inherited or mistyped, never its own, so it is spared.
        A host without a readable launch time or TTL tag is never called too young."""
        if self.launched is None or self.ttl_minutes is None:
            return False
        return now - self.launched < timedelta(minutes=self.ttl_minutes)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (times in ISO 8601, or None)."""
        data = asdict(self)
        data["expiry"] = self.expiry.isoformat() if self.expiry else None
        data["launched"] = self.launched.isoformat() if self.launched else None
        return data


def _spec_from(item: dict[str, Any]) -> InstanceTypeSpec:
    vcpu = item.get("VCpuInfo", {})
    proc = item.get("ProcessorInfo", {})
    clock = proc.get("SustainedClockSpeedInGhz")
    return InstanceTypeSpec(
        instance_type=item["InstanceType"],
        vcpus=int(vcpu.get("DefaultVCpus", 0)),
        cores=int(vcpu.get("DefaultCores", vcpu.get("DefaultVCpus", 0))),
        threads_per_core=int(vcpu.get("DefaultThreadsPerCore", 1)),
        memory_mib=int(item.get("MemoryInfo", {}).get("SizeInMiB", 0)),
        processor=str(proc.get("Manufacturer", "unknown")),
        architectures=tuple(proc.get("SupportedArchitectures", ())),
        sustained_clock_ghz=float(clock) if clock is not None else None,
        burstable=bool(item.get("BurstablePerformanceSupported", False)),
    )


def instance_type_specs(ec2_client: Any, types: Iterable[str]) -> dict[str, InstanceTypeSpec]:
    """Specs of each instance type in `types` (vCPUs, cores, threads per core, memory,
    processor, sustained clock, burstable), keyed by type. An unknown type is an AwsError."""
    wanted = sorted(set(types))
    if not wanted:
        return {}
    specs: dict[str, InstanceTypeSpec] = {}
    try:
        pages = ec2_client.get_paginator("describe_instance_types").paginate(InstanceTypes=wanted)
        for page in pages:
            for item in page.get("InstanceTypes", []):
                spec = _spec_from(item)
                specs[spec.instance_type] = spec
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidInstanceType":
            unknown = exc.response["Error"].get("Message", "").rpartition(":")[2].strip()
            raise AwsError(
                f"EC2 does not know instance type(s) {unknown or ', '.join(wanted)}: "
                "check the spelling (infra/aws/variables.tf lists the allowed ones)"
            ) from exc
        raise AwsError(f"describe_instance_types({', '.join(wanted)}) failed: {exc}") from exc
    except BotoCoreError as exc:
        raise AwsError(f"could not reach EC2: {exc}") from exc
    missing = [t for t in wanted if t not in specs]
    if missing:
        raise AwsError(f"EC2 does not know instance type(s) {', '.join(missing)}")
    return specs


def host_specs(ec2_client: Any, machine_classes: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per host, the specs of its instance type: `machine_classes` maps a host name to its
    instance type (the inventory's machine_class.name), the result what results record."""
    specs = instance_type_specs(ec2_client, machine_classes.values())
    return {host: specs[itype].as_dict() for host, itype in machine_classes.items()}


def parse_expiry(value: str | None) -> datetime | None:
    """The expiry tag as an aware UTC datetime (Terraform writes 2025-01-31T18:00:00Z);
    None when absent or unreadable. A value without an offset is taken as UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _ttl_of(value: str | None) -> int | None:
    try:
        minutes = int(value or "")
    except ValueError:
        return None
    return minutes if minutes > 0 else None


def _aware(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_project_hosts(ec2_client: Any, project: str, stack: str = "") -> list[ProjectHost]:
    """Every live instance (pending, running, stopping, stopped) tagged project=`project`
    (and stack=`stack` when given: one stack's hosts, not the account's)."""
    filters = [
        {"Name": "tag:project", "Values": [project]},
        {"Name": "instance-state-name", "Values": list(LIVE_STATES)},
    ]
    if stack:
        filters.append({"Name": "tag:stack", "Values": [stack]})
    hosts: list[ProjectHost] = []
    try:
        for page in ec2_client.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page.get("Reservations", []):
                for inst in reservation.get("Instances", []):
                    tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                    hosts.append(
                        ProjectHost(
                            instance_id=inst["InstanceId"],
                            name=tags.get("Name", ""),
                            role=tags.get("role", ""),
                            owner=tags.get("owner", ""),
                            state=inst.get("State", {}).get("Name", "unknown"),
                            instance_type=inst.get("InstanceType", ""),
                            expiry=parse_expiry(tags.get("expiry")),
                            stack=tags.get("stack", ""),
                            launched=_aware(inst.get("LaunchTime")),
                            ttl_minutes=_ttl_of(tags.get("ttl_minutes")),
                        )
                    )
    except ClientError as exc:
        raise AwsError(f"describe_instances failed: {exc}") from exc
    except BotoCoreError as exc:
        raise AwsError(f"could not reach EC2: {exc}") from exc
    return sorted(hosts, key=lambda h: (h.expiry or _NEVER, h.instance_id))


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (use datetime.now(UTC))")


def find_expired(
    ec2_client: Any, project: str, now: datetime, stack: str = ""
) -> list[ProjectHost]:
    """The project's (and stack's) live instances whose expiry tag is at or before `now`
    and that are at least their TTL old. Hosts without a readable expiry tag are never
    called expired (list them with find_project_hosts), nor are hosts younger than their
    ttl_minutes tag (an expiry inherited from an earlier host)."""
    _require_aware(now)
    hosts = find_project_hosts(ec2_client, project, stack)
    return [h for h in hosts if h.is_expired(now) and not h.too_young(now)]


def terminate_expired(
    ec2_client: Any, project: str, now: datetime, dry_run: bool = True, stack: str = ""
) -> list[ProjectHost]:
    """The expired hosts of find_expired; unless `dry_run`, terminate exactly those."""
    expired = find_expired(ec2_client, project, now, stack)
    if expired and not dry_run:
        ids = [h.instance_id for h in expired]
        try:
            ec2_client.terminate_instances(InstanceIds=ids)
        except ClientError as exc:
            raise AwsError(f"terminate_instances({', '.join(ids)}) failed: {exc}") from exc
        except BotoCoreError as exc:
            raise AwsError(f"could not reach EC2: {exc}") from exc
    return expired


def region_from_env(explicit: str = "") -> str:
    """The region to use: `explicit`, else AWS_REGION, else AWS_DEFAULT_REGION (the order
    the AWS CLI uses); empty when none is set."""
    for value in (explicit, os.environ.get("AWS_REGION"), os.environ.get("AWS_DEFAULT_REGION")):
        if value and value.strip():
            return value.strip()
    return ""


def zones_offering(ec2_client: Any, instance_type: str) -> list[str]:
    """The availability zones of the client's region that offer `instance_type`."""
    try:
        pages = ec2_client.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": [instance_type]}],
        )
        return sorted(
            {o["Location"] for page in pages for o in page.get("InstanceTypeOfferings", [])}
        )
    except ClientError as exc:
        raise AwsError(f"describe_instance_type_offerings({instance_type}) failed: {exc}") from exc
    except BotoCoreError as exc:
        raise AwsError(f"could not reach EC2: {exc}") from exc


# Debian 12 images published by the Debian cloud team (infra/aws/main.tf uses the same).
DEBIAN_OWNER = "136693071363"
DEBIAN_PATTERN = "debian-12-amd64-*"


def newest_image(
    ec2_client: Any, owner: str = DEBIAN_OWNER, pattern: str = DEBIAN_PATTERN
) -> dict[str, str]:
    """The newest x86_64 HVM EBS image of `owner` whose name matches `pattern`: id, name,
    creation date (what infra/aws would resolve; fab aws-ami prints it to pin ami_id)."""
    filters = [
        {"Name": "name", "Values": [pattern]},
        {"Name": "architecture", "Values": ["x86_64"]},
        {"Name": "virtualization-type", "Values": ["hvm"]},
        {"Name": "root-device-type", "Values": ["ebs"]},
    ]
    try:
        images = ec2_client.describe_images(Owners=[owner], Filters=filters).get("Images", [])
    except ClientError as exc:
        raise AwsError(f"describe_images(owner {owner}) failed: {exc}") from exc
    except BotoCoreError as exc:
        raise AwsError(f"could not reach EC2: {exc}") from exc
    if not images:
        raise AwsError(f"no image named {pattern} from owner {owner} in this region")
    best = max(images, key=lambda i: (i.get("CreationDate", ""), i["ImageId"]))
    return {
        "image_id": best["ImageId"],
        "name": best.get("Name", ""),
        "created": best.get("CreationDate", ""),
    }


def now_utc() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)
