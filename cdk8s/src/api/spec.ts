/**
 * The DSMCluster spec (dsm.io/v1alpha1), declared once as a zod schema: the TypeScript types, the CRD's
 * OpenAPI schema (descriptions, defaults, CEL rules; `crd.ts`) and the operator's validation all come from
 * it. The service settings a user may set per component are the services' own `setting()` fields (their
 * type, bounds, default and description), picked by key, never retyped.
 */
import { bridgeConfigSchema } from '@dsm/bridge/config';
import { coreConfigSchema } from '@dsm/core/config';
import { carriedOptionalSetting, carriedSetting } from '@dsm/runtime/config';
import { storageConfigSchema } from '@dsm/storage/config';
import { z } from 'zod';

/** A CEL rule of the CRD (`x-kubernetes-validations`), with the message a person reads when it fails. */
export interface CelRule {
  rule: string;
  message: string;
  /** `fieldPath` of the error, relative to the object the rule sits on. */
  fieldPath?: string;
}

/** A rule on the object alone: zod checks it too, so synth and the operator refuse what the apiserver would. */
interface CheckedRule<T> extends CelRule {
  holds: (self: T) => boolean;
}
/** A transition rule (`oldSelf`): the apiserver evaluates it on updates only; one object cannot be checked. */
interface TransitionRule extends CelRule {
  transition: true;
}

/**
 * CEL rules of a schema node, as the CRD's `x-kubernetes-validations` (zod metadata reaches the JSON Schema),
 * each rule on the object alone also a zod refinement with the same message at the same path.
 */
function rules<S extends z.ZodType>(schema: S, ...list: (CheckedRule<z.output<S>> | TransitionRule)[]): S {
  let checked: z.ZodType = schema;
  for (const rule of list) {
    if ('holds' in rule) {
      const path = rule.fieldPath === undefined ? [] : rule.fieldPath.split('.').filter(Boolean);
      checked = checked.refine((self) => rule.holds(self as z.output<S>), { message: rule.message, path });
    }
  }
  const cel = list.map(({ rule, message, fieldPath }): CelRule => ({
    rule,
    message,
    ...(fieldPath === undefined ? {} : { fieldPath }),
  }));
  return checked.meta({ 'x-kubernetes-validations': cel }) as S;
}
const described = <S extends z.ZodType>(schema: S, description: string): S =>
  schema.describe(description) as S;
/** Kubernetes' own types (tolerations, affinity...) stay open in the CRD; the apiserver checks them in pods. */
const openObject = <S extends z.ZodType>(schema: S): S =>
  schema.meta({ 'x-kubernetes-preserve-unknown-fields': true }) as S;

/** A Kubernetes resource quantity (`500m`, `2Gi`, `1`). */
const quantity = z
  .union([
    z.string().regex(/^[+-]?[0-9.]+([eE][+-]?[0-9]+|[a-zA-Z]{1,2})?$/, 'a quantity such as 500m or 2Gi'),
    z.number(),
  ])
  .meta({ 'x-kubernetes-int-or-string': true });

const resources = described(
  z
    .object({
      requests: described(
        z.record(z.string(), quantity).optional(),
        'Minimum resources (cpu, memory) the scheduler reserves.',
      ),
      limits: described(
        z.record(z.string(), quantity).optional(),
        'Maximum resources; memory beyond it kills the container.',
      ),
    })
    .strict(),
  'Compute resources of the container (the Kubernetes ResourceRequirements form).',
);

const reclaimPolicy = described(
  z.enum(['Retain', 'Delete']).default('Retain'),
  'What deleting the DSMCluster (or scaling down) does to the volumes: Retain keeps the PersistentVolumeClaims ' +
    '(the data survives and a cluster of the same name adopts them), Delete removes them.',
);

const volume = (defaultSize: string, what: string) =>
  described(
    z
      .object({
        size: described(quantity.default(defaultSize), `Size of each pod's volume (${what}).`),
        storageClassName: described(
          z.string().min(1).max(253).optional(),
          'StorageClass of the PersistentVolumeClaims; unset: the cluster default. Immutable.',
        ),
        reclaimPolicy,
      })
      .strict()
      .prefault({}),
    `The PersistentVolumeClaim of each pod (${what}).`,
  );

