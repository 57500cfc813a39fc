#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Imports images from the local Docker engine into the node's containerd (namespace k8s.io), where the
# kubelet finds them: pods then run them with imagePullPolicy IfNotPresent and no registry.
# Usage: DSM_CLUSTER_DIR=... load-images.sh image:tag...
set -euo pipefail
dir="${DSM_CLUSTER_DIR:-/tmp/dsm-node}"
sock="$dir/node/containerd/containerd.sock"
[[ -S $sock ]] || { echo "load-images.sh: no node containerd at $sock (up.sh --node first)" >&2; exit 2; }
[[ $# -gt 0 ]] || { echo "usage: load-images.sh image:tag..." >&2; exit 2; }
for image in "$@"; do
  docker image inspect "$image" >/dev/null 2>&1 || { echo "load-images.sh: no image $image in Docker" >&2; exit 1; }
done
docker save "$@" | ctr --address "$sock" -n k8s.io images import - >/dev/null
echo "load-images.sh: imported $*" >&2
