#!/usr/bin/env bash
# What `npm run test:e2e` needs before its tests run, installed or started when missing: a Docker engine
# (ensure-docker.sh), Compose v2 (ensure-compose.sh), the base image tag of the Dockerfile (base-image.sh),
# the Kubernetes binaries the operator image and the single-node cluster run (e2e/cluster/build.sh), Debian's docker-compose 1.29 and shellcheck (the compose file and the scripts are checked with them), the
# compose stack's secrets (compose/init-secrets.sh, which keeps existing ones), and the build of the packages
# (e2e/monitoring/check-prometheus.mjs reads the dashboards from it). The tests build the images.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

step() {
  local start=$SECONDS
  "$@"
  printf 'prepare: %s took %ss\n' "$(basename "$1" .sh)" $((SECONDS - start)) >&2
}

step "$here/ensure-docker.sh"
step "$here/ensure-compose.sh"
step "$here/base-image.sh"
# The control plane the operator image is run against (cached by version; built by test:cluster before),
# and the rest of the single-node cluster of e2e/kubernetes.test.ts (about 8 min once, on 2 cores).
step "$root/e2e/cluster/build.sh"
step "$root/e2e/cluster/build.sh" kube-scheduler kubelet kube-proxy kube-router coredns

missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    printf 'prepare: installing %s from Debian\n' "${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
  else
    printf 'prepare: %s missing (not root, or not Debian): the tests that use them fail\n' "${missing[*]}" >&2
  fi
fi

bash "$root/compose/init-secrets.sh" >/dev/null
(cd "$root" && npm run build --silent)
