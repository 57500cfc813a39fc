/**
 * One idempotency key per run of a state-changing command, sent with every attempt of its one POST:
 * a fresh random UUID, or the user's own with `--idempotency-key`, so that running the same command
 * again after an unknown outcome cannot apply it twice.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { withIdempotencyKey } from './errors.js';
import { parseIdempotencyKey } from './options.js';

export interface KeyOptions {
  idempotencyKey?: string;
}

export function addIdempotencyKeyOption(command: Command): Command {
  return command.option(
    '--idempotency-key <key>',
    'the key of an earlier run whose outcome is unknown (E_UNAVAILABLE, a timeout); default: a new one',
  );
}

export function idempotencyKeyOf(options: KeyOptions): string {
  const given = options.idempotencyKey;
  return given !== undefined ? parseIdempotencyKey('--idempotency-key', given) : randomUUID();
}

/** Makes the command's call with its key; an unknown outcome is reported with the key to re-run with. */
export async function keyed<T>(key: string, call: (key: string) => Promise<T>): Promise<T> {
  try {
    return await call(key);
  } catch (error) {
    throw withIdempotencyKey(error, key);
  }
}
