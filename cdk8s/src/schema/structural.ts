/**
 * A zod-generated JSON Schema (draft 2020-12) as a Kubernetes structural OpenAPI v3 schema: every node
 * typed, no `additionalProperties` next to `properties`, int-or-string without `anyOf`, open objects as
 * `x-kubernetes-preserve-unknown-fields`. Keys it does not know make it throw, so a new kind of field in
 * the spec fails the build instead of vanishing from the CRD.
 */
export type JsonSchema = { [key: string]: unknown };

/** Keys copied as they are, in this order (the CRD reads best with the description first). */
const COPIED = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'required',
] as const;
const EXTENSIONS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
] as const;
/** Dropped: JSON Schema bookkeeping and what a structural schema forbids or Kubernetes ignores. */
const DROPPED = new Set(['$schema', 'propertyNames', 'id', '$id']);
const HANDLED = new Set<string>([
  ...COPIED,
  ...EXTENSIONS,
  ...DROPPED,
  'properties',
  'items',
  'additionalProperties',
  'anyOf',
  'const',
  'x-kubernetes-int-or-string',
]);

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function toStructural(node: JsonSchema, path = '<root>'): JsonSchema {
  const unknown = Object.keys(node).filter((key) => !HANDLED.has(key));
  if (unknown.length > 0) throw new Error(`${path}: no structural form for ${unknown.join(', ')}`);

  if (node['x-kubernetes-int-or-string'] === true) return intOrString(node);
  if (node.anyOf !== undefined) throw new Error(`${path}: anyOf is not structural (only int-or-string is)`);

  const out: JsonSchema = {};
  for (const key of COPIED) if (node[key] !== undefined) out[key] = node[key];
  if (node.const !== undefined) out.enum = [node.const];
  // A format Kubernetes knows (date-time) checks the value; zod's regex for it is not RE2.
  if (out.format !== undefined) delete out.pattern;

  if (isObject(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([key, child]) => [
        key,
        toStructural(child as JsonSchema, `${path}.${key}`),
      ]),
    );
  }
  const extra = node.additionalProperties;
  if (isObject(extra) && Object.keys(extra).length === 0) {
    // `z.record(z.string(), z.unknown())`: an open object (Kubernetes' own types, checked in the pods).
    out['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (isObject(extra) && out.properties === undefined) {
    out.additionalProperties = toStructural(extra, `${path}.*`);
  }
  // `additionalProperties: false` next to properties: pruning already drops unknown fields.
  if (isObject(node.items)) out.items = toStructural(node.items, `${path}[]`);

  for (const key of EXTENSIONS) {
    if (node[key] === undefined) continue;
    // An open array needs no exemption itself: its items (open objects) carry it.
    if (key === 'x-kubernetes-preserve-unknown-fields' && out.type === 'array') continue;
    out[key] = node[key];
  }
  // An object's default (`{}` from zod's prefault) spelled out with its fields' defaults: the apiserver
  // validates a default as written (its CEL rules see no nested defaults) when it accepts the CRD.
  if (isObject(out.default) && isObject(out.properties))
    out.default = withFieldDefaults(out.default, out.properties);
  if (out.type === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new Error(`${path}: a structural schema needs a type here`);
  }
  return out;
}

/** `{x-kubernetes-int-or-string: true}` with the node's description, default and CEL rules, nothing else. */
function intOrString(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  if (node.description !== undefined) out.description = node.description;
  if (node.default !== undefined) out.default = node.default;
  out['x-kubernetes-int-or-string'] = true;
  if (node['x-kubernetes-validations'] !== undefined) {
    out['x-kubernetes-validations'] = node['x-kubernetes-validations'];
  }
  return out;
}

/** `value` with every field it leaves out that has a default set to it, recursively. */
function withFieldDefaults(value: JsonSchema, properties: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...value };
  for (const [key, child] of Object.entries(properties)) {
    if (!isObject(child)) continue;
    if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
    if (isObject(out[key]) && isObject(child.properties))
      out[key] = withFieldDefaults(out[key] as JsonSchema, child.properties);
  }
  return out;
}
