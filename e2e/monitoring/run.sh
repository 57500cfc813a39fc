#!/usr/bin/env bash
# `npm run test:e2e:monitoring`: promtool on compose/prometheus/ and every dashboard query and rule on a real
# Prometheus that scraped `npm run dev`'s network and two DSM operators reconciling a DSMCluster on a
# control plane of the suite's own on loopback (e2e/monitoring/*.test.ts). Installs Debian's prometheus
# package first when promtool is missing (root), and builds the control plane's binaries when they are not
# cached yet (e2e/cluster/build.sh: Go, minutes on a cold machine). Extra arguments go to jest (e.g.
# --json --outputFile=...).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash e2e/monitoring/ensure-prometheus.sh
started=$SECONDS
bash e2e/cluster/build.sh etcd kube-apiserver kube-controller-manager kubectl >/dev/null
echo "run.sh: the control plane's binaries ready in $((SECONDS - started)) s (e2e/cluster/build.sh," \
  "cached under ${DSM_CACHE:-$HOME/.cache/dsm})" >&2
npm run build --silent
node_modules/.bin/tsc -p e2e/monitoring

# The suite records what it starts here (<name>.pid: the dev network, prometheus, the operators) and keeps
# its control plane in cluster/ (never the shared /tmp/dsm-cluster of the cluster tests). It stops all of
# them itself; this trap stops what is still recorded when jest dies or is interrupted before its afterAll.
DSM_MONITORING_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/dsm-monitoring-run.XXXXXX")"
export DSM_MONITORING_RUN_DIR
cleanup() {
  set +e
  local pidfile pid pids=() alive
  for pidfile in "$DSM_MONITORING_RUN_DIR"/*.pid; do
    [[ -f $pidfile ]] && pids+=("$(cat "$pidfile")")
  done
  if [[ ${#pids[@]} -gt 0 ]]; then
    echo "run.sh: stopping what the suite left running (pids ${pids[*]})" >&2
    kill -TERM "${pids[@]}" 2>/dev/null
    for _ in $(seq 1 200); do # at most 20 s: dev.mjs stops its services cleanly first
      alive=false
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=true; done
      [[ $alive == true ]] || break
      sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null
  fi
  DSM_CLUSTER_DIR="$DSM_MONITORING_RUN_DIR/cluster" bash e2e/cluster/down.sh
  rm -rf "$DSM_MONITORING_RUN_DIR"
}
trap cleanup EXIT
node --experimental-vm-modules node_modules/jest/bin/jest.js --config e2e/monitoring/jest.config.js --runInBand "$@"