/** A key of a Secret in the cluster's namespace. */
const secretKeyRef = (what: string, defaultKey: string) =>
  described(
    z
      .object({
        name: described(z.string().min(1).max(253), 'Name of a Secret in the DSMCluster namespace.'),
        key: described(z.string().min(1).default(defaultKey), `Key of the Secret holding ${what}.`),
      })
      .strict(),
    `A Secret holding ${what}.`,
  );

/** A StatefulSet's volumeClaimTemplates (and a PVC's class) cannot change once created. */
const storageClassImmutable = (component: string): TransitionRule => ({
  transition: true,
  rule:
    'has(self.volume.storageClassName) == has(oldSelf.volume.storageClassName) && ' +
    '(!has(self.volume.storageClassName) || self.volume.storageClassName == oldSelf.volume.storageClassName)',
  message:
    `${component}.volume.storageClassName cannot change: the volumes already exist in their class; ` +
    'move the data to a new cluster instead',
  fieldPath: '.volume.storageClassName',
});

/** A StatefulSet's claim templates are fixed: a new size would make every apply of it fail. */
const volumeSizeImmutable = (component: string): TransitionRule => ({
  transition: true,
  // string(): the size is int-or-string (dyn); comparing the text works whichever form each side has.
  rule: 'string(self.volume.size) == string(oldSelf.volume.size)',
  message:
    `${component}.volume.size cannot change: a StatefulSet's volume claims are fixed when it is created ` +
    '(expand the PersistentVolumeClaims themselves where the storage class allows it)',
  fieldPath: '.volume.size',
});

const core = described(
  rules(
    z
      .object({
        replicas: described(
          z.number().int().min(1).max(32).default(1),
          'Core nodes behind the one client Service. Each hosts the identities created on it and forwards ' +
            'requests for identities hosted by another, so any pod answers for any hosted identity.',
        ),
        resources: resources.optional(),
        volume: volume('10Gi', 'keystore, hosted identities, pending states, policies'),
        policyCacheSize: carriedSetting(coreConfigSchema, 'policyCacheSize'),
        policyTtl: carriedSetting(coreConfigSchema, 'policyTtl'),
        autoReceive: carriedSetting(coreConfigSchema, 'autoReceive'),
        receivePollMs: carriedSetting(coreConfigSchema, 'receivePollMs'),
        maxClockSkewMs: carriedSetting(coreConfigSchema, 'maxClockSkewMs'),
        logLevel: carriedSetting(coreConfigSchema, 'logLevel'),
      })
      .strict(),
    storageClassImmutable('core'),
    volumeSizeImmutable('core'),
  ).prefault({}),
  'The core nodes: client API (7545) and node-to-node/admin port (8765).',
);

const storage = described(
  rules(
    z
      .object({
        replicas: described(
          z.number().int().min(1).max(64).default(2),
          'Storage nodes. New nodes join as peers and catch up; a node is removed only once its data is on ' +
            'replicationFactor other nodes.',
        ),
        replicationFactor: carriedSetting(storageConfigSchema, 'replicationFactor'),
        resources: resources.optional(),
        volume: volume('20Gi', 'the directory: states, genesis, tokens, policies, inboxes'),
        syncIntervalMs: carriedSetting(storageConfigSchema, 'syncIntervalMs'),
        maxObjectBytes: carriedSetting(storageConfigSchema, 'maxObjectBytes'),
        logLevel: carriedSetting(storageConfigSchema, 'logLevel'),
      })
      .strict(),
    {
      rule: 'self.replicationFactor <= self.replicas',
      holds: (self) => self.replicationFactor <= self.replicas,
      message:
        'storage.replicationFactor must not exceed storage.replicas: every write waits for that many storage nodes',
      fieldPath: '.replicationFactor',
    },
    storageClassImmutable('storage'),
    volumeSizeImmutable('storage'),
  ).prefault({}),
  'The storage nodes (the directory of protocol.md §7), one StatefulSet with a volume per pod.',
);

