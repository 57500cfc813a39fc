import type { DSMClusterSpec, DSMClusterSpecInput } from './spec.js';
import type { DSMClusterStatus } from './status.js';

/** The metadata of a DSMCluster the constructs and the operator read. */
export interface ClusterMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  finalizers?: string[];
}

/** A DSMCluster as the apiserver returns it (spec defaulted by the CRD schema). */
export interface DSMCluster {
  apiVersion: 'dsm.io/v1alpha1';
  kind: 'DSMCluster';
  metadata: ClusterMeta;
  spec: DSMClusterSpec;
  status?: DSMClusterStatus;
}

/** A DSMCluster as a user writes it (examples/, tests). */
export interface DSMClusterInput {
  apiVersion: 'dsm.io/v1alpha1';
  kind: 'DSMCluster';
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: DSMClusterSpecInput;
}
