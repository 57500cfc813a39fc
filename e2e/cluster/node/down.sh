#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stops what node/up.sh started in $DSM_CLUSTER_DIR and removes what it left on the host: every pod's
# containers, their mounts and network namespaces, the bridge, the iptables rules of kube-proxy, of
# kube-router, of the CNI plugins and of node/up.sh, kube-router's ipsets, the pods' cgroups and the
# host-path volumes. Called by down.sh.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/network.sh"
. "$here/../lib.sh"
. "$here/../versions.sh"
dir="$DSM_CLUSTER_DIR"
state="$dir/node"
sock="$state/containerd/containerd.sock"
bin="$CACHE_ROOT/cluster-bin"

stop() { stop_pids "$dir" "$@"; }

# No kubelet to restart what goes next.
stop kubelet kube-scheduler coredns kube-proxy kube-router
# Every container (pods' and their sandboxes) killed and removed while containerd still runs.
if [[ -S $sock ]]; then
  ctr_() { ctr --address "$sock" -n k8s.io "$@"; }
  for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$task" >/dev/null 2>&1; done
  for _ in $(seq 1 50); do ctr_ tasks ls 2>/dev/null | grep -q RUNNING || break; sleep 0.1; done
  for task in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete "$task" >/dev/null 2>&1; done
  for c in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$c" >/dev/null 2>&1; done
fi
stop containerd
# Shims outlive containerd by design; ours are the ones started with our socket.
pkill -9 -f -- "-address $sock" 2>/dev/null
[[ -x $bin/kube-proxy ]] && "$bin/kube-proxy" --cleanup >/dev/null 2>&1

# Mounts under the state folder (volumes, rootfs, shm), innermost first.
findmnt -rno TARGET 2>/dev/null | grep "^$state/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
# Network namespaces of the pods (containerd names them cni-<uuid>), the bridge and the rules.
for ns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do ip netns delete "$ns" 2>/dev/null; done
ip link delete "$NODE_BRIDGE" 2>/dev/null
for direction in -i -o; do iptables -D FORWARD "$direction" "$NODE_BRIDGE" -j ACCEPT 2>/dev/null; done
ip rule del priority "$SERVICE_ROUTE_TABLE" 2>/dev/null
ip route flush table "$SERVICE_ROUTE_TABLE" 2>/dev/null
# The bridge plugin's masquerade chains (CNI-<hash>), left because the pods never had a CNI DEL.
iptables -t nat -S POSTROUTING 2>/dev/null | grep -- '-j CNI-' | sed 's/^-A/-D/' |
  while read -r rule; do eval "iptables -t nat $rule" 2>/dev/null; done
for chain in $(iptables -t nat -S 2>/dev/null | awk '/^-N CNI-/{print $2}'); do
  iptables -t nat -F "$chain" 2>/dev/null; iptables -t nat -X "$chain" 2>/dev/null
done
# What kubelet and kube-proxy leave in iptables (KUBE-* chains, v4 and v6; --cleanup removes only part):
# the rules that jump to them, then the chains. There is one test node per machine, so all of them.
for tool in iptables ip6tables; do
  for table in nat mangle filter; do
    "$tool" -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' | grep -Ev '^-A KUBE-' | sed 's/^-A/-D/' |
      while read -r rule; do eval "$tool -t $table $rule" 2>/dev/null; done
    for chain in $("$tool" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/{print $2}'); do
      "$tool" -t "$table" -F "$chain" 2>/dev/null
    done
    for chain in $("$tool" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/{print $2}'); do
      "$tool" -t "$table" -X "$chain" 2>/dev/null
    done
  done
done
# kube-router's ipsets (KUBE-SRC-*, KUBE-DST-*, ...), free once no rule refers to them.
for set in $(ipset list -n 2>/dev/null | grep '^KUBE-'); do ipset destroy "$set" 2>/dev/null; done
# The pods' cgroups (kubelet's kubepods tree in every v1 hierarchy), deepest first.
for root in /sys/fs/cgroup/*/kubepods; do
  [[ -d $root ]] && find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null
done
# The controller-manager's host-path volumes (kubernetes.io/host-path provisions only under this folder).
rm -rf /tmp/hostpath_pv
rm -f "$dir/node.ready"
