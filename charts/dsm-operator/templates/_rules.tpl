{{- /*
What the operator does, and nothing more, in the watched scope. Secrets: it only creates the ones it
generates (tokens and keys of a cluster whose user named none; the storage peer token derived from its own
key); it never reads, lists or watches a cluster's Secrets. Its only Secret read is its own key, by name, in
its own namespace (rbac.yaml).
PersistentVolumeClaims: the operator creates and applies the bridge's volume (core's and storage's come from
the StatefulSets' templates) and never deletes one (their retention policy and owner references do).
*/}}
{{- define "dsm-operator.rules" }}
- apiGroups: [dsm.io]
  resources: [dsmclusters]
  verbs: [get, list, watch, update, patch]
- apiGroups: [dsm.io]
  resources: [dsmclusters/status]
  verbs: [get, update, patch]
- apiGroups: [dsm.io]
  # Owner references with blockOwnerDeletion need update on the owner's finalizers.
  resources: [dsmclusters/finalizers]
  verbs: [update]
- apiGroups: [apps]
  resources: [statefulsets, deployments]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: ['']
  resources: [services, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: ['']
  resources: [secrets]
  verbs: [create]
- apiGroups: ['']
  resources: [pods]
  verbs: [get, list, watch]
- apiGroups: ['']
  resources: [persistentvolumeclaims]
  verbs: [get, list, watch, create, patch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, update, patch, delete]
# spec.backup: the operator makes the CronJob and reads how its Jobs went (it never creates or deletes a Job).
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch]
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors, prometheusrules]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch, update]
{{- end }}
