/**
 * The pod template every DSM workload shares, hardened to the Pod Security Standard "restricted" (and the
 * compose file's hardening: user 1000:1000, read-only root, a small /tmp, all capabilities dropped), with
 * the HEALTHCHECK of the images as probes and the scheduling of spec.scheduling.
 */
import { k8s } from './k8s.js';
import { ANNOTATIONS, type Component } from './api/names.js';
import type { SecretKeyRef } from './api/spec.js';
import { labelsOf, selectorOf, type ClusterContext } from './context.js';
import { CONFIG_DIR, CONFIG_FILE, SECRET_DIR } from './settings.js';

/** The images' user and group (Dockerfile `USER 1000:1000`), numeric so runAsNonRoot can check it. */
export const IMAGE_USER = 1000;

export type Quantities = Record<string, string | number>;
export interface ResourcesSpec {
  requests?: Quantities;
  limits?: Quantities;
}

/** The compose file's limits (compose/docker-compose.yml) and requests a small node can schedule. */
export const DEFAULT_RESOURCES: Record<Component, Required<ResourcesSpec>> = {
  core: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
  storage: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  bridge: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
};

const quantity = (value: string | number) =>
  typeof value === 'number' ? k8s.Quantity.fromNumber(value) : k8s.Quantity.fromString(value);
const quantities = (values: Quantities | undefined) =>
  values === undefined
    ? undefined
    : Object.fromEntries(Object.entries(values).map(([key, value]) => [key, quantity(value)]));

/** The user's resources as they are, or the defaults when the spec names none. */
export function resourcesOf(component: Component, spec: ResourcesSpec | undefined): k8s.ResourceRequirements {
  const chosen = spec ?? DEFAULT_RESOURCES[component];
  return {
    ...(chosen.requests === undefined ? {} : { requests: quantities(chosen.requests) }),
    ...(chosen.limits === undefined ? {} : { limits: quantities(chosen.limits) }),
  };
}

export const podSecurityContext = (): k8s.PodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: IMAGE_USER,
  runAsGroup: IMAGE_USER,
  fsGroup: IMAGE_USER,
  // A large volume is not walked at every start: only when its root is not ours yet.
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
});

export const containerSecurityContext = (): k8s.SecurityContext => ({
  runAsNonRoot: true,
  runAsUser: IMAGE_USER,
  runAsGroup: IMAGE_USER,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

/**
 * The images' HEALTHCHECK (`cli status`, every 10 s after a start period) as probes on the service's own
 * port: alive (/healthz), ready (/readyz: dependencies reachable, data loaded), and a startup allowance.
 */
export function probesOf(port: string, startupSeconds: number) {
  const get = (path: string) => ({ httpGet: { path, port: k8s.IntOrString.fromString(port) } });
  return {
    startupProbe: {
      ...get('/healthz'),
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: Math.ceil(startupSeconds / 5),
    },
    livenessProbe: { ...get('/healthz'), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    readinessProbe: { ...get('/readyz'), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
  } satisfies Partial<k8s.Container>;
}

/** One file per secret under SECRET_DIR, from the Secrets named (0440: the images' group reads them). */
export function secretsVolume(files: readonly { file: string; ref: SecretKeyRef }[]): k8s.Volume {
  return {
    name: 'secrets',
    projected: {
      defaultMode: 0o440,
      sources: files.map(({ file, ref }) => ({
        secret: { name: ref.name, items: [{ key: ref.key, path: file }] },
      })),
    },
  };
}

export const SECRETS_MOUNT: k8s.VolumeMount = { name: 'secrets', mountPath: SECRET_DIR, readOnly: true };
export const CONFIG_MOUNT: k8s.VolumeMount = { name: 'config', mountPath: CONFIG_DIR, readOnly: true };
export const TMP_MOUNT: k8s.VolumeMount = { name: 'tmp', mountPath: '/tmp' };

export const configVolume = (configMap: string): k8s.Volume => ({
  name: 'config',
  configMap: { name: configMap, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] },
});
/** The compose file's `/tmp:size=16m` tmpfs. */
export const tmpVolume = (): k8s.Volume => ({
  name: 'tmp',
  emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') },
});

/** A user's topology spread constraint without a labelSelector gets the component's. */
function spreadOf(ctx: ClusterContext, component: Component): k8s.TopologySpreadConstraint[] | undefined {
  const constraints = ctx.spec.scheduling.topologySpreadConstraints;
  if (constraints === undefined) return undefined;
  return constraints.map((constraint) =>
    constraint.labelSelector === undefined
      ? ({
          ...constraint,
          labelSelector: { matchLabels: selectorOf(ctx, component) },
        } as unknown as k8s.TopologySpreadConstraint)
      : (constraint as unknown as k8s.TopologySpreadConstraint),
  );
}

/** Several pods of one StatefulSet on one node fail together: prefer distinct nodes unless told otherwise. */
function affinityOf(ctx: ClusterContext, component: Component, spread: boolean): k8s.Affinity | undefined {
  const affinity = ctx.spec.scheduling.affinity;
  if (affinity !== undefined) return affinity as unknown as k8s.Affinity;
  if (!spread) return undefined;
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: selectorOf(ctx, component) },
          },
        },
      ],
    },
  };
}

