#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds (once per version, cached under ~/.cache/dsm) the binaries the cluster tests need:
# etcd, kube-apiserver, kube-controller-manager, kubectl, helm and kubeconform (the default set), and for a
# whole node kube-scheduler, kubelet, kube-proxy, coredns and kube-router, all from pinned upstream
# sources through the Go module proxy. Prints the bin folder on stdout.
# Usage: build.sh [component...]   (default: the control plane's set)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
command -v go >/dev/null || { echo "build.sh: the Go toolchain is needed (go 1.26 builds Kubernetes ${KUBERNETES_VERSION})" >&2; exit 2; }

bin="$CACHE_ROOT/cluster-bin"
mkdir -p "$bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { echo "build.sh: $*" >&2; }

# A throw-away module per tool keeps each tool's own dependency versions.
build_etcd() {
  local out="$bin/etcd-$ETCD_VERSION"
  [[ -x $out ]] && return
  log "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd" && cd "$work/etcd"
  cat >go.mod <<MOD
module dsm.local/etcd
go 1.26
MOD
  cat >main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  go mod tidy >&2
  go build -trimpath -o "$out.tmp" . >&2 && mv "$out.tmp" "$out"
}

kubernetes_module() {
  local dir="$work/kubernetes"
  [[ -f $dir/go.mod ]] && { echo "$dir"; return; }
  mkdir -p "$dir"
  local mod
  mod="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  local minor="v0${KUBERNETES_VERSION#v1}"
  {
    echo "module dsm.local/kubernetes"
    grep -m1 '^go ' "$mod"
    grep -m1 '^godebug ' "$mod" || true
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo "replace ("
    # Every staging module (./staging/src/k8s.io/X) comes from its published v0.Y.Z.
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$minor"'#p' "$mod"
    echo ")"
    echo "tool ("
    for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy; do
      echo "	k8s.io/kubernetes/cmd/$c"
    done
    echo ")"
  } >"$dir/go.mod"
  (cd "$dir" && go mod tidy >&2)
  echo "$dir"
}

build_kube() {
  local cmd=$1 out="$bin/$1-$KUBERNETES_VERSION"
  [[ -x $out ]] && return
  log "building $cmd $KUBERNETES_VERSION"
  local dir major minor
  dir="$(kubernetes_module)"
  major=1 minor="$(echo "$KUBERNETES_VERSION" | cut -d. -f2)"
  (cd "$dir" && go build -trimpath -tags=selinux,notest \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean" \
    -o "$out.tmp" "k8s.io/kubernetes/cmd/$cmd" >&2) && mv "$out.tmp" "$out"
}

build_tool() { # name module-path version package [ldflags]
  local name=$1 module=$2 version=$3 pkg=$4 ldflags=${5:-} out="$bin/$1-$3"
  [[ -x $out ]] && return
  log "building $name $version"
  mkdir -p "$work/$name" && cd "$work/$name"
  printf 'module dsm.local/%s\ngo 1.26\nrequire %s %s\ntool %s\n' "$name" "$module" "$version" "$pkg" >go.mod
  # Some tools' go.mod carry exclude/replace lines that a dependent module must repeat.
  local mod
  mod="$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  awk '/^(exclude|replace) \(/{p=1} p{print} /^\)/{p=0} /^(exclude|replace) [^(]/{print}' "$mod" | grep -v '=> \./' >>go.mod || true
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg" >&2 && mv "$out.tmp" "$out"
}

components=("$@")
[[ ${#components[@]} -eq 0 ]] && components=(etcd kube-apiserver kube-controller-manager kubectl helm kubeconform)
for c in "${components[@]}"; do
  case $c in
    etcd) build_etcd ;;
    # Before kube-*: not a Kubernetes binary.
    kube-router) build_tool kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" ;;
    kube-*|kubelet|kubectl) build_kube "$c" ;;
    helm) build_tool helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" ;;
    coredns) build_tool coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" ;;
    kubeconform) build_tool kubeconform github.com/yannh/kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform "-X main.version=$KUBECONFORM_VERSION" ;;
    *) echo "build.sh: unknown component $c" >&2; exit 2 ;;
  esac
  cd "$here"
done
# Unversioned names for callers, pointing at the pinned builds.
for f in "$bin"/*-v*; do
  [[ $f == *.tmp ]] && continue
  name="$(basename "$f")"; ln -sf "$name" "$bin/${name%-v*}"
done
echo "$bin"
