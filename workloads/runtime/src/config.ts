/**
 * Service configuration: one zod schema, four layers merged in this order (later wins):
 *   defaults < config file (`DSM_CONFIG`, JSON) < environment variables < persisted admin changes.
 * Everything is validated once at start; a bad value is a `ConfigError` naming the key, where the
 * value came from and the form expected, which a service's main prints before exiting non-zero.
 *
 * This module is `@dsm/runtime/config`: it (and what it re-exports: the `setting()` metadata of
 * settings.ts, log levels, `host:port`) loads neither RocksDB nor express, so the operator, cdk8s and the
 * CLI can import the services' schemas.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DsmError } from '@dsm/protocol';
import type { z } from 'zod';
import {
  adminChangesSchema,
  configJsonSchema,
  defaultsOf,
  envNamesOf,
  runtimeKeysOf,
  toEnvironment,
} from './settings.js';

export * from './settings.js';
export { isHostPort } from './address.js';
export { LOG_LEVELS, logLevelSchema, type LogLevel } from './log.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Dotted config key path (`logLevel`, `bridge.ethereumRpc`) → environment variable name. */
export type EnvNames = Readonly<Record<string, string>>;

export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export interface ConfigSources<S extends z.ZodObject> {
  defaults?: DeepPartial<z.input<S>>;
  env?: { names: EnvNames; vars?: Env };
  /** JSON config file; defaults to the path in `DSM_CONFIG`, no file when that is unset. */
  file?: string;
  /** JSON file (in the data volume) holding run-time admin changes; missing means none. */
  persisted?: string;
}

export interface ConfigProblem {
  key: string;
  expected: string;
  /** Where the value came from: `env DSM_CACHE_SIZE`, `file /etc/dsm/config.json`, `not set`... */
  source: string;
}

export class ConfigError extends DsmError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem | readonly ConfigProblem[]) {
    const list = Array.isArray(problems) ? problems : [problems as ConfigProblem];
    const first = list[0] ?? { key: '(config)', expected: 'a valid configuration', source: 'unknown' };
    super('E_CONFIG', `invalid configuration: ${list.map(describe).join('; ')}`, {
      key: first.key,
      expected: first.expected,
      source: first.source,
      keys: list.map((p) => p.key),
    });
    this.problems = list;
  }

  get key(): string {
    return this.problems[0]?.key ?? '(config)';
  }
}

function describe(problem: ConfigProblem): string {
  return `${problem.key} (${problem.source}): ${problem.expected}`;
}

export function loadConfig<S extends z.ZodObject>(schema: S, sources: ConfigSources<S> = {}): z.output<S> {
  return resolve(schema, readLayers(schema, sources), sources.env?.names ?? {});
}

/**
 * Validates admin changes (dotted key → value; `undefined` removes a persisted change) against
 * the whole configuration, and only then persists them atomically. Returns the new configuration.
 * Changes to one file are applied one after the other, so concurrent admin requests never lose one.
 */
export async function saveConfigChanges<S extends z.ZodObject>(
  schema: S,
  sources: ConfigSources<S>,
  changes: Readonly<Record<string, unknown>>,
): Promise<z.output<S>> {
  const file = sources.persisted;
  if (file === undefined) throw new Error('saveConfigChanges needs sources.persisted');
  const unknown = Object.keys(changes).filter((key) => fieldAt(schema, key) === undefined);
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((key) => ({ key, expected: 'a known config key', source: 'admin change' })),
    );
  }
  const previous = saving.get(file) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      const persisted = await readPersisted(file);
      for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) deletePath(persisted, key);
        else setPath(persisted, key, value);
      }
      const layers = readLayers(schema, { ...sources, persisted: undefined });
      layers.push({ label: () => 'admin change', values: persisted });
      const config = resolve(schema, layers, sources.env?.names ?? {});
      await writeFileAtomic(file, `${JSON.stringify(persisted, null, 2)}\n`);
      return config;
    });
  saving.set(file, run);
  try {
    return await run;
  } finally {
    if (saving.get(file) === run) saving.delete(file);
  }
}

const saving = new Map<string, Promise<unknown>>();

