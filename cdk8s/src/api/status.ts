/**
 * The DSMCluster status: what the operator observed, written through the status subresource. Conditions
 * follow the Kubernetes API conventions (metav1.Condition): CamelCase type and reason, a message a person
 * can act on, observedGeneration, lastTransitionTime changed only when status changes.
 *
 * The interfaces are what the operator writes; `dsmClusterStatusSchema` is the same shape as zod, the CRD's
 * status schema (crd.ts), and a compile-time check below keeps the two equal.
 */
import { z } from 'zod';

export const CONDITION_TYPES = [
  'Ready',
  'Progressing',
  'Degraded',
  'CoreReady',
  'StorageReady',
  'BridgeReady',
  'LastBackupSucceeded',
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
  /** `readyReplicas/replicas` (`2/3`), the printer column of `kubectl get dsm`: use `readyOf`. */
  ready: string;
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
  /** The last scheduled backup that finished (spec.backup), and the last one that succeeded. */
  lastBackup?: BackupRun;
  lastSuccessfulBackup?: BackupRun;
}

export interface BackupRun {
  /** The Job that ran it. */
  job: string;
  /** When it finished (RFC 3339). */
  time: string;
  succeeded: boolean;
  /** Why it failed. */
  message?: string;
}

/** The `ready` column of a component: `2/3`. */
export const readyOf = (readyReplicas: number, replicas: number): string => `${readyReplicas}/${replicas}`;

// metav1.Condition's own validation (k8s.io/apimachinery/pkg/apis/meta/v1/types.go).
const CONDITION_TYPE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

const count = (what: string) => z.number().int().min(0).describe(what);

const condition = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(CONDITION_TYPE)
      .describe(`Type of the condition, CamelCase: ${CONDITION_TYPES.join(', ')}.`),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(CONDITION_REASON)
      .describe(
        'Why the condition is in its status, one CamelCase word (StorageCatchingUp, ScaleDownRefused).',
      ),
    message: z.string().max(32768).describe('What a person should know (and do) about this condition.'),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation the condition was set from.'),
    lastTransitionTime: z
      .string()
      .meta({ format: 'date-time' })
      .describe('When the condition last changed status (RFC 3339).'),
  })
  .strict()
  .describe('A condition of the cluster (metav1.Condition).');

const componentFields = {
  replicas: count('Pods wanted.'),
  readyReplicas: count('Pods ready (for storage: ready and caught up with its peers).'),
  updatedReplicas: count("Pods running the spec's version."),
  ready: z
    .string()
    .max(32)
    .describe('Pods ready out of pods wanted (2/3), the printer column of kubectl get dsm.'),
  endpoints: z
    .array(z.string().max(512))
    .describe('In-cluster addresses (host:port) users and peers reach the component at.'),
};

const backupRun = (what: string) =>
  z
    .object({
      job: z.string().max(253).describe('The Job that ran it.'),
      time: z.string().meta({ format: 'date-time' }).describe('When it finished (RFC 3339).'),
      succeeded: z.boolean().describe('Whether it wrote a whole backup folder.'),
      message: z.string().max(4096).optional().describe('Why it failed.'),
    })
    .strict()
    .describe(what);

const component = (what: string) =>
  z.object(componentFields).strict().describe(`The ${what} as the operator last observed them.`);

export const dsmClusterStatusSchema = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation this status describes.'),
    conditions: z
      .array(condition)
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
      .optional()
      .describe(
        'Ready, Progressing, Degraded, one condition per component (CoreReady, StorageReady, BridgeReady) and, ' +
          'with spec.backup, LastBackupSucceeded.',
      ),
    phase: z.string().max(64).optional().describe('One word for kubectl get: Ready, Progressing, Degraded.'),
    version: z
      .string()
      .max(128)
      .optional()
      .describe('The version every component runs (the spec.version once a roll is done).'),
    core: component('core nodes').optional(),
    storage: component('storage nodes').optional(),
    bridge: z
      .object({
        ...componentFields,
        enabled: z.boolean().describe('Whether spec.bridge.enabled asks for a bridge.'),
      })
      .strict()
      .optional()
      .describe('The bridge as the operator last observed it.'),
    replicas: count('Storage nodes running (the scale subresource).').optional(),
    selector: z
      .string()
      .max(1024)
      .optional()
      .describe(
        'Label selector of the storage pods (the scale subresource, for kubectl scale and autoscalers).',
      ),
    secrets: z
      .object({
        adminToken: z.string().describe('The Secret holding the admin token.'),
        apiToken: z.string().describe('The Secret holding the API token of custodial operations.'),
        keystoreKey: z.string().describe('The Secret holding the keystore key.'),
      })
      .strict()
      .optional()
      .describe("Names of the Secrets in use: the user's or the generated ones."),
    lastBackup: backupRun('The last scheduled backup that finished, succeeded or not.').optional(),
    lastSuccessfulBackup: backupRun('The last scheduled backup that succeeded.').optional(),
  })
  .strict()
  .describe('What the operator observed, written through the status subresource.');

// The interfaces and the schema describe the same object: a status the operator builds always validates.
type StatusInput = z.input<typeof dsmClusterStatusSchema>;
type Assignable<A, B extends A> = B;
type _StatusMatchesSchema = Assignable<StatusInput, DSMClusterStatus>;
