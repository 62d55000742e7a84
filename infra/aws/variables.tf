# Inputs of the AWS stack. Only `owner` and `operator_cidr` have no default: who pays, and
# from where SSH is allowed, are never guessed. See docs/AWS.md for a worked terraform.tfvars.

# ---------------------------------------------------------------------------------------
# Where and who
# ---------------------------------------------------------------------------------------

variable "region" {
  type        = string
  description = "AWS region to create the stack in (prices in docs/AWS.md are for us-east-1)."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like us-east-1 (an AWS region code)."
  }
}

variable "availability_zone" {
  type        = string
  description = "Availability zone for every host (one zone: the placement group is a cluster). Null picks the first zone of the region that offers both instance types."
  default     = null

  validation {
    condition     = var.availability_zone == null || can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", var.availability_zone))
    error_message = "availability_zone must be null or a zone name such as us-east-1a."
  }
}

variable "project" {
  type        = string
  description = "Value of the `project` tag on every resource; the reaper (fab aws-reap) and inventory/aws_ec2.yml select hosts by it."
  default     = "asgi-wsgi-bench"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,62}$", var.project))
    error_message = "project must be 3-63 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "owner" {
  type        = string
  description = "Value of the `owner` tag on every resource: who pays for and answers for this stack (an e-mail or user name)."

  validation {
    condition     = can(regex("^[A-Za-z0-9._@+-]{2,128}$", var.owner))
    error_message = "owner must be 2-128 characters of letters, digits and . _ @ + - (for example your e-mail address)."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name and of the inventory host names (<prefix>-app, <prefix>-lg1...). Two stacks in one account need different prefixes."
  default     = "abw"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.name_prefix))
    error_message = "name_prefix must be 2-16 characters of lowercase letters, digits and dashes, starting with a letter."
  }
}

# ---------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------

variable "operator_cidr" {
  type        = string
  description = "The only IPv4 range allowed to SSH into the hosts, normally your own address as /32 (curl -s https://checkip.amazonaws.com). No default on purpose."

  validation {
    condition     = can(cidrhost(var.operator_cidr, 0)) && !can(regex(":", var.operator_cidr))
    error_message = "operator_cidr must be an IPv4 CIDR such as 203.0.113.7/32."
  }

  validation {
    condition     = !can(cidrhost(var.operator_cidr, 0)) || try(tonumber(split("/", var.operator_cidr)[1]) >= 24, false)
    error_message = "operator_cidr is too wide (anything wider than /24 is refused): give your own address as /32."
  }
}

variable "ssh_public_key_path" {
  type        = string
  description = "Path of the OpenSSH public key installed on the hosts (as the EC2 key pair). Ignored when ssh_public_key is set."
  default     = "~/.ssh/id_ed25519.pub"

  validation {
    condition     = endswith(var.ssh_public_key_path, ".pub")
    error_message = "ssh_public_key_path must name a public key file ending in .pub (never the private key)."
  }
}

variable "ssh_public_key" {
  type        = string
  description = "The OpenSSH public key itself (one line); when null the file at ssh_public_key_path is read."
  default     = null

  validation {
    condition     = var.ssh_public_key == null || can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$", trimspace(var.ssh_public_key)))
    error_message = "ssh_public_key must be one OpenSSH public key line (ssh-ed25519 AAAA... or ssh-rsa AAAA...)."
  }
}

variable "ssh_private_key_path" {
  type        = string
  description = "Path of the private key matching the public key; written into inventory/aws.yml (ansible_ssh_private_key_file) and used by Terraform to wait for the hosts. Checked before any instance exists: it must have no passphrase, or be loaded in the agent with ssh_agent = true."
  default     = "~/.ssh/id_ed25519"

  validation {
    condition     = !endswith(var.ssh_private_key_path, ".pub") && length(var.ssh_private_key_path) > 0
    error_message = "ssh_private_key_path must name the private key file (not the .pub)."
  }
}

variable "ssh_agent" {
  type        = bool
  description = "Authenticate through the SSH agent (SSH_AUTH_SOCK) instead of reading the private key: for a passphrase-protected key, after ssh-add. Terraform's wait, Ansible and the runner all use the agent then."
  default     = false
}

# ---------------------------------------------------------------------------------------
# Machines
# ---------------------------------------------------------------------------------------

variable "app_instance_type" {
  type        = string
  description = "Instance type of the app host. Allowed: fixed-performance Intel types with 4 vCPUs on 2 physical cores and >= 11.6 GiB, the class of the original study's laptop (i3-6006U, 2 cores / 4 threads, 11.6 GiB), each on one CPU model (m6i: Xeon 8375C; m7i: Xeon 8488C). See docs/AWS.md."
  default     = "m6i.xlarge"

  validation {
    condition     = contains(["m6i.xlarge", "m7i.xlarge"], var.app_instance_type)
    error_message = "app_instance_type must be one of m6i.xlarge, m7i.xlarge (4 vCPUs on 2 Intel cores, 16 GiB, not burstable, one CPU model; m5 is refused: it lands on two)."
  }
}

