# shellcheck shell=bash
# shellcheck disable=SC2034 # read by the scripts that source this file
# The test node's addresses (sourced by up.sh, node/up.sh and node/down.sh). The node owns a bridge of its
# own whose address is also where the apiserver listens, so pods reach it; all traffic stays inside these.
NODE_NAME=dsm-node
NODE_BRIDGE=dsm0
NODE_IP=10.244.0.1
POD_SUBNET=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
# The routing table (and rule priority) that makes unprogrammed Service addresses unreachable from pods.
SERVICE_ROUTE_TABLE=244
CLUSTER_DOMAIN=cluster.local
# containerd's sandbox image, built locally (pause-image.sh).
PAUSE_IMAGE=registry.k8s.io/pause:3.10