const bridge = described(
  rules(
    z
      .object({
        enabled: described(z.boolean().default(false), 'Run the Ethereum bridge (8768).'),
        rpcUrl: described(
          carriedOptionalSetting(bridgeConfigSchema, 'ethereumRpc'),
          'JSON-RPC URL of the EVM node. Use rpcSecret instead when the URL carries a credential.',
        ),
        rpcSecret: secretKeyRef('the JSON-RPC URL of the EVM node', 'url').optional(),
        chainId: carriedOptionalSetting(bridgeConfigSchema, 'chainId'),
        confirmations: carriedSetting(bridgeConfigSchema, 'confirmations'),
        contractAddress: described(
          carriedOptionalSetting(bridgeConfigSchema, 'contract'),
          'Address of the deployed DsmBridge contract.',
        ),
        fromBlock: carriedSetting(bridgeConfigSchema, 'fromBlock'),
        signerKeySecret: secretKeyRef(
          "the bridge's EVM signer key (0x and 64 hex characters); it also attests mints",
          'evm-key',
        ).optional(),
        dsmKeySecret: secretKeyRef(
          "the 32-byte seed of the bridge's own DSM identity; generated when unset",
          'dsm-key',
        ).optional(),
        resources: resources.optional(),
        volume: volume('5Gi', "the bridge's journal"),
        logLevel: carriedSetting(bridgeConfigSchema, 'logLevel'),
      })
      .strict(),
    {
      rule: '!self.enabled || has(self.rpcUrl) != has(self.rpcSecret)',
      holds: (self) => !self.enabled || (self.rpcUrl === undefined) !== (self.rpcSecret === undefined),
      message: 'an enabled bridge needs exactly one of bridge.rpcUrl and bridge.rpcSecret',
    },
    {
      rule: '!self.enabled || has(self.signerKeySecret)',
      holds: (self) => !self.enabled || self.signerKeySecret !== undefined,
      message: 'an enabled bridge needs bridge.signerKeySecret: the Secret holding its EVM key',
      fieldPath: '.signerKeySecret',
    },
    {
      rule: '!self.enabled || has(self.chainId)',
      holds: (self) => !self.enabled || self.chainId !== undefined,
      message: 'an enabled bridge needs bridge.chainId: the chain id its EVM node must report',
      fieldPath: '.chainId',
    },
    {
      rule: '!self.enabled || has(self.contractAddress)',
      holds: (self) => !self.enabled || self.contractAddress !== undefined,
      message: 'an enabled bridge needs bridge.contractAddress: the deployed DsmBridge contract',
      fieldPath: '.contractAddress',
    },
    {
      // Setting it later (enabling the bridge) is allowed; changing or removing it once set is not.
      transition: true,
      rule: '!has(oldSelf.chainId) || (has(self.chainId) && self.chainId == oldSelf.chainId)',
      message: 'bridge.chainId cannot change once set: the bridge journal belongs to one chain',
      fieldPath: '.chainId',
    },
    {
      // Its PVC exists once the bridge ran: the class is fixed from then on (enabling it later may set one).
      ...storageClassImmutable('bridge'),
      rule: `!oldSelf.enabled || (${storageClassImmutable('bridge').rule})`,
    },
  ).prefault({}),
  'The DSM ⇄ EVM token bridge.',
);

const labels = z.record(z.string(), z.string());

const monitoring = described(
  z
    .object({
      serviceMonitor: described(
        z
          .object({
            enabled: described(z.boolean().default(true), 'Create a ServiceMonitor (when its CRD exists).'),
            labels: described(
              labels.optional(),
              "Extra labels of the ServiceMonitor (e.g. the Prometheus operator's selector).",
            ),
            interval: described(
              z
                .string()
                .regex(/^[0-9]+(ms|s|m)$/)
                .default('15s'),
              'Scrape interval.',
            ),
          })
          .strict()
          .prefault({}),
        'Prometheus operator ServiceMonitor scraping every pod of the cluster.',
      ),
      prometheusRule: described(
        z
          .object({
            enabled: described(
              z.boolean().default(true),
              'Create a PrometheusRule with the DSM alerts (when its CRD exists).',
            ),
            labels: described(labels.optional(), 'Extra labels of the PrometheusRule.'),
          })
          .strict()
          .prefault({}),
        'The DSM alert rules (the same as compose/prometheus/rules), each with its runbook link.',
      ),
      dashboards: described(
        z
          .object({
            enabled: described(
              z.boolean().default(true),
              'Create a ConfigMap holding the Grafana dashboards.',
            ),
            labels: described(
              labels.default({ grafana_dashboard: '1' }),
              "Labels of the ConfigMap (Grafana's sidecar looks for grafana_dashboard).",
            ),
          })
          .strict()
          .prefault({}),
        'Grafana dashboards as a ConfigMap.',
      ),
    })
    .strict()
    .prefault({}),
  'Monitoring objects. Every pod serves /metrics whatever these say.',
);

