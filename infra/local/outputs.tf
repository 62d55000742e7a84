# The same names and shapes as infra/aws: whatever reads one stack reads both.

output "app_hosts" {
  description = "App host(s): name => the contract's variables (ansible_host, ansible_user, ansible_ssh_private_key_file, private_address, bench_root, machine_class, app_port)."
  value       = local.app_hosts
  depends_on  = [terraform_data.hosts]
}

output "loadgen_hosts" {
  description = "Load-generator hosts: name => the contract's variables (ansible_host, ansible_user, ansible_ssh_private_key_file, private_address, bench_root, machine_class)."
  value       = local.loadgen_hosts
  depends_on  = [terraform_data.hosts]
}

output "inventory_path" {
  description = "Absolute path of the Ansible inventory written by this stack (inventory/local.yml by default)."
  value       = terraform_data.inventory.output.path
}

output "inventory" {
  description = "The inventory written to inventory_path, as a value (groups app and loadgen under all.children)."
  value       = local.inventory
  depends_on  = [terraform_data.hosts]
}

output "ssh_private_key_file" {
  description = "The stack's SSH private key (0600, in the state folder; never commit it)."
  value       = "${local.ssh_dir}/id_ed25519"
  depends_on  = [terraform_data.hosts]
}

output "known_hosts_file" {
  description = "The stack's known_hosts: every host's generated host key, by address."
  value       = "${local.ssh_dir}/known_hosts"
  depends_on  = [terraform_data.hosts]
}

output "state_dir" {
  description = "The stack's private folder: keys, sshd configs and logs, and each host's bench_root under hosts/."
  value       = local.state_dir
}
