# The original study's laptop (Intel i3-6006U: 2 cores / 4 threads, 11.6 GiB) for the app
# host, on a machine with at least 6 CPUs:
#   terraform -chdir=infra/local apply -var-file=presets/original-laptop.tfvars
machine_class = {
  name               = "original-laptop-i3-6006u"
  app_cpus           = [0, 1, 2, 3]
  loadgen_cpus       = [4, 5]
  app_memory_mib     = 11830
  loadgen_memory_mib = 4096
}
