"""Helpers for the AWS tests: infra/aws parsed with python-hcl2, a scrubbed environment
that can only reach moto, and fake instances."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
AWS_DIR = ROOT / "infra" / "aws"
LOCAL_DIR = ROOT / "infra" / "local"
REGION = "us-east-1"
# One of the images moto ships in every region (listing them all is slow).
MOTO_IMAGE_ID = "ami-12c6146b"

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}
_HCL_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)


def load_hcl(path: Path) -> dict[str, Any]:
    """One .tf file as python-hcl2 sees it, without comments and quotes around names."""
    with path.open(encoding="utf-8") as fh:
        return hcl2.load(fh, serialization_options=_HCL_OPTIONS)


def load_module(folder: Path) -> dict[str, Any]:
    """Every .tf file of a module merged: {'resource': {type: {name: body}}, 'data': ...,
    'variable': {name: body}, 'output': {name: body}, 'locals': {name: value},
    'provider': [...], 'terraform': [...]}."""
    merged: dict[str, Any] = {
        "resource": {},
        "data": {},
        "variable": {},
        "output": {},
        "locals": {},
        "provider": [],
        "terraform": [],
    }
    for path in sorted(folder.glob("*.tf")):
        doc = load_hcl(path)
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    merged[kind].setdefault(rtype, {}).update(named)
        for kind in ("variable", "output"):
            for block in doc.get(kind, []):
                merged[kind].update(block)
        for block in doc.get("locals", []):
            merged["locals"].update(block)
        merged["provider"] += doc.get("provider", [])
        merged["terraform"] += doc.get("terraform", [])
    return merged


def scrubbed_env(extra: dict[str, str]) -> dict[str, str]:
    """os.environ without any AWS_* setting of the caller, plus the fake ones and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_AWS_ENV)
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_instance(ec2_client: Any, tags: dict[str, str], instance_type: str = "m5.xlarge") -> str:
    """Launch one fake instance with these tags on moto; its id."""
    reply = ec2_client.run_instances(
        ImageId=MOTO_IMAGE_ID,
        MinCount=1,
        MaxCount=1,
        InstanceType=instance_type,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ],
    )
    return str(reply["Instances"][0]["InstanceId"])


def instance_state(ec2_client: Any, instance_id: str) -> str:
    """The state name (running, terminated...) of one instance."""
    reply = ec2_client.describe_instances(InstanceIds=[instance_id])
    return str(reply["Reservations"][0]["Instances"][0]["State"]["Name"])
