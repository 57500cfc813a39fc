#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# What `npm run test:cluster` needs before its tests run: the packages built, and the pinned etcd,
# kube-apiserver, kube-controller-manager, kubectl, helm and kubeconform built from the Go module proxy
# (once per version, cached under ~/.cache/dsm/cluster-bin: about 7 min cold on 2 cores, instant warm).
# The tests' global setup starts the control plane (up.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start=$SECONDS
"$here/build.sh" >/dev/null
printf 'prepare: cluster binaries took %ss\n' $((SECONDS - start)) >&2
start=$SECONDS
npm run build --silent
printf 'prepare: build took %ss\n' $((SECONDS - start)) >&2
