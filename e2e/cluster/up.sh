#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts a Kubernetes control plane on loopback for the operator tests: etcd, kube-apiserver and
# kube-controller-manager (garbage collector, StatefulSet and Deployment controllers) of the pinned release,
# built once by build.sh. No kubelet: pods stay Pending unless a test sets their status. Prints the path of
# an admin kubeconfig on stdout. State (certificates, etcd data, logs, pids) lives in $DSM_CLUSTER_DIR.
# With --node (root only) it is a whole single-node cluster instead (node/up.sh): the apiserver listens on
# the node's bridge address, where pods reach it, and the controller-manager provisions host-path volumes.
# Usage: up.sh [--node]   (idempotent: a running cluster of the same kind is reused; state in
#                         $DSM_CLUSTER_DIR, default /tmp/dsm-cluster, with --node /tmp/dsm-node)
#        down.sh [--node] (stops it and removes the state)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
. "$here/lib.sh"
. "$here/node/network.sh"
node=0
[[ ${1:-} == --node ]] && node=1
# A whole node lives apart from the control plane of `npm run test:cluster`, which is started and stopped
# by that suite: the two can run side by side.
default_dir=/tmp/dsm-cluster
[[ $node == 1 ]] && default_dir=/tmp/dsm-node
dir="${DSM_CLUSTER_DIR:-$default_dir}"
bin="$("$here/build.sh" etcd kube-apiserver kube-controller-manager kubectl)"
log() { echo "up.sh: $*" >&2; }

# A running cluster is reused when it is of the kind asked for (node.ready marks a whole node).
running_kind() { [[ -f $dir/node.ready ]] && echo 1 || echo 0; }
if [[ -f $dir/kubeconfig ]] && [[ $(running_kind) == "$node" ]] &&
  "$bin/kubectl" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  echo "$dir/kubeconfig"
  exit 0
fi
"$here/down.sh" >/dev/null 2>&1 || true
mkdir -p "$dir"/{pki,etcd,logs}
cd "$dir"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
etcd_port="$(free_port)"; peer_port="$(free_port)"; api_port="$(free_port)"
api_host=127.0.0.1
if [[ $node == 1 ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "up.sh --node: root is needed (containerd, kubelet, iptables)" >&2; exit 2; }
  # The node's bridge first: the apiserver listens on its address (node/ tells down.sh to remove it).
  mkdir -p "$dir/node"
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || ip link add "$NODE_BRIDGE" type bridge
  ip addr replace "$NODE_IP/${POD_SUBNET#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  api_host=$NODE_IP
fi
server="https://$api_host:$api_port"

# A CA, the apiserver's serving certificate, client certificates (admin in system:masters, the
# controller-manager, the apiserver's own towards kubelets) and the service-account signing key: what a
# kubeadm cluster has, made with openssl in a second.
pki() {
  cd pki
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=dsm-test-ca" -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.%s\n' \
    "$NODE_IP" "$CLUSTER_DOMAIN" >san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile san.ext -out apiserver.crt 2>/dev/null
  client_cert . admin "/O=system:masters/CN=dsm-admin"
  client_cert . controller-manager "/CN=system:kube-controller-manager"
  client_cert . apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  cd ..
}
pki
write_kubeconfig "$server" "$dir/pki" admin >kubeconfig.tmp
write_kubeconfig "$server" "$dir/pki" controller-manager >controller-manager.kubeconfig

log "etcd on 127.0.0.1:$etcd_port"
# --unsafe-no-fsync: the test cluster's data is thrown away; fsync only slows the tests.
"$bin/etcd" --name default --data-dir etcd --unsafe-no-fsync \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" --log-level warn >logs/etcd.log 2>&1 &
echo $! >etcd.pid

log "kube-apiserver on $server"
"$bin/kube-apiserver" --bind-address "$api_host" --secure-port "$api_port" --advertise-address "$api_host" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --tls-cert-file pki/apiserver.crt --tls-private-key-file pki/apiserver.key --client-ca-file pki/ca.crt \
  --kubelet-client-certificate pki/apiserver-kubelet-client.crt --kubelet-client-key pki/apiserver-kubelet-client.key \
  --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file pki/sa.pub \
  --service-account-signing-key-file pki/sa.key --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode Node,RBAC --enable-priority-and-fairness=false \
  --cert-dir pki/serving >logs/kube-apiserver.log 2>&1 &
echo $! >kube-apiserver.pid

for _ in $(seq 1 120); do
  "$bin/kubectl" --kubeconfig kubeconfig.tmp get --raw /readyz >/dev/null 2>&1 && break
  kill -0 "$(cat kube-apiserver.pid)" 2>/dev/null || { tail -20 logs/kube-apiserver.log >&2; exit 1; }
  sleep 0.5
done
"$bin/kubectl" --kubeconfig kubeconfig.tmp get --raw /readyz >/dev/null || { tail -20 logs/kube-apiserver.log >&2; exit 1; }

kcm=("$bin/kube-controller-manager")
if [[ $node == 1 ]]; then
  # Host-path volumes are directories the controller-manager makes (mode 0750): run as the pods' user
  # (1000, the images' USER), they are the pods' own, which they must be for non-root pods to write them.
  chown 1000:1000 pki/controller-manager.key pki/sa.key
  mkdir -p pki/kcm && chown 1000:1000 pki/kcm
  kcm=(setpriv --reuid=1000 --regid=1000 --clear-groups "${kcm[@]}" --enable-hostpath-provisioner
    --allocate-node-cidrs --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24)
fi
log "kube-controller-manager"
"${kcm[@]}" --kubeconfig controller-manager.kubeconfig \
  --authentication-kubeconfig controller-manager.kubeconfig --authorization-kubeconfig controller-manager.kubeconfig \
  --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
  --service-account-private-key-file pki/sa.key --root-ca-file pki/ca.crt --use-service-account-credentials \
  --controllers '*' --cert-dir pki/kcm >logs/kube-controller-manager.log 2>&1 &
echo $! >kube-controller-manager.pid

# Ready when the default namespace's ServiceAccount exists (the controllers are running).
for _ in $(seq 1 120); do
  "$bin/kubectl" --kubeconfig kubeconfig.tmp -n default get serviceaccount default >/dev/null 2>&1 && break
  kill -0 "$(cat kube-controller-manager.pid)" 2>/dev/null || { tail -20 logs/kube-controller-manager.log >&2; exit 1; }
  sleep 0.5
done
if [[ $node == 1 ]]; then
  DSM_CLUSTER_DIR="$dir" DSM_CLUSTER_SERVER="$server" "$here/node/up.sh"
  touch node.ready
fi
mv kubeconfig.tmp kubeconfig
log "ready ($KUBERNETES_VERSION$([[ $node == 1 ]] && echo ", node $NODE_NAME")); logs in $dir/logs"
echo "$dir/kubeconfig"
