"""Checks of an AWS run that must pass before any instance exists: the SSH key (no
passphrase, or loaded in the agent), the region, and the instance types offered there.
Each failure is one line saying what is wrong and how to fix it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from runner.aws import AwsError, instance_type_specs, zones_offering

ROOT = Path(__file__).resolve().parents[1]
CHECK_KEY = ROOT / "infra" / "aws" / "scripts" / "check-key.sh"
# infra/aws/variables.tf defaults, used when no TF_VAR_* overrides them.
DEFAULTS = {
    "region": "",  # none: AWS_REGION decides (runner.aws.region_from_env)
    "ssh_private_key_path": "~/.ssh/id_ed25519",
    "ssh_agent": "false",
    "app_instance_type": "m6i.xlarge",
    "loadgen_instance_type": "c6i.2xlarge",
}


class PreflightError(Exception):
    """A check failed; the message is the one line to show."""


def tf_var(name: str, env: dict[str, str] | None = None) -> str:
    """A variable of infra/aws as Terraform will see it from the environment (TF_VAR_*),
    else its default. terraform.tfvars is Terraform's business and not read here."""
    source = os.environ if env is None else env
    return source.get(f"TF_VAR_{name}") or DEFAULTS[name]


def check_key(key_path: str, agent: bool, env: dict[str, str] | None = None) -> None:
    """The private key opens without a passphrase, or (agent) the agent holds it: the
    same script Terraform's pre-flight runs, so both say the same thing."""
    proc = subprocess.run(
        [str(CHECK_KEY)],
        env={
            **(os.environ if env is None else env),
            "BENCH_SSH_KEY": os.path.expanduser(key_path),
            "BENCH_SSH_AGENT": "true" if agent else "false",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if proc.returncode != 0:
        raise PreflightError(
            proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"the SSH key check failed for {key_path}"
        )


def check_types(ec2_client: Any, region: str, types: list[str]) -> None:
    """Each type exists, and some zone of `region` offers all of them (infra/aws puts
    every host in one zone)."""
    try:
        instance_type_specs(ec2_client, types)
        zones = [set(zones_offering(ec2_client, t)) for t in types]
    except AwsError as exc:
        raise PreflightError(str(exc)) from None
    for itype, offered in zip(types, zones, strict=True):
        if not offered:
            raise PreflightError(
                f"region {region} does not offer {itype}: pick another region or type"
            )
    if not set.intersection(*zones):
        raise PreflightError(
            f"no zone of {region} offers all of {', '.join(types)}: pick other types or region"
        )
