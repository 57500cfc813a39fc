#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stops the cluster up.sh started (its node first, if it has one: node/down.sh) and removes its state.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
default_dir=/tmp/dsm-cluster
[[ ${1:-} == --node ]] && default_dir=/tmp/dsm-node
dir="${DSM_CLUSTER_DIR:-$default_dir}"
[[ -d $dir ]] || exit 0
[[ -d $dir/node ]] && DSM_CLUSTER_DIR="$dir" "$here/node/down.sh"
for p in kube-controller-manager kube-apiserver etcd; do
  [[ -f $dir/$p.pid ]] || continue
  pid="$(cat "$dir/$p.pid")"
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
done
rm -rf "$dir"