const networkPolicies = described(
  z
    .object({
      enabled: described(
        z.boolean().default(true),
        'Create NetworkPolicies: storage reachable only from core, the bridge and its peers; core and bridge APIs ' +
          'open to the namespace and to the namespaces in allowFrom.',
      ),
      allowFrom: described(
        z.array(labels).default([]),
        'namespaceSelector matchLabels of namespaces that may reach the core and bridge APIs (e.g. an ingress).',
      ),
      metricsFrom: described(
        z.array(labels).default([{ 'kubernetes.io/metadata.name': 'monitoring' }]),
        'namespaceSelector matchLabels of namespaces that may scrape /metrics (the core P2P port, the storage ' +
          'port, the bridge port). Default: the namespace named monitoring.',
      ),
    })
    .strict()
    .prefault({}),
  'NetworkPolicies (enforced only when the cluster network plugin supports them).',
);

const scheduling = described(
  z
    .object({
      nodeSelector: described(labels.optional(), 'Node labels every pod requires.'),
      tolerations: described(
        openObject(z.array(z.record(z.string(), z.unknown()))).optional(),
        'Tolerations of every pod (the Kubernetes Toleration form).',
      ),
      affinity: described(
        openObject(z.record(z.string(), z.unknown())).optional(),
        'Affinity of every pod (the Kubernetes Affinity form). Unset: the pods of each StatefulSet prefer ' +
          'distinct nodes.',
      ),
      topologySpreadConstraints: described(
        openObject(z.array(z.record(z.string(), z.unknown()))).optional(),
        'Topology spread constraints of every pod (the Kubernetes form; labelSelector may be omitted: the ' +
          "component's own labels are used).",
      ),
      priorityClassName: described(z.string().min(1).optional(), 'PriorityClass of every pod.'),
    })
    .strict()
    .prefault({}),
  'Where the pods may run.',
);

const secrets = described(
  z
    .object({
      adminToken: secretKeyRef('the bearer token of the admin API', 'token').optional(),
      apiToken: secretKeyRef('the bearer token of custodial operations', 'token').optional(),
      keystoreKey: secretKeyRef('the key encrypting the custodial keystore at rest', 'key').optional(),
    })
    .strict()
    .prefault({}),
  'Secrets the user names. Each one left unset is generated once by the operator (<cluster>-<what>) and kept.',
);

const image = described(
  z
    .object({
      repository: described(
        z.string().default(''),
        'Prefix of the image names (`registry.example/dsm/`); the images are <repository>dsm-core, ' +
          'dsm-storage and dsm-bridge.',
      ),
      pullPolicy: described(
        z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent'),
        'Image pull policy.',
      ),
      pullSecrets: described(z.array(z.string().min(1)).default([]), 'Names of image pull Secrets.'),
    })
    .strict()
    .prefault({}),
  'Where the images come from.',
);

/** Five cron fields (minute hour day-of-month month day-of-week), as a CronJob takes them, or a @-macro. */
const CRON = /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$/;

/** Volume sources (besides a claim) that a pod meeting the Pod Security Standard "restricted" may mount. */
const RESTRICTED_VOLUME_SOURCES = ['csi', 'ephemeral'];

/** Where backups are written, or read from: a PersistentVolumeClaim of the namespace, or a volume named in full. */
const backupVolume = (what: string) =>
  described(
    rules(
      z
        .object({
          persistentVolumeClaim: described(
            z
              .object({
                claimName: described(z.string().min(1).max(253), 'Name of the PersistentVolumeClaim.'),
              })
              .strict()
              .optional(),
            `A PersistentVolumeClaim in the DSMCluster namespace ${what}.`,
          ),
          volume: described(
            openObject(z.record(z.string(), z.unknown()))
              .refine(
                (v) => Object.keys(v).length === 1 && RESTRICTED_VOLUME_SOURCES.includes(Object.keys(v)[0]!),
                `one volume source the Pod Security Standard "restricted" allows: ${RESTRICTED_VOLUME_SOURCES.join(', ')} (for NFS or a host folder, use a PersistentVolumeClaim bound to such a volume)`,
              )
              .optional(),
            `A volume source in the Kubernetes form ${what}, without its name: csi or ephemeral (the sources the ` +
              'Pod Security Standard "restricted" allows besides a PersistentVolumeClaim).',
          ),
        })
        .strict(),
      {
        rule: 'has(self.persistentVolumeClaim) != has(self.volume)',
        holds: (self) => (self.persistentVolumeClaim === undefined) !== (self.volume === undefined),
        message: 'name exactly one of persistentVolumeClaim and volume',
      },
    ),
    `The volume ${what}.`,
  );