/**
 * An admin `PUT config` body checked against `adminChangesSchema(schema)`: not an object or a key that is
 * not changeable at run time is `E_BAD_REQUEST`; a value of the wrong form or out of bounds is a
 * `ConfigError` (`E_CONFIG`) naming the key, as `saveConfigChanges` would.
 */
export function parseAdminChanges<S extends z.ZodObject>(schema: S, body: unknown): Partial<z.output<S>> {
  const value = body ?? {};
  if (!isPlainObject(value)) {
    throw new DsmError('E_BAD_REQUEST', 'body: expected a JSON object of settings', { field: 'body' });
  }
  const changes = adminChangesSchema(schema);
  const result = changes.safeParse(value);
  if (result.success) return result.data;
  const unknown = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys : [],
  );
  if (unknown.length > 0) {
    const field = unknown[0] as string;
    throw new DsmError('E_BAD_REQUEST', `${field}: not a setting changeable at run time`, { field });
  }
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      key: issue.path.map(String).join('.') || '(body)',
      expected: issue.message,
      source: 'admin change',
    })),
  );
}

/** Turns the text of an env var (or a `config set` argument) into the form the schema wants. */
export function parseConfigValue(schema: z.ZodObject, key: string, raw: string): unknown {
  const field = fieldAt(schema, key);
  if (field === undefined) throw new ConfigError({ key, expected: 'a known config key', source: 'value' });
  const coerced = coerce(field, raw);
  if (!coerced.ok) throw new ConfigError({ key, expected: coerced.expected, source: 'value' });
  return coerced.value;
}

/**
 * Reads a secret mounted as a file (Kubernetes Secret, docker secret). One trailing newline run
 * is dropped because `echo` and editors add it; an empty secret is refused rather than
 * silently accepted as "no password". The secret never appears in errors.
 */
export function readSecretFile(file: string, key = 'secret file'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError({
      key,
      expected: `a readable file holding the secret (${reason})`,
      source: `file ${file}`,
    });
  }
  const secret = text.replace(/[\r\n]+$/, '');
  if (secret.trim() === '') {
    throw new ConfigError({ key, expected: 'a non-empty secret, the file is empty', source: `file ${file}` });
  }
  return secret;
}

/**
 * The `*_FILE` convention: the secret `NAME` is read from the file named by `NAME_FILE`.
 * A plain `NAME` variable is refused so secrets never sit in manifests or `docker inspect`.
 */
export function readSecretFromEnv(name: string, vars: Env = process.env): string | undefined {
  const fileVar = `${name}_FILE`;
  if (vars[name] !== undefined && vars[name] !== '') {
    throw new ConfigError({
      key: name,
      expected: `unset: put the secret in a file and set ${fileVar} to its path`,
      source: `env ${name}`,
    });
  }
  const file = vars[fileVar];
  if (file === undefined || file === '') return undefined;
  return readSecretFile(file, fileVar);
}

