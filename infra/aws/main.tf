# The AWS stack: one app host of the original laptop's class and N larger load-generator
# hosts, in one zone and one cluster placement group, in a VPC of their own. It writes
# inventory/aws.yml in the same contract as infra/local, so deploy and runner do not change.

locals {
  # Specs of the allowed types (AWS documentation); memory_mib goes into the inventory's
  # machine_class and into a tag for inventory/aws_ec2.yml, since DescribeInstances does
  # not return memory. runner/aws.py records the live figures from DescribeInstanceTypes.
  instance_specs = {
    "m6i.xlarge"  = { cpus = 4, cores = 2, threads_per_core = 2, memory_mib = 16384 }
    "m7i.xlarge"  = { cpus = 4, cores = 2, threads_per_core = 2, memory_mib = 16384 }
    "c6i.2xlarge" = { cpus = 8, cores = 4, threads_per_core = 2, memory_mib = 16384 }
    "c7i.2xlarge" = { cpus = 8, cores = 4, threads_per_core = 2, memory_mib = 16384 }
    "c6i.4xlarge" = { cpus = 16, cores = 8, threads_per_core = 2, memory_mib = 32768 }
    "c7i.4xlarge" = { cpus = 16, cores = 8, threads_per_core = 2, memory_mib = 32768 }
  }
  app_spec     = local.instance_specs[var.app_instance_type]
  loadgen_spec = local.instance_specs[var.loadgen_instance_type]

  # Debian 12 "bookworm", official images published by the Debian cloud team under this
  # AWS account (https://wiki.debian.org/Cloud/AmazonEC2Image). Its Python is 3.11, the
  # one the wheelhouse is built for; its login user is `admin`.
  image_owner        = "136693071363"
  image_name_pattern = "debian-12-amd64-*"
  ssh_user           = "admin"

  public_key     = trimspace(var.ssh_public_key != null ? var.ssh_public_key : try(file(pathexpand(var.ssh_public_key_path)), ""))
  inventory_path = coalesce(var.inventory_path, abspath("${path.module}/../../inventory/aws.yml"))
  state_dir      = abspath("${path.module}/.state")

  # First zone of the region that offers both types (the cluster placement group keeps
  # every host in one zone anyway; this only avoids a zone that lacks one of the types).
  common_zones = sort(setintersection(
    toset(data.aws_ec2_instance_type_offerings.app.locations),
    toset(data.aws_ec2_instance_type_offerings.loadgen.locations),
  ))
  zone = coalesce(var.availability_zone, try(local.common_zones[0], "none"))

  # Cost guard: each instance (and its volumes) gets its own expiry when it is created:
  # timestamp() is read at apply time and ignore_changes keeps that first value, so a host
  # replaced later gets a fresh expiry instead of inheriting the stack's. The hosts' guard
  # reads it at every boot (IMDS tags); the reaper compares it, and the ttl_minutes tag,
  # with the instance's launch time.
  expiry_tags = {
    expiry      = timeadd(timestamp(), "${var.ttl_minutes}m")
    ttl_minutes = tostring(var.ttl_minutes)
  }

  # Everything a host's bootstrap needs; the guard script is inserted verbatim.
  user_data = templatefile("${path.module}/templates/user_data.sh.tftpl", {
    ttl_minutes  = var.ttl_minutes
    bench_root   = var.bench_root
    ssh_user     = local.ssh_user
    guard_script = trimspace(file("${path.module}/scripts/expiry-guard.sh"))
  })

  # The image every host boots: the variable when set, else the lookup's answer recorded
  # once in terraform_data.image (see there).
  image_id = terraform_data.image.output

  host_names = merge(
    { app = "${var.name_prefix}-app" },
    { for i in range(var.loadgen_count) : "lg${i + 1}" => "${var.name_prefix}-lg${i + 1}" },
  )
}

# ---------------------------------------------------------------------------------------
# Lookups: image and zone
# ---------------------------------------------------------------------------------------