variable "loadgen_instance_type" {
  type        = string
  description = "Instance type of the load-generator hosts: a larger fixed-performance class than the app host, so load generation never limits the measurement; one CPU model per type (c6i: Xeon 8375C; c7i: Xeon 8488C)."
  default     = "c6i.2xlarge"

  validation {
    condition     = contains(["c6i.2xlarge", "c7i.2xlarge", "c6i.4xlarge", "c7i.4xlarge"], var.loadgen_instance_type)
    error_message = "loadgen_instance_type must be one of c6i.2xlarge, c7i.2xlarge, c6i.4xlarge, c7i.4xlarge (8+ vCPUs, not burstable, one CPU model)."
  }
}

variable "tenancy" {
  type        = string
  description = "EC2 tenancy of every host: default (shared hardware) or dedicated (single-tenant hardware, no neighbour from another account; costs more, see docs/AWS.md)."
  default     = "default"

  validation {
    condition     = contains(["default", "dedicated"], var.tenancy)
    error_message = "tenancy must be default or dedicated."
  }
}

variable "ami_id" {
  type        = string
  description = "The image every host boots. Null: the newest official Debian 12 (amd64) image is looked up at the first apply and recorded in the state, then kept; set it (fab aws-ami prints the newest for a region) to take another one."
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be null or an image id: ami- and 8 to 17 hex digits (fab aws-ami prints the newest Debian 12)."
  }
}

variable "loadgen_count" {
  type        = number
  description = "Number of load-generator hosts (the runner splits the load across them and merges the results)."
  default     = 1

  validation {
    condition     = var.loadgen_count >= 1 && var.loadgen_count <= 4 && floor(var.loadgen_count) == var.loadgen_count
    error_message = "loadgen_count must be a whole number from 1 to 4."
  }
}

variable "root_volume_gib" {
  type        = number
  description = "Size of each host's root volume (gp3, encrypted, deleted with the host)."
  default     = 16

  validation {
    condition     = var.root_volume_gib >= 8 && var.root_volume_gib <= 100 && floor(var.root_volume_gib) == var.root_volume_gib
    error_message = "root_volume_gib must be a whole number from 8 to 100."
  }
}

# ---------------------------------------------------------------------------------------
# Cost guard
# ---------------------------------------------------------------------------------------

variable "ttl_minutes" {
  type        = number
  description = "Every host powers itself off, and so terminates, this many minutes after it was created even if nobody runs destroy: its own `expiry` tag, set at creation, says when; a guard re-arms the power-off at every boot from it, and the reaper uses it. Changing it replaces the hosts. fab compare --stacks refuses a TTL shorter than its planned run."
  default     = 180

  validation {
    condition     = var.ttl_minutes >= 30 && var.ttl_minutes <= 1440 && floor(var.ttl_minutes) == var.ttl_minutes
    error_message = "ttl_minutes must be a whole number from 30 to 1440 (24 hours)."
  }
}

variable "wait_for_hosts" {
  type        = bool
  description = "Make apply wait (over SSH, from where Terraform runs) until each host finished its bootstrap, so the deploy can start right after."
  default     = true
}

# ---------------------------------------------------------------------------------------
# Network and layout on the hosts (the inventory contract)
# ---------------------------------------------------------------------------------------

variable "vpc_cidr" {
  type        = string
  description = "Private IPv4 range of the stack's own VPC; the hosts' subnet is its first /24."
  default     = "10.77.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.)", var.vpc_cidr)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 24, false)
    error_message = "vpc_cidr must be a private (RFC 1918) IPv4 range from /16 to /24, such as 10.77.0.0/16."
  }
}

variable "app_port" {
  type        = number
  description = "Port the app listens on (the contract's app_port); reachable only from the load-generator security group."
  default     = 8000

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535 && floor(var.app_port) == var.app_port
    error_message = "app_port must be a whole number from 1024 to 65535."
  }
}

variable "upstream_port" {
  type        = number
  description = "Port of the io scenario's upstream delay server on the load generators; reachable only from the app security group."
  default     = 8001

  validation {
    condition     = var.upstream_port >= 1024 && var.upstream_port <= 65535 && floor(var.upstream_port) == var.upstream_port && var.upstream_port != var.app_port
    error_message = "upstream_port must be a whole number from 1024 to 65535, different from app_port."
  }
}

variable "bench_root" {
  type        = string
  description = "Folder on every host for everything deployed or written there (the contract's bench_root); created by the host's bootstrap, owned by the SSH user."
  default     = "/opt/asgi-wsgi-bench"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/-]+$", var.bench_root)) && !contains(["/", "/usr", "/etc", "/var", "/home", "/opt"], trimsuffix(var.bench_root, "/"))
    error_message = "bench_root must be an absolute path of its own (such as /opt/asgi-wsgi-bench), not a system folder."
  }
}

variable "inventory_path" {
  type        = string
  description = "Where to write the Ansible inventory; null means inventory/aws.yml at the repository root."
  default     = null

  validation {
    condition     = var.inventory_path == null || can(regex("\\.ya?ml$", var.inventory_path))
    error_message = "inventory_path must be null or a path ending in .yml or .yaml."
  }
}
