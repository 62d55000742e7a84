variable "name_prefix" {
  description = "Prefix of every name the stack makes: namespaces <prefix>-app and <prefix>-lgN, bridge <prefix>-br, cgroups <prefix>/<host>. Stacks with different prefixes and subnets coexist."
  type        = string
  default     = "abw"

  validation {
    # Link names are limited to 15 characters: "<prefix>-lg99" must fit.
    condition     = can(regex("^[a-z0-9]{1,8}$", var.name_prefix))
    error_message = "name_prefix must be 1-8 characters of [a-z0-9], e.g. \"abw\"."
  }
}

variable "subnet_cidr" {
  description = "The hosts' subnet, inside 198.18.0.0/15 (the benchmarking range, never routed on the internet). Bridge at .1, app host at .10, load generator i at .(20+i)."
  type        = string
  default     = "198.18.0.0/24"

  validation {
    condition = (
      can(cidrhost(var.subnet_cidr, 0))
      && try(cidrhost(var.subnet_cidr, 0) == split("/", var.subnet_cidr)[0], false)
      && try(contains(["198.18", "198.19"], join(".", slice(split(".", var.subnet_cidr), 0, 2))), false)
      && try(tonumber(split("/", var.subnet_cidr)[1]) >= 16 && tonumber(split("/", var.subnet_cidr)[1]) <= 27, false)
    )
    error_message = "subnet_cidr must be a network address with a prefix length 16-27 inside 198.18.0.0/15, e.g. \"198.18.0.0/24\"."
  }
}

variable "loadgen_count" {
  description = "How many load-generator hosts (they may share CPUs among themselves)."
  type        = number
  default     = 1

  validation {
    condition     = var.loadgen_count >= 1 && var.loadgen_count <= 8 && floor(var.loadgen_count) == var.loadgen_count
    error_message = "loadgen_count must be a whole number from 1 to 8."
  }
}

variable "machine_class" {
  description = "CPU and memory caps (cgroup v1 or v2): the app host gets app_cpus and app_memory_mib, each load generator loadgen_cpus and loadgen_memory_mib. app_cpus and loadgen_cpus must be disjoint so load generation never steals the server's cores. The default fits this 2-CPU machine; presets/original-laptop.tfvars matches the original study's laptop (4 CPUs, 11.6 GiB) on a machine with at least 6 CPUs."
  type = object({
    name               = string
    app_cpus           = list(number)
    loadgen_cpus       = list(number)
    app_memory_mib     = number
    loadgen_memory_mib = number
  })
  default = {
    name               = "local-1cpu"
    app_cpus           = [0]
    loadgen_cpus       = [1]
    app_memory_mib     = 11830
    loadgen_memory_mib = 2048
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.machine_class.name))
    error_message = "machine_class.name must be 1-64 characters of [A-Za-z0-9._-]."
  }
  validation {
    condition     = length(var.machine_class.app_cpus) > 0 && length(var.machine_class.loadgen_cpus) > 0
    error_message = "machine_class needs at least one CPU in app_cpus and one in loadgen_cpus."
  }
  validation {
    condition     = alltrue([for c in concat(var.machine_class.app_cpus, var.machine_class.loadgen_cpus) : c >= 0 && floor(c) == c])
    error_message = "machine_class CPUs are CPU numbers (0, 1, ...)."
  }
  validation {
    condition     = length(setintersection(toset(var.machine_class.app_cpus), toset(var.machine_class.loadgen_cpus))) == 0
    error_message = "machine_class.app_cpus and loadgen_cpus must be disjoint: load generation must never share the app host's CPUs."
  }
  validation {
    condition     = var.machine_class.app_memory_mib >= 128 && var.machine_class.loadgen_memory_mib >= 128
    error_message = "machine_class memory caps must be at least 128 MiB."
  }
}

variable "state_dir" {
  description = "Private folder for the stack's keys, sshd configs and each host's bench_root (null: infra/local/.state, git-ignored). Its parents must not be group- or world-writable (sshd StrictModes)."
  type        = string
  default     = null

  validation {
    condition     = var.state_dir == null || try(length(trimspace(var.state_dir)) > 0, false)
    error_message = "state_dir must be a folder path, or null for infra/local/.state."
  }
}

variable "inventory_path" {
  description = "Where to write the Ansible inventory (null: inventory/local.yml at the repository root, git-ignored)."
  type        = string
  default     = null

  validation {
    condition     = var.inventory_path == null || try(can(regex("\\.ya?ml$", var.inventory_path)), false)
    error_message = "inventory_path must end in .yml or .yaml (Ansible picks the YAML plugin by name)."
  }
}

variable "app_port" {
  description = "Port the app listens on, on the app host's private address."
  type        = number
  default     = 8000

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535 && var.app_port != 8001 && floor(var.app_port) == var.app_port
    error_message = "app_port must be 1024-65535 and not 8001 (the io scenario's upstream)."
  }
}
