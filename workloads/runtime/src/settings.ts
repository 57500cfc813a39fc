/**
 * A service's settings are declared once, in its zod config schema: each field is wrapped in
 * `setting(schema, {env, description, default, runtime, secretFile})`, and everything else is derived
 * from that schema: the environment names, the defaults layer, the keys `config set` may change and the
 * admin body that changes them, the CLI's flags, the JSON Schema and the README table.
 *
 *   policyCacheSize: setting(z.number().int().min(0).max(10_000_000), {
 *     env: 'DSM_CACHE_SIZE', default: 1000, runtime: true, description: 'Verified policies kept in memory (LRU)',
 *   }),
 *
 * Pure: imports zod only, so the operator and cdk8s can read the schemas without RocksDB or express.
 */
import { z } from 'zod';

export interface SettingMeta<T = unknown> {
  /** Environment variable that sets it (`DSM_CACHE_SIZE`); for a secret, the `*_FILE` variable. */
  env: string;
  /** One line for the README, the JSON Schema and `dsm config set --help`; no trailing period. */
  description: string;
  /**
   * The value when no layer sets it. A function computes it at start (the host name...): the docs then
   * show `defaultDoc` and the JSON Schema has no `default`.
   */
  default?: T | (() => T);
  /** How the docs state a computed default, or what the service does when the setting is unset. */
  defaultDoc?: string;
  /** Changeable at run time through the admin API (`dsm config set`), persisted in the config dir. */
  runtime?: boolean;
  /** Shown by the admin API's `config get` although only a restart changes it. */
  reported?: boolean;
  /** The value is the path of a file holding a secret (`*_FILE`): the secret is never in env or config. */
  secretFile?: boolean;
}

/** The metadata of every `setting()` field, by schema instance. */
export const settingRegistry = z.registry<SettingMeta>();

const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/** `schema` (a copy of it, so one schema can back several settings) carrying the setting's metadata. */
export function setting<S extends z.ZodType>(schema: S, meta: SettingMeta<z.input<S>>): S {
  if (!ENV_NAME.test(meta.env)) throw new Error(`setting env name "${meta.env}" is not UPPER_SNAKE_CASE`);
  if (meta.secretFile && !meta.env.endsWith('_FILE'))
    throw new Error(`secret file setting ${meta.env} must be named *_FILE`);
  if (typeof meta.default === 'function' && meta.defaultDoc === undefined)
    throw new Error(`setting ${meta.env} has a computed default: describe it in defaultDoc`);
  const field = schema.clone() as S;
  settingRegistry.add(field, meta as SettingMeta);
  return field;
}

/** One setting of a schema, with its dotted key (`logLevel`, `bridge.ethereumRpc`). */
export interface Setting {
  key: string;
  env: string;
  description: string;
  /** The default when it is a constant (a computed one is in `defaultDoc`). */
  default?: unknown;
  defaultDoc?: string;
  computedDefault?: () => unknown;
  runtime: boolean;
  reported: boolean;
  secretFile: boolean;
  /** The schema accepts no value at all (no default needed). */
  optional: boolean;
  schema: z.ZodType;
}

type AnyObject = z.ZodObject;

const cache = new WeakMap<z.ZodType, readonly Setting[]>();

/** The settings of a config schema in declaration order; a field without `setting()` metadata is an error. */
export function settingsOf(schema: AnyObject): readonly Setting[] {
  let found = cache.get(schema);
  if (found === undefined) {
    found = collect(schema, '');
    const envs = new Map<string, string>();
    for (const s of found) {
      const other = envs.get(s.env);
      if (other !== undefined) throw new Error(`settings ${other} and ${s.key} share env name ${s.env}`);
      envs.set(s.env, s.key);
    }
    cache.set(schema, found);
  }
  return found;
}

