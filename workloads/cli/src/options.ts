/**
 * Parsing and validation of option values, before anything is sent: a bad value is a usage error
 * (exit 2) naming the option, the value and what was expected.
 */
import { isHostPort } from '@dsm/runtime/address';
import { SIGNATURE_SUITES, isAmountText, parseId, type SignatureSuite } from '@dsm/protocol';
import { coreConfigSchema } from '@dsm/core/config';
import { formOf, kebabCase, settingsOf, type Setting, type SettingForm } from '@dsm/runtime/config';
import { LOG_LEVELS, type LogLevel } from '@dsm/runtime/log';
import { storageConfigSchema } from '@dsm/storage/config';
import { parseUnits } from './amount.js';
import { UsageError } from './errors.js';

function invalid(option: string, value: string, expected: string): UsageError {
  return new UsageError(`${option}: expected ${expected}, got "${value}"`, { option, value, expected });
}

/** A decimal integer in [min, max]; "1e3", "2.5", "-1", "" and "0x10" are refused. */
export function parseInteger(option: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const expected =
    max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  if (!/^[0-9]+$/.test(value.trim())) throw invalid(option, value, expected);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(option, value, expected);
  return n;
}

export function parseBoolean(option: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(option, value, 'true or false');
}

export function parseLogLevel(option: string, value: string): LogLevel {
  const v = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw invalid(option, value, `one of ${LOG_LEVELS.join(', ')}`);
}

export function parseSuite(option: string, value: string): SignatureSuite {
  if ((SIGNATURE_SUITES as readonly string[]).includes(value)) return value as SignatureSuite;
  throw invalid(option, value, `one of ${SIGNATURE_SUITES.join(', ')}`);
}

/** `host:port` (a name, an IPv4 address or a bracketed IPv6 address), port 1 to 65535: runtime's check. */
export function parsePeer(option: string, value: string): string {
  if (!isHostPort(value)) throw invalid(option, value, 'host:port');
  return value.trim();
}

/** A node given as `host:port` or as the URL of its port: its base URL. */
export function parseNodeUrl(option: string, value: string): string {
  const text = value.trim();
  if (isHostPort(text)) return `http://${text}`;
  return parseUrl(option, text);
}

/** A DSM id (identity, token, transfer, policy anchor) in its text form. */
export function parseIdText(option: string, value: string): string {
  try {
    return parseId(value.trim(), option).toString();
  } catch {
    throw invalid(option, value, 'a DSM id (base32 CIDv1, dag-cbor, BLAKE3)');
  }
}

/** An amount in base units as decimal text (`--raw`); `positive` refuses "0". */
export function parseAmountText(option: string, value: string, positive = true): string {
  const v = value.trim();
  if (!isAmountText(v) || (positive && v === '0')) {
    throw invalid(option, value, positive ? 'a positive integer amount' : 'an integer amount');
  }
  return v;
}

/** The most decimals a token can have (`token create --decimals`). */
export const MAX_DECIMALS = 36;

function amountExpected(positive: boolean, decimals?: number): string {
  const what = positive ? 'a positive amount' : 'an amount';
  if (decimals === undefined) return `${what} such as 25 or 25.50`;
  return decimals === 0 ? `${what} without decimals` : `${what} with at most ${decimals} decimals`;
}

/**
 * An amount in the token's decimals ("25", "25.5" or "25.00" with 2 decimals) as base-unit text
 * ("2500"); more fractional digits than the token has is a usage error. `positive` refuses zero.
 */
export function parseDecimalAmount(option: string, value: string, decimals: number, positive = true): string {
  const units = parseUnits(value.trim(), decimals);
  if (units === undefined || (positive && units === 0n)) {
    throw invalid(option, value, amountExpected(positive, decimals));
  }
  return units.toString();
}

