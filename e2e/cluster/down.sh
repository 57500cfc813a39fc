#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stops the cluster up.sh started (its node first, if it has one: node/down.sh) and removes its state.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
default_dir=/tmp/dsm-cluster
[[ ${1:-} == --node ]] && default_dir=/tmp/dsm-node
dir="${DSM_CLUSTER_DIR:-$default_dir}"
[[ -d $dir ]] || exit 0
[[ -d $dir/node ]] && DSM_CLUSTER_DIR="$dir" "$here/node/down.sh"
# One at a time, each before what it talks to.
for p in kube-controller-manager kube-apiserver etcd; do stop_pids "$dir" "$p"; done
rm -rf "$dir"
