/**
 * The operator's own key: one Secret in its own namespace (the Lease's), the only Secret it ever reads,
 * by name. Created at start when missing; a 409 means another replica made it first, whose key is then
 * read. Every cluster's storage peer token is derived from it (peer-token.ts). Losing it regenerates the
 * key and with it every peer token: the clusters then report PeerTokenMismatch (operator/README.md).
 */
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import { MANAGED_BY } from '@dsm/cdk8s';
import { HttpMethod, rawRequest } from './controller/raw.js';

/** Bytes of the key (HMAC-SHA256's block is larger; 32 is its output size and all the strength used). */
export const KEY_BYTES = 32;
/** The data key of the Secret that holds it. */
export const KEY_DATA = 'key';

export interface KeySecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  type: 'Opaque';
  immutable: true;
  data: Record<string, string>;
}

/** The key Secret to create. Immutable: a changed key would change every cluster's peer token. */
export function keySecret(namespace: string, name: string, key: Buffer): KeySecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: {
        'app.kubernetes.io/name': 'dsm-operator',
        'app.kubernetes.io/component': 'operator-key',
        'app.kubernetes.io/managed-by': MANAGED_BY,
      },
    },
    type: 'Opaque',
    immutable: true,
    data: { [KEY_DATA]: key.toString('base64') },
  };
}

/** The key a Secret holds; throws naming what is wrong with it. */
export function keyOf(secret: { data?: Record<string, string> } | undefined, where: string): Buffer {
  const value = secret?.data?.[KEY_DATA];
  if (value === undefined) throw new Error(`the operator key Secret ${where} has no key "${KEY_DATA}"`);
  const key = Buffer.from(value, 'base64');
  if (key.length < KEY_BYTES)
    throw new Error(`the operator key in ${where} has ${key.length} bytes; at least ${KEY_BYTES} are needed`);
  return key;
}

export interface LoadKeyOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  random: (bytes: number) => Buffer;
}

/** Creates the key Secret, or reads the one that exists (409): the key every replica derives tokens from. */
export async function loadOperatorKey(options: LoadKeyOptions): Promise<{ key: Buffer; created: boolean }> {
  const { kubeConfig, namespace, name } = options;
  const where = `${namespace}/${name}`;
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const fresh = options.random(KEY_BYTES);
  try {
    await rawRequest(kubeConfig, HttpMethod.POST, collection, { body: keySecret(namespace, name, fresh) });
    return { key: fresh, created: true };
  } catch (e) {
    if (!(e instanceof ApiException && e.code === 409))
      throw new Error(`cannot create the operator key Secret ${where}: ${(e as Error).message}`);
  }
  try {
    const secret = await rawRequest<{ data?: Record<string, string> }>(
      kubeConfig,
      HttpMethod.GET,
      `${collection}/${encodeURIComponent(name)}`,
    );
    return { key: keyOf(secret, where), created: false };
  } catch (e) {
    throw new Error(`cannot read the operator key Secret ${where}: ${(e as Error).message}`);
  }
}