/** Refuses, before the token's decimals are read, an amount no token could accept. */
export function checkDecimalAmount(option: string, value: string, positive = true): void {
  const units = parseUnits(value.trim(), MAX_DECIMALS);
  if (units === undefined || (positive && units === 0n)) {
    throw invalid(option, value, amountExpected(positive));
  }
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A user's own idempotency key: 1 to 255 visible ASCII characters (what an HTTP header carries as is). */
export function parseIdempotencyKey(option: string, value: string): string {
  if (!IDEMPOTENCY_KEY.test(value)) throw invalid(option, value, '1 to 255 visible ASCII characters');
  return value;
}

export function parseUrl(option: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(option, value, 'an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(option, value, 'an http(s) URL');
  return value;
}

// ---------------------------------------------------------------------------------------------
// `config get|set`: one flag per run-time setting of the core and storage schemas

/** What `config set` sends, in the admin API's names (the config keys). */
export type ConfigChanges = Record<string, unknown>;

/** Commander's options of `config set`: the flag's attribute name (the config key) → its text. */
export type ConfigSetOptions = Readonly<Record<string, string | undefined>>;

export interface ConfigFlag {
  /** Config key, sent as is (`policyCacheSize`). */
  key: string;
  /** `--policy-cache-size`: the key kebab-cased. */
  flag: string;
  /** `<n>`, `<bool>` or `<value>`, for the help. */
  argument: string;
  /** From the schema, with the services that have the setting when not all do. */
  description: string;
  /** Checks the form of the value (the node checks the bounds and names the source of a bad one). */
  parse(value: string): unknown;
}

const SERVICES = [
  ['core', coreConfigSchema],
  ['storage', storageConfigSchema],
] as const;

/** The run-time settings of every service, in declaration order (core first), each once. */
export const CONFIG_FLAGS: readonly ConfigFlag[] = configFlags();

function configFlags(): ConfigFlag[] {
  const byKey = new Map<string, { setting: Setting; services: string[] }>();
  for (const [service, schema] of SERVICES) {
    for (const setting of settingsOf(schema).filter((s) => s.runtime)) {
      const seen = byKey.get(setting.key);
      if (seen) seen.services.push(service);
      else byKey.set(setting.key, { setting, services: [service] });
    }
  }
  return [...byKey.values()].map(({ setting, services }) => {
    const flag = `--${kebabCase(setting.key)}`;
    const form = formOf(setting.schema);
    const where = services.length < SERVICES.length ? ` [${services.join(', ')}]` : '';
    return {
      key: setting.key,
      flag,
      argument: argumentNameOf(form),
      description: `${setting.description}${formHint(form)}${where}`,
      parse: (value: string) => parseForm(flag, value, form),
    };
  });
}

function argumentNameOf(form: SettingForm): string {
  if (form.kind === 'boolean') return 'bool';
  return form.kind === 'integer' || form.kind === 'number' ? 'n' : 'value';
}

function formHint(form: SettingForm): string {
  if (form.kind === 'boolean') return ': true or false';
  if (form.kind === 'enum') return `: ${form.values.join(', ')}`;
  return '';
}

/**
 * The form only: an integer where one is wanted (positive when the setting's lower bound is), true or
 * false, one of the values... The bounds are the node's to check: it answers E_CONFIG naming the key.
 */
function parseForm(option: string, value: string, form: SettingForm): unknown {
  switch (form.kind) {
    case 'integer':
      return parseInteger(option, value, (form.minimum ?? 0) > 0 ? 1 : 0);
    case 'number': {
      const n = Number(value.trim());
      if (value.trim() === '' || !Number.isFinite(n)) throw invalid(option, value, 'a number');
      return n;
    }
    case 'boolean':
      return parseBoolean(option, value);
    case 'enum': {
      const v = value.trim();
      const match = form.values.find((allowed) => allowed === v || allowed === v.toLowerCase());
      if (match === undefined) throw invalid(option, value, `one of ${form.values.join(', ')}`);
      return match;
    }
    case 'list':
      return value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    default:
      return value;
  }
}

/** Validates `config set` options (by config key); at least one is required. */
export function configChanges(options: ConfigSetOptions): ConfigChanges {
  const changes: ConfigChanges = {};
  for (const flag of CONFIG_FLAGS) {
    const value = options[flag.key];
    if (value !== undefined) changes[flag.key] = flag.parse(value);
  }
  if (Object.keys(changes).length === 0) {
    throw new UsageError(`config set: give at least one of ${CONFIG_FLAGS.map((f) => f.flag).join(', ')}`);
  }
  return changes;
}