data "aws_ami" "debian" {
  count = var.ami_id == null ? 1 : 0

  most_recent = true
  owners      = [local.image_owner]

  filter {
    name   = "name"
    values = [local.image_name_pattern]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
  filter {
    name   = "root-device-type"
    values = ["ebs"]
  }
}

data "aws_ec2_instance_type_offerings" "app" {
  location_type = "availability-zone"
  filter {
    name   = "instance-type"
    values = [var.app_instance_type]
  }
}

data "aws_ec2_instance_type_offerings" "loadgen" {
  location_type = "availability-zone"
  filter {
    name   = "instance-type"
    values = [var.loadgen_instance_type]
  }
}

# ---------------------------------------------------------------------------------------
# Pinned image and pre-flight checks
# ---------------------------------------------------------------------------------------

# The image, resolved once: the lookup's newest Debian 12 is recorded here at the first
# apply and kept (ignore_changes), so a new Debian release never replaces the hosts. A new
# image only when asked: set ami_id (fab aws-ami prints the newest), or
# terraform apply -replace=terraform_data.image.
resource "terraform_data" "image" {
  input            = coalesce(var.ami_id, one(data.aws_ami.debian[*].id))
  triggers_replace = [var.ami_id]

  lifecycle {
    ignore_changes = [input]
  }
}

# Before any instance exists: the private key Terraform and the runner will use must be
# unencrypted, or loaded in the agent when ssh_agent = true (one clear line otherwise).
resource "terraform_data" "preflight" {
  triggers_replace = [var.ssh_private_key_path, var.ssh_agent]

  provisioner "local-exec" {
    command = "${path.module}/scripts/check-key.sh"
    environment = {
      BENCH_SSH_KEY   = pathexpand(var.ssh_private_key_path)
      BENCH_SSH_AGENT = tostring(var.ssh_agent)
    }
  }
}

# ---------------------------------------------------------------------------------------
# Network: own VPC, one public subnet in the chosen zone, internet gateway for SSH
# ---------------------------------------------------------------------------------------

resource "aws_vpc" "bench" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "${var.name_prefix}-vpc" }
}

resource "aws_internet_gateway" "bench" {
  vpc_id = aws_vpc.bench.id
  tags   = { Name = "${var.name_prefix}-igw" }
}

resource "aws_subnet" "hosts" {
  vpc_id                  = aws_vpc.bench.id
  cidr_block              = cidrsubnet(var.vpc_cidr, 24 - tonumber(split("/", var.vpc_cidr)[1]), 0)
  availability_zone       = local.zone
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name_prefix}-hosts" }

  lifecycle {
    precondition {
      condition     = local.zone != "none"
      error_message = "No availability zone of ${var.region} offers both ${var.app_instance_type} and ${var.loadgen_instance_type}: pick other types or another region."
    }
  }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.bench.id
  tags   = { Name = "${var.name_prefix}-public" }
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.bench.id
}

resource "aws_route_table_association" "hosts" {
  subnet_id      = aws_subnet.hosts.id
  route_table_id = aws_route_table.public.id
}

# ---------------------------------------------------------------------------------------
# Security groups: SSH from the operator only; app port from the load generators only;
# upstream port from the app host only; nothing else inbound
# ---------------------------------------------------------------------------------------

# name_prefix: AWS appends a unique suffix at creation, so a group left behind by an
# interrupted apply never makes the next one fail with "Duplicate".
resource "aws_security_group" "app" {
  name_prefix = "${var.name_prefix}-app-"
  description = "asgi-wsgi-bench app host: SSH from the operator, app port from the load generators"
  vpc_id      = aws_vpc.bench.id
  tags        = { Name = "${var.name_prefix}-app" }
}

resource "aws_security_group" "loadgen" {
  name_prefix = "${var.name_prefix}-loadgen-"
  description = "asgi-wsgi-bench load generators: SSH from the operator, upstream port from the app host"
  vpc_id      = aws_vpc.bench.id
  tags        = { Name = "${var.name_prefix}-loadgen" }
}