/** write temp + fsync + rename + fsync(dir): readers see the old or the new file, never half. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(file)}.${randomUUID()}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // The new name lives in the directory: without syncing it a crash can bring back the old file.
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Layers

type Values = Record<string, unknown>;

interface Layer {
  label: (key: string) => string;
  values: Values;
}

function readLayers<S extends z.ZodObject>(schema: S, sources: ConfigSources<S>): Layer[] {
  const vars = sources.env?.vars ?? process.env;
  const layers: Layer[] = [{ label: () => 'default', values: (sources.defaults ?? {}) as Values }];

  const file = sources.file ?? (vars.DSM_CONFIG || undefined);
  if (file !== undefined) {
    layers.push({ label: () => `file ${file}`, values: readJsonObject(file, 'DSM_CONFIG', false) });
  }

  const names = sources.env?.names ?? {};
  const envValues: Values = {};
  const problems: ConfigProblem[] = [];
  for (const [key, varName] of Object.entries(names)) {
    const field = fieldAt(schema, key);
    if (field === undefined) throw new Error(`env name ${varName} maps to unknown config key "${key}"`);
    const raw = vars[varName];
    // Empty counts as unset: compose files pass `${VAR:-}` through as "".
    if (raw === undefined || raw === '') continue;
    const coerced = coerce(field, raw);
    if (coerced.ok) setPath(envValues, key, coerced.value);
    else problems.push({ key, expected: coerced.expected, source: `env ${varName}` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  layers.push({ label: (key) => `env ${envNameOf(names, key) ?? '?'}`, values: envValues });

  if (sources.persisted !== undefined) {
    const persisted = sources.persisted;
    layers.push({
      label: () => `persisted ${persisted}`,
      values: readJsonObject(persisted, 'persisted', true),
    });
  }
  return layers;
}

async function readPersisted(file: string): Promise<Values> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  return parseJsonObject(text, file, 'persisted');
}

function readJsonObject(file: string, key: string, missingIsEmpty: boolean): Values {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (missingIsEmpty && code === 'ENOENT') return {};
    throw new ConfigError({
      key,
      expected: `a readable JSON file (${code ?? 'unreadable'})`,
      source: `file ${file}`,
    });
  }
  return parseJsonObject(text, file, key);
}

function parseJsonObject(text: string, file: string, key: string): Values {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError({
      key,
      expected: `valid JSON (${(err as Error).message})`,
      source: `file ${file}`,
    });
  }
  if (!isPlainObject(value))
    throw new ConfigError({ key, expected: 'a JSON object', source: `file ${file}` });
  return value;
}

function resolve<S extends z.ZodObject>(schema: S, layers: Layer[], names: EnvNames): z.output<S> {
  const merged = layers.reduce<Values>((acc, layer) => merge(acc, layer.values), {});
  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  const problems: ConfigProblem[] = [];
  for (const issue of result.error.issues) {
    const base = issue.path.map(String);
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...base, k]) : [base];
    for (const parts of keys) {
      const key = parts.join('.') || '(root)';
      const expected = issue.code === 'unrecognized_keys' ? 'no such config key' : issue.message;
      problems.push({ key, expected, source: sourceOf(layers, parts, names) });
    }
  }
  throw new ConfigError(problems);
}

/** The highest layer that set the key (or a parent of it) is the one to blame. */
function sourceOf(layers: Layer[], parts: string[], names: EnvNames): string {
  const key = parts.join('.');
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as Layer;
    let node: unknown = layer.values;
    for (const part of parts) {
      if (!isPlainObject(node)) break;
      node = node[part];
    }
    if (node !== undefined && parts.length > 0) return layer.label(key);
  }
  const envName = names[key];
  return envName === undefined ? 'not set' : `not set, env ${envName}`;
}

