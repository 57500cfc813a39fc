#!/usr/bin/env bash
# `npm run compose:init`: creates the secrets of the compose stack in compose/secrets/ (git-ignored), one file
# each, mode 0600, owned by the containers' user (uid/gid 1000), which compose mounts at /run/secrets/<name>.
# A file that exists is never overwritten: run it again after deleting one to make a new one.
#   admin-token         bearer token of every service's admin API (config set, topology)
#   api-token           the core's token for custodial operations (acting for hosted identities)
#   keystore-key        encrypts the core's custodial keystore at rest
#   storage-peer-token  shared by the storage nodes: their replication routes require it
#   bridge-dsm-key      the bridge's DSM identity (a 32-byte seed, as `dsm bridge keygen` makes)
#   bridge-evm-key      the bridge's EVM account: the dev chain's account 1
#   evm-deployer-key    deploys DsmBridge on the dev chain: its account 0
# The two EVM keys are the public test keys of hardhat's dev accounts (funded on the dev chain only, known to
# everyone): for another chain, put your own keys in those files.
#   DSM_COMPOSE_SECRETS  the folder (default compose/secrets)
#   DSM_SECRETS_UID      owner of the files when run as root (default 1000, the images' user)
#   DSM_BACKUP_DIR       the backups folder it also makes (default compose/backups)
set -euo pipefail

dir=${DSM_COMPOSE_SECRETS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets}
owner=${DSM_SECRETS_UID:-1000}

# Hardhat's accounts 0 and 1 of the well-known `test test ... junk` mnemonic.
dev_deployer_key=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
dev_bridge_key=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d

random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

uid=$(id -u)
if [ "$uid" -ne 0 ] && [ "$uid" -ne "$owner" ]; then
  echo "init-secrets: the containers run as uid $owner and must read these 0600 files: run this as root (sudo) or as uid $owner" >&2
  exit 1
fi

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
made=0
for name in admin-token api-token keystore-key storage-peer-token bridge-dsm-key bridge-evm-key evm-deployer-key; do
  file=$dir/$name
  if [ -e "$file" ]; then
    echo "kept     $file"
    continue
  fi
  case $name in
    bridge-evm-key) value=$dev_bridge_key ;;
    evm-deployer-key) value=$dev_deployer_key ;;
    *) value=$(random_hex) ;;
  esac
  printf '%s\n' "$value" >"$file.tmp"
  chmod 0600 "$file.tmp"
  if [ "$uid" -eq 0 ]; then chown "$owner:$owner" "$file.tmp"; fi
  mv "$file.tmp" "$file"
  echo "created  $file"
  made=$((made + 1))
done
echo "init-secrets: $made created in $dir"

# The folder of `docker compose run --rm dsm-backup ...` (compose/README.md, "Backups"): the containers' user
# writes there and the services read it at start-up (DSM_*_RESTORE_FROM). Backups hold the core's encrypted
# keystore: only that user may read them.
backups=${DSM_BACKUP_DIR:-$(dirname "$dir")/backups}
mkdir -p "$backups"
chmod 0700 "$backups"
if [ "$uid" -eq 0 ]; then chown "$owner:$owner" "$backups"; fi
echo "init-secrets: backups go to $backups"