export interface PodTemplateProps {
  readonly component: Component;
  /** The one container of the pod, without what every DSM container shares. */
  readonly container: Pick<k8s.Container, 'ports' | 'env' | 'volumeMounts'> & {
    readonly startupSeconds: number;
  };
  readonly resources: ResourcesSpec | undefined;
  readonly volumes: k8s.Volume[];
  /** sha256 of the component's settings: a change rolls the pods. */
  readonly configDigest: string;
  /** More pod template annotations (what else must roll the pods when it changes). */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Prefer distinct nodes for the pods when spec.scheduling.affinity is unset.
   * @default false
   */
  readonly spreadAcrossNodes?: boolean;
}

/**
 * Seconds between SIGTERM and SIGKILL: the preStop pause (endpoints drop the pod first) plus the services'
 * own shutdown budget (runtime's Shutdown, 25 s: finish in-flight requests, close RocksDB), plus margin.
 */
export const PRE_STOP_SECONDS = 5;
export const TERMINATION_GRACE_SECONDS = 45;

export function podTemplate(ctx: ClusterContext, props: PodTemplateProps): k8s.PodTemplateSpec {
  const { component } = props;
  const { scheduling, image } = ctx.spec;
  const port = props.container.ports?.[0]?.name ?? 'api';
  return {
    metadata: {
      labels: labelsOf(ctx, component),
      annotations: { [ANNOTATIONS.configDigest]: props.configDigest, ...props.annotations },
    },
    spec: {
      automountServiceAccountToken: false,
      // Service links would put `<SERVICE>_PORT=tcp://...` in the environment: a cluster named `dsm` would
      // hand the storage node DSM_STORAGE_PORT=tcp://... where it expects its port number.
      enableServiceLinks: false,
      securityContext: podSecurityContext(),
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      ...(image.pullSecrets.length === 0
        ? {}
        : { imagePullSecrets: image.pullSecrets.map((name) => ({ name })) }),
      ...(scheduling.nodeSelector === undefined ? {} : { nodeSelector: scheduling.nodeSelector }),
      ...(scheduling.tolerations === undefined
        ? {}
        : { tolerations: scheduling.tolerations as unknown as k8s.Toleration[] }),
      ...optional('affinity', affinityOf(ctx, component, props.spreadAcrossNodes ?? false)),
      ...optional('topologySpreadConstraints', spreadOf(ctx, component)),
      ...optional('priorityClassName', scheduling.priorityClassName),
      containers: [
        {
          name: component,
          image: `${image.repository}dsm-${component}:${ctx.versions[component]}`,
          imagePullPolicy: image.pullPolicy,
          ports: props.container.ports,
          env: props.container.env,
          volumeMounts: props.container.volumeMounts,
          resources: resourcesOf(component, props.resources),
          securityContext: containerSecurityContext(),
          ...probesOf(port, props.container.startupSeconds),
          lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
          terminationMessagePolicy: 'FallbackToLogsOnError',
        },
      ],
      volumes: props.volumes,
    },
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
