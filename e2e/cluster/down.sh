#!/usr/bin/env bash
# Stops the control plane up.sh started and removes its state.
set -uo pipefail
dir="${DSM_CLUSTER_DIR:-/tmp/dsm-cluster}"
[[ -d $dir ]] || exit 0
for p in kube-controller-manager kube-apiserver etcd; do
  [[ -f $dir/$p.pid ]] || continue
  pid="$(cat "$dir/$p.pid")"
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
done
rm -rf "$dir"
