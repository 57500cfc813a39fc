/**
 * The operator's writes to the apiserver, each counted in `dsm_operator_api_writes_total`: server-side apply
 * (one field manager, forced) of desired objects that differ from their live copy, create-only Secrets,
 * deletes of pruned objects, and the status subresource. Bodies go as the constructs made them (raw.ts:
 * client-node's typed serializer would drop fields such as a NetworkPolicy rule's `from`).
 */
import { ApiException, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { collectionPath, objectPath, WATCHED_KINDS } from '../controller/informers.js';
import { HttpMethod, rawRequest } from '../controller/raw.js';
import { FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION, type DSMClusterStatus } from '@dsm/cdk8s';
import type { OperatorMetrics } from '../metrics.js';

/**
 * The apiserver's refusal of a request (a 4xx answer but a conflict or throttling, which pass on their
 * own): its status code and message. Undefined for anything else (5xx, no answer).
 */
export function refusalOf(err: unknown): { code: number; message: string } | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const code = err.code;
  if (code < 400 || code > 499 || code === 409 || code === 429) return undefined;
  // A Status has its message; an answer that was not JSON is kept as its text (raw.ts).
  const body: unknown = err.body;
  const status = (body as { message?: unknown } | undefined)?.message;
  const message =
    typeof status === 'string' ? status : typeof body === 'string' && body !== '' ? body : `HTTP ${code}`;
  return { code, message };
}

export class Writer {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly metrics: OperatorMetrics,
  ) {}

  /** Server-side apply, forced: the operator owns every field it sets. */
  async apply(object: KubernetesObject): Promise<void> {
    this.metrics.apiWrites.inc({ verb: 'apply', kind: object.kind ?? '' });
    await rawRequest(this.kubeConfig, HttpMethod.PATCH, objectPath(object), {
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      body: object,
      contentType: PatchStrategy.ServerSideApply,
    });
  }

  /**
   * Creates `object` unless it exists (409 AlreadyExists is the outcome wanted): never overwrites. Returns
   * the created object, or undefined when one was there. A 409 wrote nothing and is not counted in
   * `dsm_operator_api_writes_total` (one per generated Secret after a restart, when the operator cannot
   * know which exist: it does not read Secrets).
   */
  async createOnce(object: KubernetesObject): Promise<KubernetesObject | undefined> {
    try {
      const created = await rawRequest<KubernetesObject>(
        this.kubeConfig,
        HttpMethod.POST,
        collectionOf(object),
        { query: { fieldManager: FIELD_MANAGER }, body: object },
      );
      this.metrics.apiWrites.inc({ verb: 'create', kind: object.kind ?? '' });
      return created;
    } catch (e) {
      if (e instanceof ApiException && e.code === 409) return undefined;
      this.metrics.apiWrites.inc({ verb: 'create', kind: object.kind ?? '' });
      throw e;
    }
  }

  /** Deletes `object` (already gone is fine); background propagation lets the garbage collector follow. */
  async delete(object: KubernetesObject): Promise<void> {
    this.metrics.apiWrites.inc({ verb: 'delete', kind: object.kind ?? '' });
    try {
      await rawRequest(this.kubeConfig, HttpMethod.DELETE, objectPath(object), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      });
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return;
      throw e;
    }
  }

  /** Applies `status` through the status subresource (the spec is never written here). */
  async writeStatus(cluster: { name: string; namespace: string }, status: DSMClusterStatus): Promise<void> {
    this.metrics.apiWrites.inc({ verb: 'apply', kind: `${KIND}/status` });
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(cluster.namespace)}/${PLURAL}/${encodeURIComponent(cluster.name)}/status`;
    await rawRequest(this.kubeConfig, HttpMethod.PATCH, path, {
      query: { fieldManager: FIELD_MANAGER, force: 'true' },
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: KIND,
        metadata: { name: cluster.name, namespace: cluster.namespace },
        status,
      },
      contentType: PatchStrategy.ServerSideApply,
    });
  }
}

/** Kinds the operator creates without watching them (it may not read them). */
const CREATED_KINDS = [{ kind: 'Secret', apiVersion: 'v1', plural: 'secrets' }] as const;

function collectionOf(object: KubernetesObject): string {
  const spec = [...WATCHED_KINDS, ...CREATED_KINDS].find(
    (k) => k.kind === object.kind && k.apiVersion === object.apiVersion,
  );
  if (!spec) throw new Error(`${object.apiVersion} ${object.kind} is not a kind the operator manages`);
  return collectionPath(spec, object.metadata?.namespace);
}