resource "aws_vpc_security_group_ingress_rule" "app_ssh" {
  security_group_id = aws_security_group.app.id
  description       = "SSH from the operator"
  cidr_ipv4         = var.operator_cidr
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  tags              = { Name = "${var.name_prefix}-app-ssh" }
}

resource "aws_vpc_security_group_ingress_rule" "app_port" {
  security_group_id            = aws_security_group.app.id
  description                  = "The app, from the load generators only"
  referenced_security_group_id = aws_security_group.loadgen.id
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  tags                         = { Name = "${var.name_prefix}-app-port" }
}

resource "aws_vpc_security_group_ingress_rule" "loadgen_ssh" {
  security_group_id = aws_security_group.loadgen.id
  description       = "SSH from the operator"
  cidr_ipv4         = var.operator_cidr
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  tags              = { Name = "${var.name_prefix}-loadgen-ssh" }
}

resource "aws_vpc_security_group_ingress_rule" "loadgen_upstream" {
  security_group_id            = aws_security_group.loadgen.id
  description                  = "The io scenario's upstream delay server, from the app host only"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = var.upstream_port
  to_port                      = var.upstream_port
  tags                         = { Name = "${var.name_prefix}-loadgen-upstream" }
}

# Outbound stays open: the bootstrap installs Debian packages, and the hosts answer the
# load generators and each other. Security groups are stateful, so this opens nothing inbound.
resource "aws_vpc_security_group_egress_rule" "app_out" {
  security_group_id = aws_security_group.app.id
  description       = "All outbound (Debian mirrors, replies)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
  tags              = { Name = "${var.name_prefix}-app-out" }
}

resource "aws_vpc_security_group_egress_rule" "loadgen_out" {
  security_group_id = aws_security_group.loadgen.id
  description       = "All outbound (Debian mirrors, load to the app)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
  tags              = { Name = "${var.name_prefix}-loadgen-out" }
}

# ---------------------------------------------------------------------------------------
# Hosts: key pair, cluster placement group, app host, load generators
# ---------------------------------------------------------------------------------------

# key_name_prefix, and the placement group's creation-time suffix below: names that an
# earlier, interrupted apply cannot have taken already.
resource "aws_key_pair" "operator" {
  key_name_prefix = "${var.name_prefix}-operator-"
  public_key      = local.public_key
  tags            = { Name = "${var.name_prefix}-operator" }

  lifecycle {
    precondition {
      condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) ", local.public_key))
      error_message = "No usable SSH public key: set ssh_public_key, or ssh_public_key_path to an existing .pub file (ssh-keygen -t ed25519 makes one)."
    }
  }
}

# Cluster: every host on the same network spine in one zone, the lowest and steadiest
# latency between load generator and app that EC2 offers.
resource "aws_placement_group" "bench" {
  name     = "${var.name_prefix}-cluster-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  strategy = "cluster"
  tags     = { Name = "${var.name_prefix}-cluster" }

  lifecycle {
    ignore_changes = [name]
  }
}

resource "aws_instance" "app" {
  ami                                  = local.image_id
  instance_type                        = var.app_instance_type
  subnet_id                            = aws_subnet.hosts.id
  vpc_security_group_ids               = [aws_security_group.app.id]
  associate_public_ip_address          = true
  key_name                             = aws_key_pair.operator.key_name
  placement_group                      = aws_placement_group.bench.name
  instance_initiated_shutdown_behavior = "terminate"
  user_data_replace_on_change          = true
  user_data                            = local.user_data
  tenancy                              = var.tenancy

  # The original laptop's topology, written out: 2 physical cores, 2 threads each.
  cpu_options {
    core_count       = local.app_spec.cores
    threads_per_core = local.app_spec.threads_per_core
  }

  # IMDSv2 only; instance tags readable from IMDS, where the guard reads the expiry.
  metadata_options {
    http_endpoint          = "enabled"
    http_tokens            = "required"
    instance_metadata_tags = "enabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gib
    encrypted             = true
    delete_on_termination = true
  }

  # Set at creation (default_tags reach volume_tags only from provider 5.39, so the
  # project and owner are repeated here on purpose).
  volume_tags = merge(local.expiry_tags, {
    Name    = local.host_names["app"]
    project = var.project
    owner   = var.owner
  })

  # The expiry is set when the instance is created and never planned again; the route
  # exists before the bootstrap needs the mirrors, and the key was checked first.
  lifecycle {
    ignore_changes = [tags["expiry"], volume_tags["expiry"]]
  }
  depends_on = [aws_route.internet, aws_route_table_association.hosts, terraform_data.preflight]

  tags = merge(local.expiry_tags, {
    Name               = local.host_names["app"]
    role               = "app"
    bench_root         = var.bench_root
    ansible_user       = local.ssh_user
    app_port           = tostring(var.app_port)
    machine_cpus       = tostring(local.app_spec.cpus)
    machine_memory_mib = tostring(local.app_spec.memory_mib)
  })
}

