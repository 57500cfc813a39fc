#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds the pause program (pause.c, static) and writes an OCI image archive of it, named $1
# (registry.k8s.io/pause:3.10), to the file $2: what `ctr images import` takes. No registry, no Docker.
set -euo pipefail
name=$1 out=$2
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/oci/blobs/sha256"
gcc -static -O2 -Wall -Wextra -o "$work/root/pause" "$here/pause.c"
strip "$work/root/pause"

blob() { # file -> its digest, stored under blobs/
  local digest
  digest="$(sha256sum "$1" | cut -d' ' -f1)"
  cp "$1" "$work/oci/blobs/sha256/$digest"
  echo "$digest"
}
size() { stat -c %s "$1"; }

# Reproducible layer: fixed owner and time.
tar -C "$work/root" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/layer.tar" pause
layer="$(blob "$work/layer.tar")"
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$layer" >"$work/config.json"
config="$(blob "$work/config.json")"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$(size "$work/config.json")" "$layer" "$(size "$work/layer.tar")" >"$work/manifest.json"
manifest="$(blob "$work/manifest.json")"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$(size "$work/manifest.json")" "$name" "${name##*:}" >"$work/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
tar -C "$work/oci" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out" oci-layout index.json blobs
