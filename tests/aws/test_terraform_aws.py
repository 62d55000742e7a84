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
    assert "operator_cidr" in conditions and ">= 24" in conditions


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


def test_each_instance_gets_its_own_expiry_at_creation(aws_module: dict[str, Any]) -> None:
    """The expiry is computed from the apply's clock for each instance and never planned
    again (ignore_changes), so a host replaced later gets a fresh one; no stack-wide
    expiry resource that a replaced host could inherit."""
    tags = aws_module["locals"]["expiry_tags"]
    assert tags["expiry"] == '${timeadd(timestamp(), "${var.ttl_minutes}m")}'
    assert "var.ttl_minutes" in tags["ttl_minutes"]
    assert "expiry" not in aws_module["resource"].get("terraform_data", {})
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert "local.expiry_tags" in inst["tags"] and "local.expiry_tags" in inst["volume_tags"]
        ignored = inst["lifecycle"][0]["ignore_changes"]
        assert '${tags["expiry"]}' in ignored and '${volume_tags["expiry"]}' in ignored, name
        assert inst["metadata_options"][0]["instance_metadata_tags"] == "enabled", name
        assert inst["metadata_options"][0]["http_tokens"] == "required", name


def test_free_resources_carry_no_expiry(aws_module: dict[str, Any]) -> None:
    for rtype, named in aws_module["resource"].items():
        if rtype in UNTAGGABLE or rtype == "aws_instance":
            continue
        for name, body in named.items():
            assert "expiry" not in str(body.get("tags", "")), f"{rtype}.{name}"


def test_volumes_are_tagged_explicitly(aws_module: dict[str, Any]) -> None:
    for name, inst in aws_module["resource"]["aws_instance"].items():
        tags = inst["volume_tags"]
        for needed in ("local.expiry_tags", "project = var.project", "owner = var.owner"):
            assert needed in tags, f"aws_instance.{name}.volume_tags lacks {needed}"


def test_hosts_terminate_themselves(aws_module: dict[str, Any]) -> None:
    user_data = aws_module["locals"]["user_data"]
    assert "user_data.sh.tftpl" in user_data and "var.ttl_minutes" in user_data
    assert "scripts/expiry-guard.sh" in user_data
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert inst["instance_initiated_shutdown_behavior"] == "terminate", name
        assert inst["user_data"] == "${local.user_data}", name
        assert inst["user_data_replace_on_change"] is True
    ttl = aws_module["variable"]["ttl_minutes"]
    assert ttl["default"] <= 24 * 60 and ttl.get("validation")


