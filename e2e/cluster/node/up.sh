#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Makes the control plane up.sh --node started into a single-node cluster: kube-scheduler, a containerd of
# its own (CRI plugin, runc, apart from Docker's) with a locally built pause image, the CNI bridge
# (bridge + host-local + portmap from Debian), kubelet, kube-proxy (iptables), kube-router's firewall
# enforcing NetworkPolicies (the bridge plugin enforces none), CoreDNS for the cluster domain, and a default
# StorageClass whose volumes the controller-manager provisions on the host.
# Called by up.sh (DSM_CLUSTER_DIR, DSM_CLUSTER_SERVER); waits until the node is Ready and DNS answers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../versions.sh"
. "$here/../lib.sh"
. "$here/network.sh"
dir="$DSM_CLUSTER_DIR"
server="$DSM_CLUSTER_SERVER"
log() { echo "node/up.sh: $*" >&2; }

# Debian's parts of the node, installed when missing.
packages=()
command -v containerd >/dev/null || packages+=(containerd)
command -v runc >/dev/null || packages+=(runc)
[[ -x /usr/lib/cni/bridge ]] || packages+=(containernetworking-plugins)
command -v conntrack >/dev/null || packages+=(conntrack)
command -v iptables >/dev/null || packages+=(iptables)
command -v ipset >/dev/null || packages+=(ipset)
command -v gcc >/dev/null || packages+=(gcc)
[[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || packages+=(libc6-dev)
if [[ ${#packages[@]} -gt 0 ]]; then
  log "installing ${packages[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }
fi
bin="$("$here/../build.sh" kube-scheduler kubelet kube-proxy kube-router coredns kubectl)"
kubectl() { "$bin/kubectl" --kubeconfig "$dir/kubeconfig.tmp" "$@"; }

cd "$dir"
state="$dir/node"
mkdir -p "$state"/{containerd,kubelet,pod-logs,cni/net.d,cni/ipam}
sock="$state/containerd/containerd.sock"

# Bridged pod traffic must pass iptables (Services), be forwarded, and not meet Docker's FORWARD DROP.
sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
for direction in -i -o; do
  iptables -C FORWARD "$direction" "$NODE_BRIDGE" -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD 1 "$direction" "$NODE_BRIDGE" -j ACCEPT
done
# A Service address kube-proxy has not programmed yet (a pod connecting to a Service made a moment before)
# is unreachable from pods, as on a network with no route to it: this machine's uplink answers any TCP
# connection, and a client would keep such a connection to the wrong peer. Programmed addresses are
# rewritten to pods' before routing (nat PREROUTING), and the host's own traffic keeps the main table.
ip route replace unreachable "$SERVICE_CIDR" table "$SERVICE_ROUTE_TABLE"
ip rule show | grep -q "lookup $SERVICE_ROUTE_TABLE" ||
  ip rule add iif "$NODE_BRIDGE" to "$SERVICE_CIDR" lookup "$SERVICE_ROUTE_TABLE" priority "$SERVICE_ROUTE_TABLE"

log "containerd ($sock)"
cat >"$state/containerd/config.toml" <<TOML
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: no lowering of oom_score_adj below the parent's.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$state/cni/net.d"
TOML
cat >"$state/cni/net.d/10-dsm.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "dsm",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_SUBNET", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$state/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
containerd --config "$state/containerd/config.toml" >logs/containerd.log 2>&1 &
echo $! >containerd.pid
for _ in $(seq 1 100); do
  ctr --address "$sock" version >/dev/null 2>&1 && break
  kill -0 "$(cat containerd.pid)" 2>/dev/null || { tail -20 logs/containerd.log >&2; exit 1; }
  sleep 0.2
done
"$here/pause-image.sh" "$PAUSE_IMAGE" "$state/pause.tar"
ctr --address "$sock" -n k8s.io images import "$state/pause.tar" >/dev/null

# Client certificates: the kubelet (Node authorizer: system:node:<name> in system:nodes), the scheduler
# and kube-proxy (their bootstrap ClusterRoleBindings), CoreDNS and kube-router (the ClusterRoles below).
client_cert pki kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
client_cert pki kube-scheduler "/CN=system:kube-scheduler"
client_cert pki kube-proxy "/CN=system:kube-proxy"
client_cert pki coredns "/CN=dsm-coredns"
client_cert pki kube-router "/CN=dsm-kube-router"
for c in kubelet kube-scheduler kube-proxy coredns kube-router; do write_kubeconfig "$server" "$dir/pki" "$c" >"$state/$c.kubeconfig"; done

log "kube-scheduler"
"$bin/kube-scheduler" --kubeconfig "$state/kube-scheduler.kubeconfig" \
  --authentication-kubeconfig "$state/kube-scheduler.kubeconfig" --authorization-kubeconfig "$state/kube-scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false >logs/kube-scheduler.log 2>&1 &
echo $! >kube-scheduler.pid

log "kubelet ($NODE_NAME, $NODE_IP)"
cat >"$state/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: $dir/pki/ca.crt }
authorization: { mode: AlwaysAllow }
containerRuntimeEndpoint: unix://$sock
# These machines: cgroup v1 without systemd, swap allowed, no CAP_SYS_RESOURCE for root.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
clusterDNS: [$NODE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: /etc/resolv.conf
podLogsDir: $state/pod-logs
volumePluginDir: $state/kubelet/volume-plugins
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
# The images were imported, not pulled: nothing may garbage-collect them, and a test machine's disk
# filling up must not evict the pods under test.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
serializeImagePulls: false
YAML
"$bin/kubelet" --config "$state/kubelet.yaml" --kubeconfig "$state/kubelet.kubeconfig" \
  --root-dir "$state/kubelet" --cert-dir "$state/kubelet/pki" \
  --node-ip "$NODE_IP" --hostname-override "$NODE_NAME" >logs/kubelet.log 2>&1 &
echo $! >kubelet.pid

log "kube-proxy"
cat >"$state/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $state/kube-proxy.kubeconfig }
mode: iptables
clusterCIDR: $CLUSTER_CIDR
hostnameOverride: $NODE_NAME
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts on the node's bridge address only; the host's conntrack limits left as they are.
nodePortAddresses: [$NODE_IP/32]
iptables: { localhostNodePorts: false }
conntrack: { maxPerCore: 0 }
YAML
"$bin/kube-proxy" --config "$state/kube-proxy.yaml" >logs/kube-proxy.log 2>&1 &
echo $! >kube-proxy.pid

# user_role NAME USER RULES: a ClusterRole dsm-test:NAME with RULES (YAML list items) bound to the User.
user_role() {
  cat <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: dsm-test:$1 }
rules:
$3
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: dsm-test:$1 }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: dsm-test:$1 }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: $2 }]
---
YAML
}
log "CoreDNS ($NODE_IP:53)"
kubectl apply --server-side --field-manager dsm-test -f - >/dev/null <<YAML
$(user_role coredns dsm-coredns '  - { apiGroups: [""], resources: [endpoints, services, pods, namespaces], verbs: [list, watch] }
  - { apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch] }')
$(user_role kube-router dsm-kube-router '  - { apiGroups: [""], resources: [namespaces, pods, services, endpoints, nodes], verbs: [get, list, watch] }
  - { apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [list, watch] }
  - { apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch] }')
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: { storageclass.kubernetes.io/is-default-class: "true" }
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML
cat >"$state/Corefile" <<COREFILE
.:53 {
    bind $NODE_IP
    errors
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $state/coredns.kubeconfig dsm-test
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
}
COREFILE
"$bin/coredns" -conf "$state/Corefile" >logs/coredns.log 2>&1 &
echo $! >coredns.pid


wait_for() { # what, seconds, command...
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 $((seconds * 2))); do
    "$@" >/dev/null 2>&1 && return 0
    for p in containerd kube-scheduler kubelet kube-proxy kube-router coredns; do
      [[ -f $p.pid ]] || continue # not started yet
      kill -0 "$(cat "$p.pid")" 2>/dev/null || { log "$p exited"; tail -20 "logs/$p.log" >&2; exit 1; }
    done
    sleep 0.5
  done
  log "timed out waiting for $what"
  tail -20 logs/kubelet.log >&2
  exit 1
}
wait_for "node $NODE_NAME to be Ready" 120 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
# NetworkPolicies, once the node is registered (kube-router looks itself up in it): kube-router's firewall
# controller only (no routing, service proxy, CNI or SNAT of its own: the bridge plugin and kube-proxy do
# those). Bridged pod-to-pod traffic passes the FORWARD chain it filters (bridge-nf-call-iptables, set
# above); the node itself may always reach its pods, as Kubernetes specifies.
log "kube-router (NetworkPolicies)"
"$bin/kube-router" --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
  --enable-pod-egress=false --kubeconfig "$state/kube-router.kubeconfig" --hostname-override "$NODE_NAME" \
  --service-cluster-ip-range "$SERVICE_CIDR" --health-port 0 --metrics-port 0 --iptables-sync-period 30s \
  >logs/kube-router.log 2>&1 &
echo $! >kube-router.pid
# The kubernetes Service through kube-proxy's rules and CoreDNS, as a pod resolves it.
resolves() {
  node -e '
    const r = new (require("dns").promises.Resolver)({ timeout: 1000, tries: 1 });
    r.setServers([process.argv[1]]);
    r.resolve4(process.argv[2]).then((a) => process.exit(a.includes("10.96.0.1") ? 0 : 1), () => process.exit(1));
  ' "$NODE_IP" "kubernetes.default.svc.$CLUSTER_DOMAIN"
}
wait_for "CoreDNS to answer" 60 resolves
# Its first sync done: the chain every pod's traffic is filtered in exists.
wait_for "kube-router's firewall" 60 iptables -n -L KUBE-ROUTER-FORWARD
log "node $NODE_NAME ready"
