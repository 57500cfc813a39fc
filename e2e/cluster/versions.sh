# shellcheck shell=bash
# shellcheck disable=SC2034 # read by the scripts that source this file
# Pinned versions of everything the cluster layers build from source (cached by version).
KUBERNETES_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
# The cluster DNS of the single-node cluster (node/up.sh).
COREDNS_VERSION=v1.15.0
# The NetworkPolicy enforcement of the single-node cluster (node/up.sh): kube-router's firewall alone. The
# only version the module proxy serves here; it runs only inside the test node.
KUBE_ROUTER_VERSION=v2.1.0
CACHE_ROOT="${DSM_CACHE:-$HOME/.cache/dsm}"
# The Prometheus operator whose ServiceMonitor and PrometheusRule CRDs the operator tests install.
PROMETHEUS_OPERATOR_VERSION=v0.94.1