resource "aws_instance" "loadgen" {
  count = var.loadgen_count

  ami                                  = local.image_id
  instance_type                        = var.loadgen_instance_type
  subnet_id                            = aws_subnet.hosts.id
  vpc_security_group_ids               = [aws_security_group.loadgen.id]
  associate_public_ip_address          = true
  key_name                             = aws_key_pair.operator.key_name
  placement_group                      = aws_placement_group.bench.name
  instance_initiated_shutdown_behavior = "terminate"
  user_data_replace_on_change          = true
  user_data                            = local.user_data
  tenancy                              = var.tenancy

  # IMDSv2 only; instance tags readable from IMDS, where the guard reads the expiry.
  metadata_options {
    http_endpoint          = "enabled"
    http_tokens            = "required"
    instance_metadata_tags = "enabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gib
    encrypted             = true
    delete_on_termination = true
  }

  volume_tags = merge(local.expiry_tags, {
    Name    = local.host_names["lg${count.index + 1}"]
    project = var.project
    owner   = var.owner
  })

  # The expiry is set when the instance is created and never planned again; the route
  # exists before the bootstrap needs the mirrors, and the key was checked first.
  lifecycle {
    ignore_changes = [tags["expiry"], volume_tags["expiry"]]
  }
  depends_on = [aws_route.internet, aws_route_table_association.hosts, terraform_data.preflight]

  tags = merge(local.expiry_tags, {
    Name               = local.host_names["lg${count.index + 1}"]
    role               = "loadgen"
    upstream_port      = tostring(var.upstream_port)
    bench_root         = var.bench_root
    ansible_user       = local.ssh_user
    machine_cpus       = tostring(local.loadgen_spec.cpus)
    machine_memory_mib = tostring(local.loadgen_spec.memory_mib)
  })
}

# ---------------------------------------------------------------------------------------
# Readiness: apply ends only when every host finished its bootstrap (packages, bench_root)
# ---------------------------------------------------------------------------------------

resource "terraform_data" "host_ready" {
  for_each = var.wait_for_hosts ? merge(
    { app = aws_instance.app.public_ip },
    { for i, host in aws_instance.loadgen : "lg${i + 1}" => host.public_ip },
  ) : {}

  triggers_replace = [each.value]

  connection {
    type        = "ssh"
    host        = each.value
    user        = local.ssh_user
    private_key = var.ssh_agent ? null : file(pathexpand(var.ssh_private_key_path))
    agent       = var.ssh_agent
    timeout     = "5m"
  }

  provisioner "remote-exec" {
    inline = [
      "for i in $(seq 120); do test -f /var/lib/asgi-wsgi-bench/ready && exit 0; sleep 5; done; echo 'host bootstrap not finished after 10 minutes: see /var/log/cloud-init-output.log on the host' >&2; exit 1",
    ]
  }
}

# ---------------------------------------------------------------------------------------
# Inventory: inventory/aws.yml in the contract shared with infra/local
# ---------------------------------------------------------------------------------------

