"""Per-host metadata of a run: what identifies the machine beyond its instance type.

On every host: CPU model, microcode revision, clocksource, kernel. On an EC2 host
(inventory `bench_cloud: aws`) also, from the instance metadata service (IMDSv2): instance
id, type, image, availability zone and its ID (zone names differ per account; IDs do not).
One shell command per host; its `key=value` output is parsed by a pure function.
"""

from __future__ import annotations

IMDS = "http://169.254.169.254"

# IMDS paths under /latest/meta-data/ and the keys they are recorded as.
IMDS_KEYS = {
    "instance-id": "instance_id",
    "instance-type": "instance_type",
    "ami-id": "ami_id",
    "placement/availability-zone": "availability_zone",
    "placement/availability-zone-id": "availability_zone_id",
    "placement/region": "region",
}

_LOCAL = (
    "printf 'cpu_model=%s\\n' \"$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2-)\"; "
    "printf 'microcode=%s\\n' \"$(grep -m1 '^microcode' /proc/cpuinfo | cut -d: -f2-)\"; "
    "printf 'clocksource=%s\\n' "
    '"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"; '
    "printf 'kernel=%s\\n' \"$(uname -r)\""
)


def command(cloud: str = "", imds: str = IMDS) -> str:
    """The shell command that prints this host's metadata as key=value lines. The IMDS
    part runs only for cloud == 'aws' (a local host never sends anything to 169.254/16)."""
    if cloud != "aws":
        return _LOCAL
    reads = " ".join(
        f'printf \'imds.{key}=%s\\n\' "$(curl -sf -m 2 -H "X-aws-ec2-metadata-token: $t" '
        f'{imds}/latest/meta-data/{path})";'
        for path, key in IMDS_KEYS.items()
    )
    token = (
        f"t=$(curl -sf -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "
        f"{imds}/latest/api/token);"
    )
    return f"{_LOCAL}; {token} {reads} true"


def parse(text: str) -> dict[str, str | None]:
    """The command's output as a mapping; empty values become None, `imds.` is dropped."""
    meta: dict[str, str | None] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            continue
        key = key.strip().removeprefix("imds.")
        meta[key] = value.strip() or None
    return meta
