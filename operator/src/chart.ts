/**
 * The values of the dsm-operator Helm chart, declared once: charts/dsm-operator/values.schema.json (helm
 * refuses a wrong type or an unknown key), the chart's `_config-env.tpl` (each operator setting to its
 * environment variable) and the values table of its README are generated from this schema
 * (`npm run generate`); charts/dsm-operator/test checks values.yaml against it. The operator's own
 * settings are carried from its config schema, never retyped.
 */
import { carriedSetting, formOf, settingRegistry } from '@dsm/runtime/config';
import { z } from 'zod';
import { operatorConfigSchema } from './config.js';

const quantity = z.union([z.string().regex(/^[+-]?[0-9.]+([eE][+-]?[0-9]+|[a-zA-Z]{1,2})?$/), z.number()]);
const labels = z.record(z.string(), z.string());
const open = z.record(z.string(), z.unknown());

/** The operator settings a chart user may set (`config.<key>`); ports, host and the Lease name are the chart's. */
export const CHART_SETTINGS = [
  'keySecret',
  'leaseDurationMs',
  'renewDeadlineMs',
  'retryPeriodMs',
  'workers',
  'resyncMs',
  'capabilityCheckMs',
  'logLevel',
] as const;

const config = z
  .object(Object.fromEntries(CHART_SETTINGS.map((key) => [key, carriedSetting(operatorConfigSchema, key)])))
  .strict()
  .prefault({})
  .describe("The operator's settings (operator/README.md); each becomes its DSM_OPERATOR_* variable.");

export const chartValuesSchema = z
  .object({
    replicaCount: z
      .number()
      .int()
      .min(1)
      .max(9)
      .default(2)
      .describe('Operator pods: one holds the leader Lease and reconciles, the others stand by.'),
    image: z
      .object({
        repository: z.string().default('').describe('Prefix of the image name (registry.example/dsm/).'),
        name: z.string().min(1).default('dsm-operator').describe('Image name under the prefix.'),
        tag: z.string().default('').describe("Image tag; empty means the chart's appVersion."),
        pullPolicy: z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent'),
      })
      .strict()
      .prefault({})
      .describe('The operator image.'),
    imagePullSecrets: z.array(z.string().min(1)).default([]).describe('Image pull Secrets (names).'),
    watchNamespaces: carriedSetting(operatorConfigSchema, 'watchNamespaces').describe(
      'Namespaces whose DSMClusters the operator manages. Empty: every namespace (a ClusterRole); listed: ' +
        'a Role in each and nothing cluster-wide.',
    ),
    config,
    resources: z
      .object({
        requests: z.record(z.string(), quantity).optional(),
        limits: z.record(z.string(), quantity).optional(),
      })
      .strict()
      .default({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '256Mi' } })
      .describe('Resources of the operator container.'),
    nodeSelector: labels.default({}).describe('Node labels the operator pods require.'),
    tolerations: z.array(open).default([]).describe('Tolerations of the operator pods.'),
    affinity: open
      .default({})
      .describe('Affinity of the operator pods; empty: the replicas prefer distinct nodes.'),
    priorityClassName: z.string().default('').describe('PriorityClass of the operator pods.'),
    podDisruptionBudget: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .prefault({})
      .describe('Keep one operator pod up during voluntary disruptions (with more than one replica).'),
    networkPolicy: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .prefault({})
      .describe('Ingress to the operator pods only on the metrics and health ports.'),
    serviceMonitor: z
      .object({
        enabled: z.boolean().default(false),
        labels: labels.default({}),
        interval: z
          .string()
          .regex(/^[0-9]+(ms|s|m)$/)
          .default('30s'),
      })
      .strict()
      .prefault({})
      .describe("A ServiceMonitor for the operator's /metrics (needs the Prometheus operator's CRD)."),
    dashboards: z
      .object({ enabled: z.boolean().default(false), labels: labels.default({ grafana_dashboard: '1' }) })
      .strict()
      .prefault({})
      .describe(
        'A ConfigMap with the Grafana dashboards (Overview, Storage, Bridge, Operator) for the sidecar.',
      ),
    rbac: z
      .object({ create: z.boolean().default(true) })
      .strict()
      .prefault({})
      .describe('Create the least-privilege roles and bindings the operator needs.'),
    serviceAccount: z
      .object({
        create: z.boolean().default(true),
        name: z.string().default('').describe("Name; empty: the release's full name."),
        annotations: labels.default({}),
      })
      .strict()
      .prefault({})
      .describe('The service account the operator runs as.'),
    global: open.optional().describe('Values shared with a parent chart (unused here).'),
  })
  .strict();

export type ChartValues = z.output<typeof chartValuesSchema>;

/** charts/dsm-operator/values.schema.json (draft 7: what every Helm 3 validates). */
export function valuesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(chartValuesSchema, { target: 'draft-7', io: 'input' }) as Record<
    string,
    unknown
  >;
  return { ...schema, title: 'dsm-operator chart values' };
}

/** charts/dsm-operator/templates/_config-env.tpl: each `config.<key>` as its environment variable. */
export function configEnvTemplate(): string {
  const lines = [
    '{{- /* Generated from operator/src/chart.ts by `npm run generate`: do not edit. */}}',
    '{{- define "dsm-operator.configEnv" -}}',
  ];
  for (const key of CHART_SETTINGS) {
    const field = operatorConfigSchema.shape[key];
    const env = settingRegistry.get(field)?.env;
    if (!env) throw new Error(`${key} has no env name`);
    lines.push(`- name: ${env}`, `  value: {{ .Values.config.${key} | quote }}`);
  }
  lines.push('{{- end }}', '');
  return lines.join('\n');
}

/** The README table of the chart's operator settings (`config.<key>`). */
export function configValuesTable(): string {
  const rows = CHART_SETTINGS.map((key) => {
    const field = operatorConfigSchema.shape[key];
    const meta = settingRegistry.get(field)!;
    return `| \`config.${key}\` | ${formOf(field).kind} | \`${JSON.stringify(meta.default)}\` | \`${meta.env}\` | ${meta.description} |`;
  });
  return ['| value | type | default | variable | what |', '|---|---|---|---|---|', ...rows].join('\n');
}
