/**
 * The DSMCluster status: what the operator observed, written through the status subresource. Conditions
 * follow the Kubernetes API conventions (metav1.Condition): CamelCase type and reason, a message a person
 * can act on, observedGeneration, lastTransitionTime changed only when status changes.
 */
export const CONDITION_TYPES = [
  'Ready',
  'Progressing',
  'Degraded',
  'CoreReady',
  'StorageReady',
  'BridgeReady',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase, machine-readable (`StorageCatchingUp`, `ScaleDownRefused`). */
  reason: string;
  message: string;
  observedGeneration?: number;
  /** RFC 3339. */
  lastTransitionTime: string;
}

export interface ComponentStatus {
  /** Pods wanted. */
  replicas: number;
  /** Pods ready (and, for storage, caught up). */
  readyReplicas: number;
  /** Pods running the spec's version. */
  updatedReplicas: number;
  /** In-cluster addresses users and peers reach the component at. */
  endpoints: string[];
}

export interface DSMClusterStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** One word for `kubectl get`: Ready, Progressing, Degraded. */
  phase?: string;
  /** The version every component runs once a roll is done. */
  version?: string;
  core?: ComponentStatus;
  storage?: ComponentStatus;
  bridge?: ComponentStatus & { enabled: boolean };
  /** Scale subresource: storage replicas and the label selector of storage pods. */
  replicas?: number;
  selector?: string;
  /** Names of the Secrets in use (generated or the user's). */
  secrets?: { adminToken: string; apiToken: string; keystoreKey: string };
}