const backup = described(
  z
    .object({
      schedule: described(
        z.string().regex(CRON, 'a cron schedule of five fields (such as "0 3 * * *") or @daily'),
        'When to back up, as a CronJob schedule in the timeZone (such as "0 3 * * *": every day at 03:00).',
      ),
      timeZone: described(z.string().min(1).default('Etc/UTC'), 'Time zone of the schedule (IANA name).'),
      retention: described(
        z.number().int().min(1).max(1000).default(7),
        'How many backup folders to keep in the destination; older ones are removed after each backup.',
      ),
      destination: backupVolume('that receives one folder per backup'),
      suspend: described(z.boolean().default(false), 'Stop scheduling backups (the ones made are kept).'),
    })
    .strict(),
  'Scheduled backups: a CronJob that writes one folder per run (storage.car, core-<n>.car, bridge.car, ' +
    'backup.json) with `dsm backup run`, meeting the Pod Security Standard "restricted".',
);

const bootstrap = described(
  z
    .object({
      fromBackup: described(
        z
          .object({
            source: backupVolume('holding the backup'),
            folder: described(
              z
                .string()
                .regex(/^[A-Za-z0-9._-]+$/, 'the name of a backup folder, such as 20261202T030000Z')
                .refine((f) => f !== '.' && f !== '..', 'the name of a backup folder'),
              'The backup folder in that volume (one `dsm backup run` made).',
            ),
          })
          .strict()
          .optional(),
        'Start the cluster from a backup: each storage node loads storage.car and each core node ' +
          'core-<ordinal>.car (the bridge bridge.car) into its empty volume before it serves. Volumes that ' +
          'hold data ignore it, so it may stay set.',
      ),
    })
    .strict()
    .prefault({}),
  'How a new cluster starts.',
);

export const dsmClusterSpecSchema = z
  .object({
    version: described(
      rules(
        z
          .string()
          // An image tag that is also a label value (app.kubernetes.io/version): at most 63 characters.
          .max(63)
          .regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/, 'an image tag such as 0.1.0'),
        {
          rule: "self != 'latest'",
          holds: (tag) => tag !== 'latest',
          message:
            'version must name a release (such as 0.1.0), not latest: the operator rolls from one version to the next',
        },
      ),
      'DSM version: the tag of every image (at most 63 characters: it is also the app.kubernetes.io/version ' +
        'label). Changing it rolls storage one pod at a time (each caught up before the next), then core, then ' +
        'the bridge.',
    ),
    image,
    core,
    storage,
    bridge,
    monitoring,
    networkPolicies,
    scheduling,
    secrets,
    backup: backup.optional(),
    bootstrap,
  })
  .strict()
  .describe(
    'The DSM network this cluster runs: core nodes, storage nodes and, optionally, the Ethereum bridge, ' +
      'from one version of the images.',
  );

/** The spec as the apiserver stores it after defaulting (what the constructs receive). */
export type DSMClusterSpec = z.output<typeof dsmClusterSpecSchema>;
/** The spec as a user writes it (every defaulted field optional). */
export type DSMClusterSpecInput = z.input<typeof dsmClusterSpecSchema>;
export type CoreSpec = DSMClusterSpec['core'];
export type StorageSpec = DSMClusterSpec['storage'];
export type BridgeSpec = DSMClusterSpec['bridge'];
export type MonitoringSpec = DSMClusterSpec['monitoring'];
export type SchedulingSpec = DSMClusterSpec['scheduling'];
export type SecretKeyRef = NonNullable<DSMClusterSpec['secrets']['adminToken']>;
export type BackupSpec = NonNullable<DSMClusterSpec['backup']>;
export type BackupVolumeSpec = BackupSpec['destination'];
