# Hosts on this machine: one app host and N load-generator hosts, each a network namespace
# on a bridge with its own sshd, inside cgroup caps (v1 or v2). The work is done by
# scripts/localhosts.py; Terraform holds the description, the outputs and the inventory.

locals {
  state_dir      = abspath(coalesce(var.state_dir, "${path.module}/.state"))
  inventory_path = abspath(coalesce(var.inventory_path, "${path.module}/../../inventory/local.yml"))
  scripts_dir    = abspath("${path.module}/scripts")
  ssh_dir        = "${local.state_dir}/ssh"

  hosts = concat(
    [{
      short      = "app"
      role       = "app"
      address    = cidrhost(var.subnet_cidr, 10)
      cpus       = var.machine_class.app_cpus
      memory_mib = var.machine_class.app_memory_mib
    }],
    [for i in range(var.loadgen_count) : {
      short      = "lg${i + 1}"
      role       = "loadgen"
      address    = cidrhost(var.subnet_cidr, 21 + i)
      cpus       = var.machine_class.loadgen_cpus
      memory_mib = var.machine_class.loadgen_memory_mib
    }],
  )

  # Everything the script needs; a change here (and only here) replaces the stack.
  spec = {
    name_prefix    = var.name_prefix
    subnet_cidr    = var.subnet_cidr
    bridge_address = cidrhost(var.subnet_cidr, 1)
    state_dir      = local.state_dir
    hosts          = local.hosts
  }
}

# ---------------------------------------------------------------------------------------
# The hosts: created and removed as one, so a failure half-way rolls back everything
# ---------------------------------------------------------------------------------------

resource "terraform_data" "hosts" {
  # A reboot removes every host while the state still lists them: a new boot id replaces them.
  triggers_replace = merge(local.spec, { boot_id = trimspace(file("/proc/sys/kernel/random/boot_id")) })
  input            = merge(local.spec, { scripts_dir = local.scripts_dir })

  provisioner "local-exec" {
    command = "\"$ABW_SCRIPTS_DIR/localhosts.py\" create"
    environment = {
      ABW_SPEC        = jsonencode(local.spec)
      ABW_SCRIPTS_DIR = local.scripts_dir
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "\"$ABW_SCRIPTS_DIR/localhosts.py\" destroy"
    environment = {
      ABW_SPEC        = jsonencode(self.input)
      ABW_SCRIPTS_DIR = self.input.scripts_dir
    }
  }
}

# ---------------------------------------------------------------------------------------
# Inventory: the contract in inventory/README.md, shared with infra/aws
# ---------------------------------------------------------------------------------------

locals {
  # SSH checks the hosts against the stack's own known_hosts (written by the create script
  # from the host keys it generated), never the operator's.
  ssh_common_args = join(" ", [
    "-o UserKnownHostsFile=${local.ssh_dir}/known_hosts",
    "-o GlobalKnownHostsFile=/dev/null",
    "-o StrictHostKeyChecking=yes",
    "-o IdentitiesOnly=yes",
    "-o ServerAliveInterval=5",
    "-o ServerAliveCountMax=3",
  ])

  host_vars = {
    for h in local.hosts : "${var.name_prefix}-${h.short}" => merge(
      {
        ansible_host                 = h.address
        ansible_user                 = "root"
        ansible_ssh_private_key_file = "${local.ssh_dir}/id_ed25519"
        ansible_ssh_common_args      = local.ssh_common_args
        ansible_python_interpreter   = "/usr/bin/python3"
        private_address              = h.address
        bench_root                   = "${local.state_dir}/hosts/${h.short}"
        # Made and removed by scripts/localhosts.py (DATA_ROOT): outside state_dir, which
        # may be under /root, so services running as their own user (PostgreSQL) reach it.
        data_root = "/var/lib/abw-local/${var.name_prefix}/${h.short}"
        machine_class = {
          name       = var.machine_class.name
          cpus       = length(h.cpus)
          memory_mib = h.memory_mib
        }
      },
      h.role == "app" ? { app_port = var.app_port } : {},
    )
  }

  app_hosts     = { for name, vars in local.host_vars : name => vars if name == "${var.name_prefix}-app" }
  loadgen_hosts = { for name, vars in local.host_vars : name => vars if name != "${var.name_prefix}-app" }

  inventory = {
    all = {
      children = {
        app     = { hosts = local.app_hosts }
        loadgen = { hosts = local.loadgen_hosts }
      }
    }
  }
  inventory_yaml = "# Written by terraform apply in infra/local: do not edit (terraform destroy removes it).\n${yamlencode(local.inventory)}"
}

resource "terraform_data" "inventory" {
  triggers_replace = {
    hosts   = terraform_data.hosts.id
    path    = local.inventory_path
    content = local.inventory_yaml
  }
  input = { path = local.inventory_path }

  provisioner "local-exec" {
    command = <<-EOT
      set -eu
      mkdir -p "$(dirname "$ABW_INVENTORY_PATH")"
      printf '%s' "$ABW_INVENTORY" > "$ABW_INVENTORY_PATH.tmp"
      mv "$ABW_INVENTORY_PATH.tmp" "$ABW_INVENTORY_PATH"
    EOT
    environment = {
      ABW_INVENTORY      = local.inventory_yaml
      ABW_INVENTORY_PATH = local.inventory_path
    }
  }

  provisioner "local-exec" {
    when        = destroy
    command     = "rm -f \"$ABW_INVENTORY_PATH\""
    environment = { ABW_INVENTORY_PATH = self.input.path }
  }
}
