#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Prints the folder of the Prometheus operator's own CRD manifests (monitoring.coreos.com_*.yaml) at the
# pinned version, taken from its Go module through the module proxy (the module carries example/), so
# tests validate our ServiceMonitors and PrometheusRules against the real schemas, offline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
command -v go >/dev/null || { echo "prometheus-operator-crds.sh: the Go toolchain is needed" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
  sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
[[ -d $dir/example/prometheus-operator-crd ]] || { echo "prometheus-operator-crds.sh: no CRDs in $dir" >&2; exit 1; }
echo "$dir/example/prometheus-operator-crd"