function collect(schema: AnyObject, prefix: string): Setting[] {
  const out: Setting[] = [];
  for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const key = prefix + name;
    const meta = settingRegistry.get(field);
    if (meta === undefined) {
      if (field instanceof z.ZodObject) {
        out.push(...collect(field, `${key}.`));
        continue;
      }
      throw new Error(`config key "${key}" is not declared with setting()`);
    }
    const computed = typeof meta.default === 'function' ? (meta.default as () => unknown) : undefined;
    out.push({
      key,
      env: meta.env,
      description: meta.description,
      ...(computed === undefined && meta.default !== undefined ? { default: meta.default } : {}),
      ...(meta.defaultDoc !== undefined ? { defaultDoc: meta.defaultDoc } : {}),
      ...(computed !== undefined ? { computedDefault: computed } : {}),
      runtime: meta.runtime === true,
      reported: meta.reported === true,
      secretFile: meta.secretFile === true,
      optional: field.safeParse(undefined).success,
      schema: field,
    });
  }
  return out;
}

/** Top-level keys of a config schema. */
export type SettingKey<S extends AnyObject> = keyof z.output<S> & string;

type FieldOf<S extends AnyObject, K extends keyof S['shape']> = S['shape'][K];

function carried(
  schema: AnyObject,
  key: string,
): { field: z.ZodType; meta: SettingMeta; description: string } {
  const field = schema.shape[key] as z.ZodType | undefined;
  const meta = field && settingRegistry.get(field);
  if (!field || !meta) throw new Error(`${key} is not a setting() field of this schema`);
  return { field, meta, description: `${meta.description} (the service's ${meta.env}).` };
}

/**
 * A top-level setting carried into another schema (the DSMCluster CRD, the operator's Helm values): the
 * same type, bounds and description (naming its environment variable), with its constant default, so the
 * setting is never retyped.
 */
export function carriedSetting<S extends AnyObject, K extends keyof S['shape'] & string>(
  schema: S,
  key: K,
): z.ZodDefault<FieldOf<S, K>> {
  const { field, meta, description } = carried(schema, key);
  if (meta.default === undefined || typeof meta.default === 'function')
    throw new Error(`setting ${key} has no constant default: use carriedOptionalSetting`);
  return field.default(meta.default as never).describe(description) as z.ZodDefault<FieldOf<S, K>>;
}

/** `carriedSetting` for a setting without a constant default: unset leaves it to the service. */
export function carriedOptionalSetting<S extends AnyObject, K extends keyof S['shape'] & string>(
  schema: S,
  key: K,
): z.ZodOptional<FieldOf<S, K>> {
  const { field, description } = carried(schema, key);
  return field.optional().describe(description) as z.ZodOptional<FieldOf<S, K>>;
}

/** Dotted key → environment variable name, for `loadConfig`'s env layer. */
export function envNamesOf(schema: AnyObject): Readonly<Record<string, string>> {
  return Object.fromEntries(settingsOf(schema).map((s) => [s.key, s.env]));
}

/** The defaults layer (computed defaults are computed now). */
export function defaultsOf(schema: AnyObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of settingsOf(schema)) {
    const value = s.computedDefault ? s.computedDefault() : s.default;
    if (value === undefined) continue;
    const parts = s.key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = structuredClone(value);
  }
  return out;
}

/** Keys `config set` may change at run time, in declaration order. */
export function runtimeKeysOf<S extends AnyObject>(schema: S): SettingKey<S>[] {
  return settingsOf(schema)
    .filter((s) => s.runtime)
    .map((s) => topLevel(s.key) as SettingKey<S>);
}

/** Keys `config get` shows: the run-time ones and those `reported`, in declaration order. */
export function reportedKeysOf<S extends AnyObject>(schema: S): SettingKey<S>[] {
  return settingsOf(schema)
    .filter((s) => s.runtime || s.reported)
    .map((s) => topLevel(s.key) as SettingKey<S>);
}

function topLevel(key: string): string {
  if (key.includes('.')) throw new Error(`run-time setting "${key}" must be a top-level key`);
  return key;
}

