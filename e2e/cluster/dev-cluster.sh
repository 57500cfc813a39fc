#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# `npm run cluster:up` / `npm run cluster:down`: a single-node Kubernetes cluster on this machine with the
# DSM images in it, to try the operator by hand as a user would (README, "Kubernetes"). Root only.
#   up:   a Docker engine and Compose (e2e/docker), the images built at the examples' version when Docker
#         lacks them, up.sh --node, the images imported into the node; prints what to export.
#   down: the cluster stopped and its state removed (down.sh --node).
# DSM_CLUSTER_DIR (default /tmp/dsm-node) and DSM_IMAGE_TAG (default: spec.version of examples/dsmcluster.yaml).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DSM_CLUSTER_DIR="${DSM_CLUSTER_DIR:-/tmp/dsm-node}"
tag="${DSM_IMAGE_TAG:-$(sed -n 's/^  version: *//p' "$root/examples/dsmcluster.yaml" | head -1)}"
images=(dsm-core dsm-storage dsm-bridge dsm-evm-devchain dsm-operator)
log() { echo "dev-cluster: $*" >&2; }

case "${1:-}" in
  up) ;;
  down) exec "$here/down.sh" --node ;;
  *) echo "usage: dev-cluster.sh up|down" >&2; exit 2 ;;
esac

"$root/e2e/docker/ensure-docker.sh"
missing=()
for image in "${images[@]}"; do docker image inspect "$image:$tag" >/dev/null 2>&1 || missing+=("$image"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "building the images (${missing[*]} missing) at $tag"
  "$root/e2e/docker/ensure-compose.sh"
  "$root/e2e/docker/base-image.sh"
  (cd "$root/compose" && DSM_IMAGE_TAG="$tag" docker compose build >&2 &&
    DSM_IMAGE_TAG="$tag" docker compose -f images.yml build >&2)
fi
kubeconfig="$("$here/up.sh" --node)"
"$here/node/load-images.sh" "${images[@]/%/:$tag}"
bin="$("$here/build.sh" kubectl helm)"
# The chart runs the operator image of its appVersion unless told otherwise.
app_version="$(sed -n "s/^appVersion: *'*\([^']*\)'*$/\1/p" "$root/charts/dsm-operator/Chart.yaml")"
set_tag=""
[[ $tag == "$app_version" ]] || set_tag=" --set image.tag=$tag"
cat >&2 <<TEXT
dev-cluster: ready. Then, as in the README's Kubernetes walkthrough:
  export KUBECONFIG=$kubeconfig PATH=$bin:\$PATH
  helm install dsm-operator charts/dsm-operator --namespace dsm-system --create-namespace$set_tag
TEXT
echo "$kubeconfig"
