#!/bin/sh
# Pre-flight of infra/aws (terraform_data.preflight, before any instance exists): the
# private key Terraform and the runner use must open without a passphrase, or be loaded
# in the SSH agent when BENCH_SSH_AGENT=true. One line and exit 1 otherwise.
set -u
key=${BENCH_SSH_KEY:?BENCH_SSH_KEY is not set}
agent=${BENCH_SSH_AGENT:-false}

if [ ! -r "$key" ]; then
  echo "ssh_private_key_path $key does not exist or is unreadable: make one (ssh-keygen -t ed25519 -f $key) or point ssh_private_key_path at yours" >&2
  exit 1
fi
# -P '' : an empty passphrase; it fails on an encrypted key instead of prompting.
if ssh-keygen -y -P '' -f "$key" >/dev/null 2>&1; then
  exit 0
fi
if [ "$agent" != true ]; then
  echo "$key is encrypted (passphrase) and ssh_agent is false: run ssh-add $key and set ssh_agent = true, or use a key without a passphrase" >&2
  exit 1
fi
# Encrypted, agent allowed: the agent must hold it (compared by its .pub, type and body).
pub="$key.pub"
if [ ! -r "$pub" ]; then
  echo "$key is encrypted and $pub is missing, so the agent's keys cannot be matched: ssh-keygen -y -f $key > $pub" >&2
  exit 1
fi
want=$(cut -d' ' -f1,2 "$pub")
if ssh-add -L 2>/dev/null | cut -d' ' -f1,2 | grep -qxF "$want"; then
  exit 0
fi
echo "$key is encrypted and not loaded in the SSH agent: run ssh-add $key (SSH_AUTH_SOCK must be set)" >&2
exit 1