locals {
  # First SSH to a new host records its key in the stack's own known_hosts (trust on
  # first use), never in the operator's ~/.ssh/known_hosts.
  ssh_common_args = join(" ", [
    "-o UserKnownHostsFile=${local.state_dir}/known_hosts",
    "-o GlobalKnownHostsFile=/dev/null",
    "-o StrictHostKeyChecking=accept-new",
    "-o IdentitiesOnly=yes",
    "-o ServerAliveInterval=5",
    "-o ServerAliveCountMax=3",
  ])

  app_hosts = {
    (local.host_names["app"]) = {
      ansible_host                 = aws_instance.app.public_ip
      ansible_user                 = local.ssh_user
      ansible_ssh_private_key_file = pathexpand(var.ssh_private_key_path)
      ansible_ssh_common_args      = local.ssh_common_args
      ansible_python_interpreter   = "/usr/bin/python3"
      private_address              = aws_instance.app.private_ip
      bench_root                   = var.bench_root
      app_port                     = var.app_port
      bench_ssh_agent              = var.ssh_agent
      bench_cloud                  = "aws"
      machine_class = {
        name       = var.app_instance_type
        cpus       = local.app_spec.cpus
        memory_mib = local.app_spec.memory_mib
      }
    }
  }

  loadgen_hosts = {
    for i, host in aws_instance.loadgen : local.host_names["lg${i + 1}"] => {
      ansible_host                 = host.public_ip
      ansible_user                 = local.ssh_user
      ansible_ssh_private_key_file = pathexpand(var.ssh_private_key_path)
      ansible_ssh_common_args      = local.ssh_common_args
      ansible_python_interpreter   = "/usr/bin/python3"
      private_address              = host.private_ip
      bench_root                   = var.bench_root
      upstream_port                = var.upstream_port
      bench_ssh_agent              = var.ssh_agent
      bench_cloud                  = "aws"
      machine_class = {
        name       = var.loadgen_instance_type
        cpus       = local.loadgen_spec.cpus
        memory_mib = local.loadgen_spec.memory_mib
      }
    }
  }

  inventory = {
    all = {
      children = {
        app     = { hosts = local.app_hosts }
        loadgen = { hosts = local.loadgen_hosts }
      }
    }
  }
}

# A recycled public address must not meet a stale key: the hosts' entries leave the
# stack's known_hosts when they are destroyed or replaced (destroy-time provisioners read
# only self, so the file and the addresses are kept in input).
resource "terraform_data" "known_hosts" {
  input = {
    file  = "${local.state_dir}/known_hosts"
    hosts = concat([aws_instance.app.public_ip], aws_instance.loadgen[*].public_ip)
  }
  # A new address replaces this resource, so the destroy-time provisioner removes the old
  # addresses' entries (an in-place update would not run it).
  triggers_replace = concat([aws_instance.app.public_ip], aws_instance.loadgen[*].public_ip)

  provisioner "local-exec" {
    when    = destroy
    command = "for h in $HOSTS; do [ -f \"$KNOWN_HOSTS\" ] && ssh-keygen -R \"$h\" -f \"$KNOWN_HOSTS\" >/dev/null 2>&1; done; rm -f \"$KNOWN_HOSTS.old\"; true"
    environment = {
      KNOWN_HOSTS = self.input.file
      HOSTS       = join(" ", self.input.hosts)
    }
  }
}

# The stack's private folder (git-ignored): known_hosts of its hosts lives here.
resource "local_file" "state_readme" {
  filename             = "${local.state_dir}/README"
  file_permission      = "0600"
  directory_permission = "0700"
  content              = "Private files of the infra/aws stack (known_hosts of its hosts). Never commit.\n"
}

resource "local_file" "inventory" {
  filename        = local.inventory_path
  file_permission = "0644"
  content         = "# Written by terraform apply in infra/aws: do not edit (terraform destroy removes it).\n${yamlencode(local.inventory)}"

  depends_on = [terraform_data.host_ready, local_file.state_readme, terraform_data.known_hosts]
}
