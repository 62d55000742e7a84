"""infra/aws without the cloud: format, structure (python-hcl2) and, in scratch folders that
need no provider, the real behaviour of its variable validations and bootstrap template.

`terraform init` never runs in infra/aws (it would download the AWS provider).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runner.aws import instance_type_specs
from tests.aws.awshelp import AWS_DIR, LOCAL_DIR, load_module

TERRAFORM = shutil.which("terraform")
DEBIAN_OWNER = "136693071363"
# Resource types of the AWS provider that take no tags, plus Terraform's built-ins.
UNTAGGABLE = {"aws_route", "aws_route_table_association", "terraform_data", "local_file"}
CONTRACT_HOST_VARS = {
    "ansible_host",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "private_address",
    "bench_root",
    "machine_class",
}


def _tf_env(tmp_path: Path) -> dict[str, str]:
    """Terraform without the user's CLI config or plugin cache, and no prompts."""
    cfg = tmp_path / "terraformrc"
    cfg.write_text("")
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TF_CLI_CONFIG_FILE": str(cfg),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }


def _rules(module: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return module["resource"].get(f"aws_vpc_security_group_{kind}_rule", {})


# ---------------------------------------------------------------------------------------
# Format and layout
# ---------------------------------------------------------------------------------------


def test_terraform_fmt_check_passes(tmp_path: Path) -> None:
    assert TERRAFORM, "terraform is not installed: run `make setup`"
    proc = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-recursive", "-diff", str(AWS_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        env=_tf_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, f"terraform fmt would change:\n{proc.stdout}{proc.stderr}"


def test_module_has_the_four_files() -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (AWS_DIR / name).is_file(), f"infra/aws/{name} missing"


def test_aws_provider_is_pinned(aws_module: dict[str, Any]) -> None:
    required = aws_module["terraform"][0]["required_providers"][0]
    assert required["aws"]["source"] == "hashicorp/aws"
    assert re.fullmatch(r"~> \d+\.\d+\.\d+|= ?\d+\.\d+\.\d+", required["aws"]["version"])
    assert "required_version" in aws_module["terraform"][0]


def test_every_variable_has_type_and_description(aws_module: dict[str, Any]) -> None:
    for name, body in aws_module["variable"].items():
        assert body.get("type"), f"variable {name} has no type"
        assert body.get("description"), f"variable {name} has no description"


# ---------------------------------------------------------------------------------------
# Security groups: SSH from the operator only, app port from the load generators only
# ---------------------------------------------------------------------------------------


def test_operator_cidr_has_no_default_and_is_validated(aws_module: dict[str, Any]) -> None:
    var = aws_module["variable"]["operator_cidr"]
    assert "default" not in var, "operator_cidr must have no default"
    conditions = " ".join(v["condition"] for v in var.get("validation", []))
    assert "operator_cidr" in conditions and ">= 16" in conditions


def test_no_open_cidr_anywhere_inbound(aws_module: dict[str, Any]) -> None:
    text = "\n".join(p.read_text() for p in AWS_DIR.glob("*.tf"))
    assert "aws_security_group_rule" not in text, "use the per-rule resources only"
    for name, sg in aws_module["resource"]["aws_security_group"].items():
        assert "ingress" not in sg, f"security group {name} has inline ingress rules"
    for name, rule in _rules(aws_module, "ingress").items():
        assert rule.get("cidr_ipv4") != "0.0.0.0/0", f"ingress rule {name} is open to the world"
        assert "cidr_ipv6" not in rule, f"ingress rule {name} opens IPv6"


def test_ssh_only_from_the_operator_cidr(aws_module: dict[str, Any]) -> None:
    ssh = {n: r for n, r in _rules(aws_module, "ingress").items() if r.get("from_port") == 22}
    assert {r["security_group_id"] for r in ssh.values()} == {
        "${aws_security_group.app.id}",
        "${aws_security_group.loadgen.id}",
    }
    for name, rule in ssh.items():
        assert rule["cidr_ipv4"] == "${var.operator_cidr}", f"{name}: SSH not from operator_cidr"
        assert rule["to_port"] == 22 and rule["ip_protocol"] == "tcp"


def test_exactly_the_expected_inbound_rules(aws_module: dict[str, Any]) -> None:
    """Nothing else inbound: SSH x2, the app port from the loadgen SG, the upstream port
    from the app SG."""
    seen = set()
    for rule in _rules(aws_module, "ingress").values():
        source = rule.get("cidr_ipv4") or rule.get("referenced_security_group_id")
        seen.add((rule["security_group_id"], str(rule["from_port"]), str(rule["to_port"]), source))
    assert seen == {
        ("${aws_security_group.app.id}", "22", "22", "${var.operator_cidr}"),
        ("${aws_security_group.loadgen.id}", "22", "22", "${var.operator_cidr}"),
        (
            "${aws_security_group.app.id}",
            "${var.app_port}",
            "${var.app_port}",
            "${aws_security_group.loadgen.id}",
        ),
        (
            "${aws_security_group.loadgen.id}",
            "${var.upstream_port}",
            "${var.upstream_port}",
            "${aws_security_group.app.id}",
        ),
    }


def test_hosts_sit_in_their_own_security_groups(aws_module: dict[str, Any]) -> None:
    instances = aws_module["resource"]["aws_instance"]
    assert instances["app"]["vpc_security_group_ids"] == ["${aws_security_group.app.id}"]
    assert instances["loadgen"]["vpc_security_group_ids"] == ["${aws_security_group.loadgen.id}"]
    for sg in aws_module["resource"]["aws_security_group"].values():
        assert sg["vpc_id"] == "${aws_vpc.bench.id}", "security groups belong to the stack's VPC"


# ---------------------------------------------------------------------------------------
# Cost guard: tags everywhere, TTL self-termination
# ---------------------------------------------------------------------------------------


def test_default_tags_carry_project_and_owner(aws_module: dict[str, Any]) -> None:
    provider = aws_module["provider"][0]["aws"]
    tags = provider["default_tags"][0]["tags"]
    assert tags["project"] == "${var.project}"
    assert tags["owner"] == "${var.owner}"


def test_every_taggable_resource_carries_the_expiry(aws_module: dict[str, Any]) -> None:
    assert aws_module["locals"]["expiry_tags"] == {"expiry": "${terraform_data.expiry.output}"}
    untagged = []
    for rtype, named in aws_module["resource"].items():
        if rtype in UNTAGGABLE:
            continue
        for name, body in named.items():
            if "local.expiry_tags" not in str(body.get("tags", "")):
                untagged.append(f"{rtype}.{name}")
    assert not untagged, f"resources without the expiry tag: {untagged}"


def test_volumes_are_tagged_explicitly(aws_module: dict[str, Any]) -> None:
    for name, inst in aws_module["resource"]["aws_instance"].items():
        tags = inst["volume_tags"]
        for needed in ("local.expiry_tags", "project = var.project", "owner = var.owner"):
            assert needed in tags, f"aws_instance.{name}.volume_tags lacks {needed}"


def test_hosts_terminate_themselves(aws_module: dict[str, Any]) -> None:
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert inst["instance_initiated_shutdown_behavior"] == "terminate", name
        assert "user_data.sh.tftpl" in inst["user_data"] and "var.ttl_minutes" in inst["user_data"]
        assert inst["user_data_replace_on_change"] is True
    ttl = aws_module["variable"]["ttl_minutes"]
    assert ttl["default"] <= 24 * 60 and ttl.get("validation")


def test_user_data_renders_and_shuts_down_before_anything_can_fail(tmp_path: Path) -> None:
    """Render the real template with Terraform's own templatefile (a scratch folder with no
    provider), then check the script parses and arms the shutdown first."""
    scratch = tmp_path / "render"
    scratch.mkdir()
    shutil.copy(AWS_DIR / "templates" / "user_data.sh.tftpl", scratch / "t.tftpl")
    (scratch / "main.tf").write_text(
        'output "u" {\n  value = templatefile("${path.module}/t.tftpl", '
        '{ ttl_minutes = 95, bench_root = "/opt/x-bench", ssh_user = "admin" })\n}\n'
    )
    env = _tf_env(tmp_path)
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        proc = subprocess.run(
            [TERRAFORM or "terraform", f"-chdir={scratch}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    out = subprocess.run(
        [TERRAFORM or "terraform", f"-chdir={scratch}", "output", "-json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    script = json.loads(out.stdout)["u"]["value"]
    assert script.startswith("#!/bin/sh\n")
    syntax = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    lines = [ln.strip() for ln in script.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "set -eu"
    assert lines[1].startswith("shutdown -P +95 "), "the TTL must be armed first"
    assert "install -d -o admin -g admin -m 0755 /opt/x-bench" in script
    assert script.rstrip().endswith("touch /var/lib/asgi-wsgi-bench/ready")


# ---------------------------------------------------------------------------------------
# Variables: validations checked by Terraform itself (scratch copy of variables.tf)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def variables_only(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A scratch module holding only infra/aws/variables.tf: `terraform plan` there needs no
    provider, so it checks the validations for real."""
    tmp = tmp_path_factory.mktemp("tfvars")
    scratch = tmp / "vars"
    scratch.mkdir()
    shutil.copy(AWS_DIR / "variables.tf", scratch / "variables.tf")
    env = _tf_env(tmp)
    subprocess.run(
        [TERRAFORM or "terraform", f"-chdir={scratch}", "init", "-input=false"],
        capture_output=True,
        timeout=120,
        env=env,
        check=True,
    )
    return scratch, env


def _plan(scratch: tuple[Path, dict[str, str]], **variables: str) -> subprocess.CompletedProcess:
    folder, env = scratch
    args = [f"-var={k}={v}" for k, v in {"owner": "ci", **variables}.items()]
    return subprocess.run(
        [TERRAFORM or "terraform", f"-chdir={folder}", "plan", "-input=false", "-no-color", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"operator_cidr": "0.0.0.0/0"}, "operator_cidr is too wide"),
        ({"operator_cidr": "10.0.0.0/8"}, "operator_cidr is too wide"),
        ({"operator_cidr": "not-a-cidr"}, "operator_cidr must be an IPv4 CIDR"),
        ({"operator_cidr": "::/0"}, "operator_cidr must be an IPv4 CIDR"),
        ({"app_instance_type": "c5.xlarge"}, "app_instance_type must be one of"),
        ({"app_instance_type": "t3.xlarge"}, "app_instance_type must be one of"),
        ({"loadgen_instance_type": "t3.2xlarge"}, "loadgen_instance_type must be one of"),
        ({"loadgen_count": "0"}, "loadgen_count must be a whole number from 1 to 4"),
        ({"ttl_minutes": "5000"}, "ttl_minutes must be a whole number from 30 to 1440"),
        ({"upstream_port": "8000"}, "different from app_port"),
        ({"bench_root": "/opt"}, "bench_root must be an absolute path of its own"),
        ({"ssh_public_key_path": "~/.ssh/id_ed25519"}, "must name a public key file"),
    ],
)
def test_bad_values_are_refused_by_terraform(
    variables_only: tuple[Path, dict[str, str]], variables: dict[str, str], message: str
) -> None:
    proc = _plan(variables_only, **{"operator_cidr": "203.0.113.7/32", **variables})
    assert proc.returncode != 0
    assert message in " ".join(proc.stdout.split() + proc.stderr.split())


def test_operator_cidr_is_required(variables_only: tuple[Path, dict[str, str]]) -> None:
    proc = _plan(variables_only)
    assert proc.returncode != 0
    assert "No value for required variable" in proc.stdout + proc.stderr


def test_good_values_pass(variables_only: tuple[Path, dict[str, str]]) -> None:
    proc = _plan(variables_only, operator_cidr="203.0.113.7/32", app_instance_type="m6i.xlarge")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------------------------------
# Machines: the original laptop's class, a larger load generator, one zone
# ---------------------------------------------------------------------------------------


def _allowed(aws_module: dict[str, Any], variable: str) -> list[str]:
    var = aws_module["variable"][variable]
    condition = var["validation"][0]["condition"]
    allowed = re.findall(r'"([a-z0-9]+\.[0-9]*x?large)"', condition)
    assert allowed and var["default"] in allowed
    return allowed


def test_allowed_app_types_match_the_original_laptop(aws_module: dict[str, Any], ec2: Any) -> None:
    """Each allowed app type is 4 vCPUs on 2 cores, >= 11.6 GiB, not burstable, per
    DescribeInstanceTypes (moto's copy of AWS's catalogue)."""
    specs = instance_type_specs(ec2, _allowed(aws_module, "app_instance_type"))
    for name, spec in specs.items():
        assert spec.matches_original_class(), f"{name} is not the original laptop's class"
        assert spec.processor == "Intel", name


def test_allowed_loadgen_types_are_larger_and_fixed(aws_module: dict[str, Any], ec2: Any) -> None:
    app_specs = instance_type_specs(ec2, _allowed(aws_module, "app_instance_type"))
    specs = instance_type_specs(ec2, _allowed(aws_module, "loadgen_instance_type"))
    biggest_app = max(s.vcpus for s in app_specs.values())
    for name, spec in specs.items():
        assert spec.vcpus > biggest_app and not spec.burstable, name


def test_spec_table_in_main_tf_agrees_with_ec2(aws_module: dict[str, Any], ec2: Any) -> None:
    table = aws_module["locals"]["instance_specs"]
    allowed = _allowed(aws_module, "app_instance_type") + _allowed(
        aws_module, "loadgen_instance_type"
    )
    assert set(allowed) <= set(table)
    specs = instance_type_specs(ec2, allowed)
    for name in allowed:
        row, spec = table[name], specs[name]
        assert (row["cpus"], row["cores"], row["threads_per_core"], row["memory_mib"]) == (
            spec.vcpus,
            spec.cores,
            spec.threads_per_core,
            spec.memory_mib,
        ), name


def test_one_zone_and_a_cluster_placement_group(aws_module: dict[str, Any]) -> None:
    groups = aws_module["resource"]["aws_placement_group"]
    assert [g["strategy"] for g in groups.values()] == ["cluster"]
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert inst["placement_group"] == "${aws_placement_group.bench.name}", name
        assert inst["subnet_id"] == "${aws_subnet.hosts.id}", name
    assert aws_module["resource"]["aws_instance"]["loadgen"]["count"] == "${var.loadgen_count}"


def test_image_comes_from_a_pinned_debian_12_lookup(aws_module: dict[str, Any]) -> None:
    text = "\n".join(p.read_text() for p in AWS_DIR.glob("*.tf"))
    assert not re.search(r"\bami-[0-9a-f]{8,}", text), "no hard-coded AMI id"
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert inst["ami"] == "${data.aws_ami.debian.id}", name
    locals_ = aws_module["locals"]
    assert locals_["image_owner"] == DEBIAN_OWNER
    assert locals_["image_name_pattern"] == "debian-12-amd64-*"
    ami = aws_module["data"]["aws_ami"]["debian"]
    assert ami["owners"] == ["${local.image_owner}"] and ami["most_recent"] is True


# ---------------------------------------------------------------------------------------
# Outputs and the inventory contract
# ---------------------------------------------------------------------------------------


def test_outputs_are_described(aws_module: dict[str, Any]) -> None:
    assert set(aws_module["output"]) >= {"app_hosts", "loadgen_hosts", "inventory_path"}
    for name, body in aws_module["output"].items():
        assert body.get("description"), f"output {name} has no description"


def test_outputs_have_the_names_of_infra_local(aws_module: dict[str, Any]) -> None:
    local_outputs = LOCAL_DIR / "outputs.tf"
    if not local_outputs.is_file():
        pytest.skip("infra/local/outputs.tf does not exist yet: nothing to compare names with")
    local = load_module(LOCAL_DIR)
    assert set(aws_module["output"]) == set(local["output"])


def test_inventory_has_the_contract_variables(aws_module: dict[str, Any]) -> None:
    locals_ = aws_module["locals"]
    app = next(iter(locals_["app_hosts"].values()))
    assert set(app) >= CONTRACT_HOST_VARS | {"app_port"}
    assert set(app["machine_class"]) == {"name", "cpus", "memory_mib"}
    loadgen = locals_["loadgen_hosts"]  # a for expression: check it by its text
    for var in CONTRACT_HOST_VARS | {"name", "cpus", "memory_mib"}:
        assert f"{var} =" in loadgen, f"loadgen hosts lack {var}"
    assert "app_port" not in loadgen
    groups = locals_["inventory"]["all"]["children"]
    assert set(groups) == {"app", "loadgen"}
    inventory_file = aws_module["resource"]["local_file"]["inventory"]
    assert "yamlencode(local.inventory)" in inventory_file["content"]
    assert "inventory/aws.yml" in locals_["inventory_path"]