/** The variable that set `key` or the nearest parent (`connectPeers.0` → DSM_CONNECT_PEERS). */
function envNameOf(names: EnvNames, key: string): string | undefined {
  const parts = key.split('.');
  for (let n = parts.length; n > 0; n--) {
    const name = names[parts.slice(0, n).join('.')];
    if (name !== undefined) return name;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Schema introspection and coercion of strings

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return schema._zod.def as unknown as Def;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

/** Looks through optional/default/... and pipes (a transform's input is what the text must become). */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function fieldAt(schema: z.ZodType, key: string): z.ZodType | undefined {
  let current: z.ZodType = schema;
  for (const part of key.split('.')) {
    const def = defOf(unwrap(current));
    if (def.type !== 'object' || def.shape === undefined || !Object.hasOwn(def.shape, part)) return undefined;
    current = def.shape[part] as z.ZodType;
  }
  return current;
}

type Coerced = { ok: true; value: unknown } | { ok: false; expected: string };

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function coerce(field: z.ZodType, raw: string): Coerced {
  const def = defOf(unwrap(field));
  const text = raw.trim();
  switch (def.type) {
    case 'number': {
      const value = Number(text);
      return text !== '' && Number.isFinite(value)
        ? { ok: true, value }
        : { ok: false, expected: `expected a number, got ${JSON.stringify(raw)}` };
    }
    case 'bigint':
      return /^[+-]?\d+$/.test(text)
        ? { ok: true, value: BigInt(text) }
        : { ok: false, expected: `expected an integer, got ${JSON.stringify(raw)}` };
    case 'boolean': {
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return { ok: false, expected: `expected true or false, got ${JSON.stringify(raw)}` };
    }
    case 'array': {
      if (text.startsWith('[')) return parseJson(text, 'a JSON array');
      const items = text.split(',').map((item) => item.trim());
      const values: unknown[] = [];
      for (const [i, item] of items.filter((item) => item !== '').entries()) {
        const coerced = def.element ? coerce(def.element, item) : { ok: true as const, value: item };
        if (!coerced.ok)
          return { ok: false, expected: `item ${i + 1} of the comma-separated list: ${coerced.expected}` };
        values.push(coerced.value);
      }
      return { ok: true, value: values };
    }
    case 'object':
    case 'record':
      return parseJson(text, 'a JSON object');
    default:
      return { ok: true, value: raw };
  }
}

function parseJson(text: string, form: string): Coerced {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, expected: `expected ${form}, got ${JSON.stringify(text)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Plain-object helpers (JSON data only; `__proto__` and friends are never followed)

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

function isPlainObject(value: unknown): value is Values {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function merge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (FORBIDDEN.has(key) || value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? merge(current, value) : value;
  }
  return out;
}

function setPath(target: Values, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (FORBIDDEN.has(part)) return;
    const next = node[part];
    if (!isPlainObject(next)) node[part] = {};
    node = node[part] as Values;
  }
  const last = parts[parts.length - 1] as string;
  if (!FORBIDDEN.has(last)) node[last] = value;
}

function deletePath(target: Values, key: string): void {
  const parts = key.split('.');
  let node: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node)) return;
    node = node[part];
  }
  if (isPlainObject(node)) delete node[parts[parts.length - 1] as string];
}

/** Everything a service derives from its config schema, in one place (see `serviceSettings`). */
export interface ServiceSettings<S extends z.ZodObject> {
  schema: S;
  /** Config key → environment variable. */
  env: EnvNames;
  /** The defaults layer. */
  defaults: DeepPartial<z.input<S>>;
  /** Keys `dsm config set` may change at run time. */
  runtimeKeys: (keyof z.output<S> & string)[];
  /** The environment of a process of this service with these settings (testkit, `npm run dev`). */
  environment(values: DeepPartial<z.input<S>>): Record<string, string>;
  /** The JSON Schema of its `DSM_CONFIG` document (committed as `config.schema.json`). */
  jsonSchema(): Record<string, unknown>;
  /** The config layers from `env`; admin changes persist in `configDir` (default: from `env` and the defaults). */
  sources(env?: Env, configDir?: string): ConfigSources<S>;
  load(env?: Env): z.output<S>;
}

/**
 * Derives a service's config plumbing from its schema. `configDirKey` names the setting whose folder holds
 * the persisted admin changes (`admin-changes.json`); `defaults` may add values computed at start.
 */
export function serviceSettings<S extends z.ZodObject>(
  schema: S,
  options: {
    service: string;
    configDirKey: keyof z.output<S> & string;
    defaults?: () => Record<string, unknown>;
  },
): ServiceSettings<S> {
  const env = envNamesOf(schema);
  const defaults = () => ({ ...defaultsOf(schema), ...options.defaults?.() }) as DeepPartial<z.input<S>>;
  const sources = (vars: Env = process.env, configDir?: string): ConfigSources<S> => {
    const layer = defaults();
    const dir =
      configDir ||
      vars[env[options.configDirKey]!] ||
      String((layer as Record<string, unknown>)[options.configDirKey]);
    return {
      defaults: layer,
      env: { names: env, vars },
      ...(vars.DSM_CONFIG ? { file: vars.DSM_CONFIG } : {}),
      persisted: join(dir, 'admin-changes.json'),
    };
  };
  return {
    schema,
    env,
    get defaults() {
      return defaults();
    },
    runtimeKeys: runtimeKeysOf(schema),
    environment: (values) => toEnvironment(schema, values as Record<string, unknown>),
    jsonSchema: () =>
      configJsonSchema(schema, {
        title: `DSM ${options.service} configuration`,
        description:
          `The DSM_CONFIG file of a ${options.service}; each key can also be set by its environment variable (x-env). ` +
          'Layers: defaults < DSM_CONFIG < environment < run-time admin changes (x-runtime).',
      }),
    sources,
    load: (vars = process.env) => loadConfig(schema, sources(vars)),
  };
}
