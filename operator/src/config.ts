/**
 * The operator's settings, declared once with runtime's `setting()` like every DSM service's: env names,
 * defaults, the README table and the Helm values derive from this schema. Layers: defaults < DSM_CONFIG
 * file < environment (no run-time admin changes: the operator has no admin API).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { defaultsOf, envNamesOf, loadConfig, logLevelSchema, setting, type Env } from '@dsm/runtime/config';
import { z } from 'zod';

/** Where Kubernetes mounts the pod's service account namespace. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const namespaceName = z.string().regex(DNS_LABEL, 'a namespace name (DNS label)');
const port = z.number().int().min(1).max(65535);
const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/** The pod's namespace: POD_NAMESPACE (downward API), else the service account's, else `default`. */
export function podNamespace(vars: Env = process.env, file = SERVICE_ACCOUNT_NAMESPACE_FILE): string {
  if (vars.POD_NAMESPACE) return vars.POD_NAMESPACE;
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text) return text;
  } catch {
    // not in a pod (a developer's KUBECONFIG)
  }
  return 'default';
}

/** The pod's name (POD_NAME, downward API), else the host name, which Kubernetes sets to it too. */
export function podName(vars: Env = process.env): string {
  return vars.POD_NAME || hostname();
}

export const operatorConfigSchema = z
  .object({
    watchNamespaces: setting(z.array(namespaceName), {
      env: 'DSM_OPERATOR_WATCH_NAMESPACES',
      default: [],
      defaultDoc: 'all namespaces',
      description: 'Namespaces whose DSMClusters the operator manages (comma-separated); empty means all',
    }),
    metricsPort: setting(port, {
      env: 'DSM_OPERATOR_METRICS_PORT',
      default: 8080,
      description: 'Port of /metrics',
    }),
    healthPort: setting(port, {
      env: 'DSM_OPERATOR_HEALTH_PORT',
      default: 8081,
      description: 'Port of /healthz (alive) and /readyz (informers synced; a standby replica is ready too)',
    }),
    host: setting(z.string().min(1), {
      env: 'DSM_OPERATOR_HOST',
      default: '0.0.0.0',
      description: 'Address the metrics and health servers listen on',
    }),
    leaseName: setting(z.string().regex(DNS_LABEL, 'a DNS label'), {
      env: 'DSM_OPERATOR_LEASE_NAME',
      default: 'dsm-operator-leader',
      description: 'Name of the coordination.k8s.io Lease the replicas elect their leader on',
    }),
    leaseNamespace: setting(namespaceName, {
      env: 'DSM_OPERATOR_LEASE_NAMESPACE',
      default: () => podNamespace(),
      defaultDoc: "the pod's namespace (POD_NAMESPACE, else the service account's)",
      description: 'Namespace of the leader Lease',
    }),
    keySecret: setting(z.string().regex(DNS_LABEL, 'a DNS label'), {
      env: 'DSM_OPERATOR_KEY_SECRET',
      default: 'dsm-operator-key',
      description:
        "Name of the operator's own key Secret, in the Lease namespace (created at start when missing): each cluster's storage peer token is derived from it",
    }),
    leaseDurationMs: setting(ms(1000, 600_000), {
      env: 'DSM_OPERATOR_LEASE_DURATION_MS',
      default: 15_000,
      description: 'How long a Lease not renewed keeps other replicas from taking over, in milliseconds',
    }),
    renewDeadlineMs: setting(ms(500, 600_000), {
      env: 'DSM_OPERATOR_RENEW_DEADLINE_MS',
      default: 10_000,
      description:
        'How long the leader keeps trying to renew before it gives up and exits, in milliseconds (less than the lease duration)',
    }),
    retryPeriodMs: setting(ms(100, 60_000), {
      env: 'DSM_OPERATOR_RETRY_PERIOD_MS',
      default: 2000,
      description: 'Time between attempts to acquire or renew the Lease, in milliseconds',
    }),
    workers: setting(z.number().int().min(1).max(64), {
      env: 'DSM_OPERATOR_WORKERS',
      default: 2,
      description: 'DSMClusters reconciled at the same time (never one cluster twice at once)',
    }),
    resyncMs: setting(ms(0, 86_400_000), {
      env: 'DSM_OPERATOR_RESYNC_MS',
      default: 300_000,
      description: 'Every cluster is reconciled at least this often, in milliseconds; 0 turns resync off',
    }),
    capabilityCheckMs: setting(ms(1000, 3_600_000), {
      env: 'DSM_OPERATOR_CAPABILITY_CHECK_MS',
      default: 60_000,
      description:
        'How often API discovery is asked whether the ServiceMonitor and PrometheusRule CRDs exist, in milliseconds',
    }),
    logLevel: setting(logLevelSchema, {
      env: 'DSM_OPERATOR_LOG_LEVEL',
      default: 'info',
      description: 'Log level',
    }),
  })
  .refine((c) => c.renewDeadlineMs < c.leaseDurationMs, {
    message: 'renewDeadlineMs must be less than leaseDurationMs',
    path: ['renewDeadlineMs'],
  })
  .refine((c) => c.retryPeriodMs < c.renewDeadlineMs, {
    message: 'retryPeriodMs must be less than renewDeadlineMs',
    path: ['retryPeriodMs'],
  });

export type OperatorConfig = z.output<typeof operatorConfigSchema>;

/** Config key → environment variable. */
export const OPERATOR_ENV = envNamesOf(operatorConfigSchema);

export function loadOperatorConfig(vars: Env = process.env): OperatorConfig {
  return loadConfig(operatorConfigSchema, {
    defaults: { ...defaultsOf(operatorConfigSchema), leaseNamespace: podNamespace(vars) },
    env: { names: OPERATOR_ENV, vars },
    ...(vars.DSM_CONFIG ? { file: vars.DSM_CONFIG } : {}),
  });
}