/** The values of `keys` in `config`, in that order (what the admin API answers). */
export function pickSettings<T extends object, K extends keyof T>(config: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, config[k]])) as Pick<T, K>;
}

/**
 * The admin `PUT config` body: a strict object of exactly the run-time keys, each optional, with the
 * bounds of the config schema.
 */
export function adminChangesSchema<S extends AnyObject>(schema: S): z.ZodType<Partial<z.output<S>>> {
  const shape = schema.shape as Record<string, z.ZodType>;
  return z.strictObject(
    Object.fromEntries(runtimeKeysOf(schema).map((key) => [key, (shape[key] as z.ZodType).optional()])),
  ) as unknown as z.ZodType<Partial<z.output<S>>>;
}

/**
 * Environment variables that give a service these settings (by key): numbers and booleans as text, lists
 * comma-separated, objects as JSON. An unknown key is an error, so a caller's typo never goes unnoticed.
 */
export function toEnvironment(
  schema: AnyObject,
  values: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const names = envNamesOf(schema);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const name = names[key];
    if (name === undefined) throw new Error(`no setting "${key}" (known: ${Object.keys(names).join(', ')})`);
    if (value === undefined) continue;
    env[name] = Array.isArray(value)
      ? value.map(String).join(',')
      : typeof value === 'object' && value !== null
        ? JSON.stringify(value)
        : String(value);
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Forms (what a value looks like), from the field's JSON Schema

export type SettingForm =
  | { kind: 'integer' | 'number'; minimum?: number; maximum?: number }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'string'; pattern?: string }
  | { kind: 'list'; item: SettingForm }
  | { kind: 'object' };

interface JsonSchemaNode {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  items?: JsonSchemaNode;
}

export function formOf(field: z.ZodType): SettingForm {
  return formOfJson(z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode);
}

function formOfJson(json: JsonSchemaNode): SettingForm {
  if (json.enum !== undefined) return { kind: 'enum', values: json.enum.map(String) };
  switch (json.type) {
    case 'integer':
    case 'number': {
      const bounded = (n: number | undefined) =>
        n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined;
      const minimum = bounded(json.minimum);
      const maximum = bounded(json.maximum);
      return {
        kind: json.type,
        ...(minimum !== undefined ? { minimum } : {}),
        ...(maximum !== undefined ? { maximum } : {}),
      };
    }
    case 'boolean':
      return { kind: 'boolean' };
    case 'string':
      return json.pattern !== undefined ? { kind: 'string', pattern: json.pattern } : { kind: 'string' };
    case 'array':
      return { kind: 'list', item: json.items ? formOfJson(json.items) : { kind: 'string' } };
    default:
      return { kind: 'object' };
  }
}

/** `policyCacheSize` → `policy-cache-size` (`bridge.ethereumRpc` → `bridge-ethereum-rpc`). */
export function kebabCase(key: string): string {
  return key.replace(/\./g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

// ---------------------------------------------------------------------------------------------
// Generated documents: JSON Schema, README table

export interface JsonSchemaOptions {
  title: string;
  description?: string;
}

/**
 * The JSON Schema of a config document (`DSM_CONFIG`), keys sorted: each property has its
 * `description`, its constant `default`, `x-env` (the variable), `x-runtime` (changeable by
 * `config set`) and `x-secret-file`. A key is `required` only when it has no default and no unset meaning.
 */
export function configJsonSchema(schema: AnyObject, options: JsonSchemaOptions): Record<string, unknown> {
  const byField = new Map(settingsOf(schema).map((s) => [s.schema, s]));
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const s = byField.get(zodSchema as unknown as z.ZodType);
      if (s === undefined) return;
      const target = jsonSchema as Record<string, unknown>;
      target.description =
        s.defaultDoc === undefined ? s.description : `${s.description} (default: ${s.defaultDoc})`;
      if (s.default !== undefined) target.default = s.default;
      target['x-env'] = s.env;
      target['x-runtime'] = s.runtime;
      target['x-secret-file'] = s.secretFile;
    },
  }) as Record<string, unknown>;
  requireOnlyWithoutDefault(json, schema, '');
  return sortKeys({
    ...json,
    title: options.title,
    ...(options.description !== undefined ? { description: options.description } : {}),
  }) as Record<string, unknown>;
}

