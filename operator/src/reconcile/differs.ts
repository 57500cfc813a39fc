/**
 * Whether a live object still matches what the operator wants of it, so a resync of a converged cluster
 * writes nothing. Desired must be a subset of live (the apiserver adds defaults, other managers add fields),
 * with the apiserver's normalisations allowed for. A subset cannot see a field the operator stopped
 * setting, so every desired object carries the hash of itself (`stamp`): any change of desired, removals
 * included, changes the hash and so differs from live.
 */
import { createHash } from 'node:crypto';
import { digestData } from '../controller/slim.js';
import { sameQuantity } from './quantity.js';

export const APPLIED_HASH = 'dsm.io/applied-hash';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Maps whose values the apiserver normalises as quantities (`1Gi` ⇄ `1073741824`, `0.5` ⇄ `500m`). */
const QUANTITY_MAPS = new Set(['requests', 'limits', 'capacity', 'hard']);
/** Merge keys of the associative lists we emit (containers, env, ports, volumes, volumeMounts...). */
const MERGE_KEYS = ['name', 'mountPath', 'containerPort', 'port'] as const;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  (Array.isArray(v) && v.length === 0) ||
  (isObject(v) && Object.keys(v).length === 0);

/** JSON with sorted keys: the same object always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

type Stamped<T> = T & { metadata: { annotations: Record<string, string> } };

/** `object` with the annotation holding the hash of its own content (without that annotation). */
export function stamp<T extends { metadata?: object }>(object: T): Stamped<T> {
  const metadata = (object.metadata ?? {}) as { annotations?: Record<string, string> };
  const annotations = { ...(metadata.annotations ?? {}) };
  delete annotations[APPLIED_HASH];
  const bare = { ...object, metadata: { ...metadata, annotations } };
  const hash = createHash('sha256').update(canonical(bare)).digest('hex').slice(0, 32);
  return {
    ...object,
    metadata: { ...metadata, annotations: { ...annotations, [APPLIED_HASH]: hash } },
  } as Stamped<T>;
}

/**
 * Desired in the form live is cached in: a ConfigMap's long values as their digest (slim.ts); a Secret's
 * `stringData` (write-only) base64-encoded in `data`, as the apiserver stores it.
 */
function normaliseDesired(desired: JsonObject): JsonObject {
  if (desired.kind === 'ConfigMap' && isObject(desired.data))
    return { ...desired, data: digestData(desired.data as Record<string, string>) };
  if (desired.kind !== 'Secret' || !isObject(desired.stringData)) return desired;
  const data: JsonObject = { ...(isObject(desired.data) ? desired.data : {}) };
  for (const [key, value] of Object.entries(desired.stringData))
    data[key] = Buffer.from(String(value), 'utf8').toString('base64');
  const rest: JsonObject = { ...desired, data };
  delete rest.stringData;
  return rest;
}

function keyOf(list: Json[]): (typeof MERGE_KEYS)[number] | undefined {
  return MERGE_KEYS.find((k) => list.length > 0 && list.every((e) => isObject(e) && e[k] !== undefined));
}

/** `own`: the key this value sits under; `parent`: the key of the object holding it. */
function compare(
  desired: unknown,
  live: unknown,
  path: string,
  own: string,
  parent: string,
): string | undefined {
  if (desired === undefined) return undefined;
  if (isEmpty(desired) && isEmpty(live)) return undefined;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return path;
    const key = keyOf(desired);
    if (key !== undefined) {
      // Associative list: each of ours matched by its key; entries of other managers may sit around them.
      for (const element of desired as JsonObject[]) {
        const match = live.find((l) => isObject(l) && l[key] === element[key]);
        const at = `${path}[${key}=${String(element[key])}]`;
        if (match === undefined) return at;
        const diff = compare(element, match, at, '', own);
        if (diff !== undefined) return diff;
      }
      return undefined;
    }
    if (desired.length !== live.length) return path;
    for (let i = 0; i < desired.length; i++) {
      const diff = compare(desired[i], live[i], `${path}[${i}]`, '', own);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  if (isObject(desired)) {
    if (!isObject(live)) return path;
    for (const [key, value] of Object.entries(desired)) {
      const diff = compare(value, live[key], path ? `${path}.${key}` : key, key, own);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  if (desired === live) return undefined;
  if (
    QUANTITY_MAPS.has(parent) &&
    (typeof desired === 'string' || typeof desired === 'number') &&
    (typeof live === 'string' || typeof live === 'number') &&
    sameQuantity(desired, live)
  )
    return undefined;
  return path;
}

/** The path of the first field where live does not hold what desired sets, or undefined when it does. */
export function firstDifference(desired: object, live: object | undefined): string | undefined {
  if (live === undefined) return '(missing)';
  return compare(normaliseDesired(desired as JsonObject), live, '', '', '');
}

/** Whether `desired` must be applied: live is missing, or some field the operator sets holds something else. */
export function differs(desired: object, live: object | undefined): boolean {
  return firstDifference(desired, live) !== undefined;
}
