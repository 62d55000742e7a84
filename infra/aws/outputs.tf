# Outputs: the same names and shapes as infra/local, so whatever reads one stack reads both.

output "app_hosts" {
  description = "App host(s): name => the contract's variables (ansible_host, ansible_user, ansible_ssh_private_key_file, private_address, bench_root, machine_class, app_port)."
  value       = local.app_hosts
}

output "loadgen_hosts" {
  description = "Load-generator hosts: name => the contract's variables (ansible_host, ansible_user, ansible_ssh_private_key_file, private_address, bench_root, machine_class)."
  value       = local.loadgen_hosts
}

output "inventory_path" {
  description = "Absolute path of the Ansible inventory written by this stack (inventory/aws.yml by default)."
  value       = local_file.inventory.filename
}

output "inventory" {
  description = "The inventory written to inventory_path, as a value (groups app and loadgen under all.children)."
  value       = local.inventory
}

output "ssh_private_key_file" {
  description = "The private key the inventory uses (yours, from ssh_private_key_path; never commit it)."
  value       = pathexpand(var.ssh_private_key_path)
}

output "known_hosts_file" {
  description = "The stack's known_hosts: each host's key, recorded on first SSH (StrictHostKeyChecking=accept-new)."
  value       = "${local.state_dir}/known_hosts"
}

output "state_dir" {
  description = "The stack's private folder (git-ignored): known_hosts of its hosts."
  value       = local.state_dir
}
