#!/usr/bin/env bash
# Remove every local host of the project by its name prefix, whatever state Terraform is in:
# processes in the hosts' cgroups and namespaces, cgroups, namespaces, veths, bridge, and the
# stack's files when the stack is registered in /run/abw-local.
#   infra/local/scripts/clean-hosts.sh [PREFIX]     (default: $ABW_PREFIX, else abw)
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/localhosts.py" clean "${1:-${ABW_PREFIX:-abw}}"