/** `required` keeps the keys without a default and without a meaning when unset (and objects holding one). */
function requireOnlyWithoutDefault(json: Record<string, unknown>, schema: AnyObject, prefix: string): void {
  const settings = new Map(settingsOf(schema).map((s) => [s.key, s]));
  const walk = (node: Record<string, unknown>, at: string): boolean => {
    const properties = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    const nested = new Set(
      Object.entries(properties)
        .filter(([name, child]) => !settings.has(at + name) && walk(child, `${at}${name}.`))
        .map(([name]) => name),
    );
    const required = ((node.required ?? []) as string[]).filter((name) => {
      const s = settings.get(at + name);
      return s === undefined ? nested.has(name) : s.default === undefined && s.computedDefault === undefined;
    });
    if (required.length > 0) node.required = required.sort();
    else delete node.required;
    return required.length > 0;
  };
  walk(json, prefix);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

/**
 * JSON with two-space indents and a final newline, laid out as prettier (printWidth 110) lays it out:
 * objects one key a line, arrays of plain values on one line when they fit.
 */
export function formatJson(value: unknown, width = 110): string {
  return `${printJson(value, '', 0, 0, width)}\n`;
}

function printJson(value: unknown, indent: string, lead: number, tail: number, width: number): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => typeof v !== 'object' || v === null)) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      if (lead + flat.length + tail <= width) return flat;
    }
    const items = value.map(
      (v, i) => inner + printJson(v, inner, inner.length, i < value.length - 1 ? 1 : 0, width),
    );
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v], i) => {
      const head = `${inner}${JSON.stringify(k)}: `;
      return head + printJson(v, inner, head.length, i < entries.length - 1 ? 1 : 0, width);
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** The configuration table of a service README (one row per setting, in declaration order). */
export function configTable(schema: AnyObject): string {
  const rows = settingsOf(schema).map((s) =>
    [
      `\`${s.key}\``,
      `\`${s.env}\``,
      defaultText(s),
      s.secretFile ? 'file path (secret)' : formText(formOf(s.schema)),
      s.runtime ? 'yes' : '',
      s.description,
    ].map(cell),
  );
  return [
    '| key | environment | default | value | `config set` | description |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultText(s: Setting): string {
  if (s.defaultDoc !== undefined) return s.defaultDoc;
  if (s.default === undefined) return s.optional ? 'none' : '**required**';
  if (Array.isArray(s.default) && s.default.length === 0) return 'none';
  return `\`${Array.isArray(s.default) ? s.default.join(',') : String(s.default)}\``;
}

function formText(form: SettingForm): string {
  switch (form.kind) {
    case 'integer':
    case 'number': {
      const what = form.kind === 'integer' ? 'integer' : 'number';
      if (form.minimum !== undefined && form.maximum !== undefined)
        return `${what} ${form.minimum} to ${form.maximum}`;
      if (form.minimum !== undefined) return `${what} ≥ ${form.minimum}`;
      if (form.maximum !== undefined) return `${what} ≤ ${form.maximum}`;
      return what;
    }
    case 'boolean':
      return '`true` or `false`';
    case 'enum':
      return form.values.map((v) => `\`${v}\``).join(', ');
    case 'string':
      return 'text';
    case 'list':
      return form.item.kind === 'string'
        ? 'comma-separated list'
        : `comma-separated list of ${formText(form.item)}`;
    case 'object':
      return 'JSON object';
  }
}

/**
 * `text` with what lies between `<!-- name:start -->` and `<!-- name:end -->` replaced by `content`
 * (the markers stay); an error when the markers are missing.
 */
export function replaceSection(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`markers ${start} … ${end} not found`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}