def render_user_data(tmp_path: Path, ttl_minutes: int = 95) -> str:
    """The real template rendered by Terraform's own templatefile, with the guard script
    inserted as main.tf does (a scratch folder with no provider)."""
    scratch = tmp_path / "render"
    (scratch / "templates").mkdir(parents=True)
    (scratch / "scripts").mkdir()
    shutil.copy(AWS_DIR / "templates" / "user_data.sh.tftpl", scratch / "templates")
    shutil.copy(AWS_DIR / "scripts" / "expiry-guard.sh", scratch / "scripts")
    (scratch / "main.tf").write_text(
        'output "u" {\n  value = templatefile("${path.module}/templates/user_data.sh.tftpl", '
        f'{{ ttl_minutes = {ttl_minutes}, bench_root = "/opt/x-bench", ssh_user = "admin", '
        'guard_script = trimspace(file("${path.module}/scripts/expiry-guard.sh")) })\n}\n'
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
    return str(json.loads(out.stdout)["u"]["value"])


def test_user_data_arms_the_guard_before_anything_can_fail(tmp_path: Path) -> None:
    """The rendered bootstrap parses, carries the guard script verbatim, enables its boot
    service and runs it before any package work; apt timers are masked, apt retries."""
    script = render_user_data(tmp_path)
    assert script.startswith("#!/bin/sh\n")
    syntax = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    guard = (AWS_DIR / "scripts" / "expiry-guard.sh").read_text().strip()
    assert f"<<'GUARD'\n{guard}\nGUARD\n" in script, "the guard must be inserted verbatim"
    lines = [ln.strip() for ln in script.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "set -eu"
    assert lines[1].startswith("install -d -m 0755 /usr/local/sbin"), "the guard goes first"
    armed = script.index("BENCH_GUARD_TTL_MINUTES=95 /usr/local/sbin/asgi-wsgi-bench-guard")
    assert script.index("systemctl enable asgi-wsgi-bench-guard.service") < armed
    masked = script.index("systemctl mask --now apt-daily.timer apt-daily-upgrade.timer")
    assert armed < masked < script.index("apt_get update")
    assert "unattended-upgrades.service" in script and "Acquire::Retries=5" in script
    assert "WantedBy=multi-user.target" in script
    assert "ExecStart=/usr/bin/systemctl poweroff" in script
    assert "ethtool" in script
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
        ({"operator_cidr": "203.0.0.0/16"}, "operator_cidr is too wide"),
        ({"operator_cidr": "203.0.113.0/23"}, "operator_cidr is too wide"),
        ({"app_instance_type": "m5.xlarge"}, "app_instance_type must be one of"),
        ({"loadgen_instance_type": "c5.2xlarge"}, "loadgen_instance_type must be one of"),
        ({"tenancy": "host"}, "tenancy must be default or dedicated"),
        ({"ami_id": "debian-12"}, "ami_id must be null or an image id"),
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


@pytest.mark.parametrize(
    "variables",
    [
        {"operator_cidr": "203.0.113.7/32", "app_instance_type": "m7i.xlarge"},
        {"operator_cidr": "203.0.113.0/24", "tenancy": "dedicated"},
        {"operator_cidr": "203.0.113.7/32", "ami_id": "ami-0123456789abcdef0", "ssh_agent": "true"},
    ],
)
def test_good_values_pass(
    variables_only: tuple[Path, dict[str, str]], variables: dict[str, str]
) -> None:
    proc = _plan(variables_only, **variables)
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


def test_image_is_resolved_once_and_pinned(aws_module: dict[str, Any]) -> None:
    """No hard-coded AMI; the lookup runs only when ami_id is null, its answer is recorded
    once (ignore_changes) and replaced only when the user sets ami_id."""
    text = "\n".join(p.read_text() for p in AWS_DIR.glob("*.tf"))
    assert not re.search(r"\bami-[0-9a-f]{8,}", text), "no hard-coded AMI id"
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert inst["ami"] == "${local.image_id}", name
    locals_ = aws_module["locals"]
    assert locals_["image_id"] == "${terraform_data.image.output}"
    assert locals_["image_owner"] == DEBIAN_OWNER
    assert locals_["image_name_pattern"] == "debian-12-amd64-*"
    ami = aws_module["data"]["aws_ami"]["debian"]
    assert ami["owners"] == ["${local.image_owner}"]
    assert ami["count"] == "${var.ami_id == null ? 1 : 0}"
    image = aws_module["resource"]["terraform_data"]["image"]
    assert image["input"] == "${coalesce(var.ami_id, one(data.aws_ami.debian[*].id))}"
    assert image["lifecycle"][0]["ignore_changes"] == ["input"]
    assert image["triggers_replace"] == ["${var.ami_id}"]


def test_tenancy_is_a_variable(aws_module: dict[str, Any]) -> None:
    assert aws_module["variable"]["tenancy"]["default"] == "default"
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert inst["tenancy"] == "${var.tenancy}", name


def test_names_cannot_collide_after_an_interrupted_apply(aws_module: dict[str, Any]) -> None:
    """Names an earlier, half-recorded apply may hold are never asked for again: AWS-made
    suffixes, or the creation time kept by ignore_changes."""
    res = aws_module["resource"]
    assert "key_name" not in res["aws_key_pair"]["operator"]
    assert res["aws_key_pair"]["operator"]["key_name_prefix"].endswith("-operator-")
    for name, sg in res["aws_security_group"].items():
        assert "name" not in sg and sg["name_prefix"].endswith("-"), name
    group = res["aws_placement_group"]["bench"]
    assert "timestamp()" in group["name"]
    assert group["lifecycle"][0]["ignore_changes"] == ["name"]


def test_instances_wait_for_the_route_and_the_key_check(aws_module: dict[str, Any]) -> None:
    needed = {
        "${aws_route.internet}",
        "${aws_route_table_association.hosts}",
        "${terraform_data.preflight}",
    }
    for name, inst in aws_module["resource"]["aws_instance"].items():
        assert needed <= set(inst["depends_on"]), name
    preflight = aws_module["resource"]["terraform_data"]["preflight"]
    exec_ = preflight["provisioner"][0]["local-exec"]
    assert exec_["command"].endswith("/scripts/check-key.sh")
    assert set(exec_["environment"]) == {"BENCH_SSH_KEY", "BENCH_SSH_AGENT"}
    ready = aws_module["resource"]["terraform_data"]["host_ready"]
    connection = ready["connection"][0]
    assert connection["agent"] == "${var.ssh_agent}"
    assert "var.ssh_agent ? null" in connection["private_key"]


def test_known_hosts_are_cleared_on_destroy(aws_module: dict[str, Any]) -> None:
    known = aws_module["resource"]["terraform_data"]["known_hosts"]
    exec_ = known["provisioner"][0]["local-exec"]
    assert exec_["when"] == "destroy" and "ssh-keygen -R" in exec_["command"]
    # Destroy-time provisioners may read only self.
    assert all(v.startswith("${") and "self.input" in v for v in exec_["environment"].values())
    assert "public_ip" in str(known["input"]["hosts"])
    assert known["triggers_replace"] == known["input"]["hosts"], "a new address must replace it"


def test_tfvars_are_git_ignored() -> None:
    proc = subprocess.run(
        ["git", "check-ignore", "-q", "infra/aws/terraform.tfvars"],
        cwd=AWS_DIR.parents[1],
        check=False,
    )
    assert proc.returncode == 0, "infra/aws/terraform.tfvars must be git-ignored"
    example = subprocess.run(
        ["git", "check-ignore", "-q", "infra/aws/terraform.tfvars.example"],
        cwd=AWS_DIR.parents[1],
        check=False,
    )
    assert example.returncode == 1, "the example must stay tracked"


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
    assert "upstream_port = var.upstream_port" in loadgen, "the roles read the port from here"
    groups = locals_["inventory"]["all"]["children"]
    assert set(groups) == {"app", "loadgen"}
    inventory_file = aws_module["resource"]["local_file"]["inventory"]
    assert "yamlencode(local.inventory)" in inventory_file["content"]
    assert "inventory/aws.yml" in locals_["inventory_path"]


@pytest.mark.parametrize(
    ("ami_id", "expected"),
    [(None, "ami-0resolved00000"), ("ami-0chosen000000", "ami-0chosen000000")],
)
def test_image_expression_picks_the_variable_or_the_lookup(
    tmp_path: Path, ami_id: str | None, expected: str
) -> None:
    """The image expression of main.tf, run by Terraform with a built-in resource standing
    in for the lookup (same count rule): the lookup only when ami_id is null."""
    main = (AWS_DIR / "main.tf").read_text()
    expression = re.search(r'resource "terraform_data" "image" \{\n\s+input\s+= (.+)\n', main)
    assert expression, "terraform_data.image input not found"
    text = expression.group(1).replace(
        "data.aws_ami.debian[*].id", "terraform_data.lookup[*].output"
    )
    scratch = tmp_path / "image"
    scratch.mkdir()
    (scratch / "main.tf").write_text(
        'variable "ami_id" {\n  type    = string\n  default = null\n}\n'
        'resource "terraform_data" "lookup" {\n  count = var.ami_id == null ? 1 : 0\n'
        '  input = "ami-0resolved00000"\n}\n'
        f'output "image" {{\n  value = {text}\n}}\n'
    )
    env = _tf_env(tmp_path)
    args = [] if ami_id is None else [f"-var=ami_id={ami_id}"]
    for step in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false", *args]):
        proc = subprocess.run(
            [TERRAFORM or "terraform", f"-chdir={scratch}", *step],
            capture_output=True, text=True, timeout=120, env=env, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
    out = subprocess.run(
        [TERRAFORM or "terraform", f"-chdir={scratch}", "output", "-raw", "image"],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    )  # fmt: skip
    assert out.stdout == expected
