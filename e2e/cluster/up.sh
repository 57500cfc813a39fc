#!/usr/bin/env bash
# Starts a Kubernetes control plane on loopback for the operator tests: etcd, kube-apiserver and
# kube-controller-manager (garbage collector, StatefulSet and Deployment controllers) of the pinned release,
# built once by build.sh. No kubelet: pods stay Pending unless a test sets their status. Prints the path of
# an admin kubeconfig on stdout. State (certificates, etcd data, logs, pids) lives in $DSM_CLUSTER_DIR.
# Usage: up.sh            (idempotent: a running control plane is reused)
#        down.sh          (stops it and removes the state)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/versions.sh"
dir="${DSM_CLUSTER_DIR:-/tmp/dsm-cluster}"
bin="$("$here/build.sh" etcd kube-apiserver kube-controller-manager kubectl)"
log() { echo "up.sh: $*" >&2; }

if [[ -f $dir/kubeconfig ]] && "$bin/kubectl" --kubeconfig "$dir/kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  echo "$dir/kubeconfig"
  exit 0
fi
"$here/down.sh" >/dev/null 2>&1 || true
mkdir -p "$dir"/{pki,etcd,logs}
cd "$dir"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
etcd_port="$(free_port)"; peer_port="$(free_port)"; api_port="$(free_port)"

# A CA, the apiserver's serving certificate, an admin client certificate (system:masters) and the
# service-account signing key: what a kubeadm cluster has, made with openssl in a second.
pki() {
  cd pki
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=dsm-test-ca" -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' >san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile san.ext -out apiserver.crt 2>/dev/null
  client() { # file-name subject
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$1.crt" 2>/dev/null
  }
  client admin "/O=system:masters/CN=dsm-admin"
  client controller-manager "/CN=system:kube-controller-manager"
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  cd ..
}
pki

kubeconfig() { # user
  cat <<YAML
apiVersion: v1
kind: Config
clusters:
- name: dsm-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $dir/pki/ca.crt
users:
- name: $1
  user:
    client-certificate: $dir/pki/$1.crt
    client-key: $dir/pki/$1.key
contexts:
- name: dsm-test
  context: { cluster: dsm-test, user: $1 }
current-context: dsm-test
YAML
}
kubeconfig admin >kubeconfig.tmp
kubeconfig controller-manager >controller-manager.kubeconfig

log "etcd on 127.0.0.1:$etcd_port"
# --unsafe-no-fsync: the test cluster's data is thrown away; fsync only slows the tests.
"$bin/etcd" --name default --data-dir etcd --unsafe-no-fsync \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "default=http://127.0.0.1:$peer_port" --log-level warn >logs/etcd.log 2>&1 &
echo $! >etcd.pid

log "kube-apiserver on https://127.0.0.1:$api_port"
"$bin/kube-apiserver" --bind-address 127.0.0.1 --secure-port "$api_port" --advertise-address 127.0.0.1 \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --tls-cert-file pki/apiserver.crt --tls-private-key-file pki/apiserver.key --client-ca-file pki/ca.crt \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file pki/sa.pub \
  --service-account-signing-key-file pki/sa.key --service-cluster-ip-range 10.96.0.0/16 \
  --authorization-mode Node,RBAC --enable-priority-and-fairness=false \
  --cert-dir pki/serving >logs/kube-apiserver.log 2>&1 &
echo $! >kube-apiserver.pid

for _ in $(seq 1 120); do
  "$bin/kubectl" --kubeconfig kubeconfig.tmp get --raw /readyz >/dev/null 2>&1 && break
  kill -0 "$(cat kube-apiserver.pid)" 2>/dev/null || { tail -20 logs/kube-apiserver.log >&2; exit 1; }
  sleep 0.5
done
"$bin/kubectl" --kubeconfig kubeconfig.tmp get --raw /readyz >/dev/null || { tail -20 logs/kube-apiserver.log >&2; exit 1; }

log "kube-controller-manager"
"$bin/kube-controller-manager" --kubeconfig controller-manager.kubeconfig \
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
mv kubeconfig.tmp kubeconfig
log "ready ($KUBERNETES_VERSION); logs in $dir/logs"
echo "$dir/kubeconfig"
