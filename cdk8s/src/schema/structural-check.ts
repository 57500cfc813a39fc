/**
 * The rules of a structural schema (Kubernetes "Specifying a structural schema") that a CRD author can
 * break, plus ours: every property described so `kubectl explain` teaches. Returns the problems, each
 * naming the node; empty means the schema is fine.
 */
import type { JsonSchema } from './structural.js';

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const FORBIDDEN = [
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  '$ref',
  '$schema',
  'propertyNames',
  'definitions',
  '$defs',
];

export function structuralProblems(schema: JsonSchema, path = '<root>', isProperty = false): string[] {
  const problems: string[] = [];
  // The apiserver owns the object metadata's schema: a CRD may only say it is an object (nor describe it).
  if (path === '<root>.metadata') {
    const extra = Object.keys(schema).filter((key) => key !== 'type');
    return schema.type === 'object' && extra.length === 0 ? [] : [`${path}: may only be {type: object}`];
  }
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const open = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (schema.type === undefined && !intOrString && !open) {
    problems.push(`${path}: no type (nor x-kubernetes-int-or-string / x-kubernetes-preserve-unknown-fields)`);
  }
  if (intOrString && schema.type !== undefined) problems.push(`${path}: int-or-string with a type`);
  for (const key of FORBIDDEN) if (key in schema) problems.push(`${path}: ${key} is not structural`);
  if (schema.properties !== undefined && schema.additionalProperties !== undefined) {
    problems.push(`${path}: additionalProperties next to properties`);
  }
  if (schema.additionalProperties === false || schema.additionalProperties === true) {
    problems.push(`${path}: additionalProperties must be a schema`);
  }
  if (isProperty && (typeof schema.description !== 'string' || schema.description.trim() === '')) {
    problems.push(`${path}: no description`);
  }
  if (schema.type === 'array' && !isObject(schema.items)) problems.push(`${path}: an array without items`);
  if (schema['x-kubernetes-list-type'] === 'map') {
    const keys = (schema['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
    const item = schema.items as JsonSchema | undefined;
    const required = (item?.required as string[] | undefined) ?? [];
    for (const key of keys) {
      const field = (item?.properties as Record<string, JsonSchema> | undefined)?.[key];
      if (field === undefined) problems.push(`${path}: list-map key ${key} is not a property of the items`);
      else if (!required.includes(key) && field.default === undefined) {
        problems.push(`${path}: list-map key ${key} must be required or defaulted`);
      }
    }
  }
  if (Array.isArray(schema.required) && isObject(schema.properties)) {
    for (const key of schema.required as string[]) {
      if (!(key in schema.properties)) problems.push(`${path}: required ${key} is not a property`);
    }
  }
  if (isObject(schema.properties)) {
    for (const [key, child] of Object.entries(schema.properties)) {
      problems.push(...structuralProblems(child as JsonSchema, `${path}.${key}`, true));
    }
  }
  if (isObject(schema.items)) problems.push(...structuralProblems(schema.items, `${path}[]`));
  if (isObject(schema.additionalProperties)) {
    problems.push(...structuralProblems(schema.additionalProperties, `${path}.*`));
  }
  return problems;
}
