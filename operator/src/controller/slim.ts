/**
 * What the informers keep of an object: everything the reconciler reads, and nothing it never does.
 * - `metadata.managedFields` goes: the operator applies with one field manager, forced, and never reads
 *   who owns a field; on server-side applied objects it is often the biggest part of the object.
 * - Long values of a ConfigMap's `data` (the dashboards are ~80 KB per cluster) are kept as their digest:
 *   `differs` compares the desired value's digest (`digestValue`) with it, so a value changed by hand
 *   still differs from desired, while the text itself is not held once per cluster.
 * The same function runs on listed items and on watch events, so the cache has one shape.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';

/** ConfigMap values longer than this are cached as their digest. */
export const DIGEST_OVER = 1024;
/** Prefix of a digested value: NUL first, which no ConfigMap value a human writes starts with. */
const DIGEST_PREFIX = '\u0000sha256:';

/** The digest form of a ConfigMap value (short values stay as they are, so diffs stay readable). */
export function digestValue(value: string): string {
  if (value.length <= DIGEST_OVER) return value;
  return `${DIGEST_PREFIX}${createHash('sha256').update(value, 'utf8').digest('base64')}`;
}

/** `data` with every long value in digest form (a new object; the input is not changed). */
export function digestData(data: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data))
    out[key] = typeof value === 'string' ? digestValue(value) : value;
  return out;
}

/** Strips `object` in place of what the cache does not keep, and returns it. */
export function slim<T extends KubernetesObject>(object: T): T {
  if (object.metadata?.managedFields !== undefined) delete object.metadata.managedFields;
  if (object.kind === 'ConfigMap') {
    const withData = object as T & { data?: Record<string, string> };
    if (withData.data !== undefined && withData.data !== null) withData.data = digestData(withData.data);
  }
  return object;
}
