/**
 * A DSMCluster file read and checked as the apiserver would (the spec through its zod schema, defaults
 * applied), and the static manifests of it: what `npm run synth` writes for users without the operator.
 */
import { randomBytes } from 'node:crypto';
import { parseAllDocuments, stringify } from 'yaml';
import type { DSMCluster } from './api/cluster.js';
import { API_VERSION, clusterNameProblem, KIND } from './api/names.js';
import { dsmClusterSpecSchema } from './api/spec.js';
import { desiredObjects, generatedSecrets, type DesiredOptions, type KubeObject } from './desired.js';

/** What is wrong with a DSMCluster file, one line per problem, each naming the field. */
export class ClusterFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: not a valid DSMCluster:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ClusterFileError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A DSMCluster object (parsed YAML) checked, its spec defaulted. */
export function parseCluster(value: unknown, source: string, namespace?: string): DSMCluster {
  const problems: string[] = [];
  if (!isObject(value)) throw new ClusterFileError(source, ['(document): expected a DSMCluster object']);
  if (value.apiVersion !== API_VERSION) problems.push(`apiVersion: expected ${API_VERSION}`);
  if (value.kind !== KIND) problems.push(`kind: expected ${KIND}`);
  const metadata = isObject(value.metadata) ? value.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string') problems.push('metadata.name: expected the name of the cluster');
  else {
    const problem = clusterNameProblem(name);
    if (problem !== undefined) problems.push(problem);
  }
  const ownNamespace = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
  if (namespace !== undefined && ownNamespace !== undefined && namespace !== ownNamespace) {
    problems.push(`metadata.namespace: ${ownNamespace}, but --namespace says ${namespace}`);
  }
  const spec = dsmClusterSpecSchema.safeParse(value.spec);
  if (!spec.success) {
    for (const issue of spec.error.issues) {
      const path = ['spec', ...issue.path.map(String)].join('.');
      const keys = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
      problems.push(`${path}: ${issue.message}${keys}`);
    }
  }
  if (problems.length > 0 || !spec.success || typeof name !== 'string')
    throw new ClusterFileError(source, problems);
  const labels = isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : undefined;
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: ownNamespace ?? namespace ?? 'default', ...(labels ? { labels } : {}) },
    spec: spec.data,
  };
}

/** The one DSMCluster of a YAML text. */
export function parseClusterYaml(text: string, source: string, namespace?: string): DSMCluster {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents) || documents.length !== 1) {
    throw new ClusterFileError(source, ['(file): expected exactly one YAML document, the DSMCluster']);
  }
  const document = documents[0]!;
  if (document.errors.length > 0) {
    throw new ClusterFileError(
      source,
      document.errors.map((e) => `(yaml) line ${e.linePos?.[0]?.line ?? '?'}: ${e.message}`),
    );
  }
  return parseCluster(document.toJS(), source, namespace);
}

export interface StaticOptions {
  capabilities?: DesiredOptions['capabilities'];
  /** Randomness of the generated Secrets. @default node:crypto randomBytes */
  random?: (bytes: number) => Buffer;
}

/** The Secrets first (the pods mount them), then every desired object. No owner: no DSMCluster exists. */
export function staticManifests(cluster: DSMCluster, options: StaticOptions = {}): KubeObject[] {
  const capabilities = options.capabilities ?? { serviceMonitor: false, prometheusRule: false };
  return [
    ...generatedSecrets(cluster, options.random ?? randomBytes),
    ...desiredObjects(cluster, { capabilities }),
  ];
}

/** Objects as one multi-document YAML stream. */
export function manifestsYaml(objects: readonly KubeObject[]): string {
  return objects.map((object) => `---\n${stringify(object, { lineWidth: 0, singleQuote: true })}`).join('');
}
