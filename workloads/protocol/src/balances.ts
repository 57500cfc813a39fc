/** The effect of each operation on a balance sheet (§5, V5). Pure bigint arithmetic. */
import { formatAmount, parseAmount } from './amount.js';
import type { Balances, Operation } from './objects.js';

export interface Holding {
  available: bigint;
  locked: bigint;
}

const ZERO: Holding = { available: 0n, locked: 0n };

export function holding(balances: Balances, token: string): Holding {
  const entry = balances[token];
  return entry === undefined
    ? ZERO
    : { available: parseAmount(entry.available, 'available'), locked: parseAmount(entry.locked, 'locked') };
}

/** The change to `token`'s (available, locked) that `op` makes; `initialSupply` is needed for token.create. */
export function effectOf(op: Operation, initialSupply?: bigint): Holding {
  switch (op.kind) {
    case 'genesis':
      return ZERO;
    case 'token.create':
      return { available: initialSupply ?? 0n, locked: 0n };
    case 'token.mint':
    case 'token.receive':
      return { available: BigInt(op.amount), locked: 0n };
    case 'token.burn':
    case 'token.transfer':
      return { available: -BigInt(op.amount), locked: 0n };
    case 'token.lock':
      return { available: -BigInt(op.amount), locked: BigInt(op.amount) };
    case 'token.unlock':
      return { available: BigInt(op.amount), locked: -BigInt(op.amount) };
  }
}

export type ApplyResult = { ok: true; balances: Balances } | { ok: false; token: string; holding: Holding };

/**
 * Previous balances with exactly `effect` applied to `token`; fails when a value would go negative
 * (or exceed 2^256−1). Zero entries are omitted so sheets compare by exact map equality.
 */
export function applyEffect(previous: Balances, token: string, effect: Holding): ApplyResult {
  const before = holding(previous, token);
  const after = { available: before.available + effect.available, locked: before.locked + effect.locked };
  const limit = (1n << 256n) - 1n;
  if (after.available < 0n || after.locked < 0n || after.available > limit || after.locked > limit) {
    return { ok: false, token, holding: after };
  }
  const balances: Balances = { ...previous };
  if (after.available === 0n && after.locked === 0n) delete balances[token];
  else balances[token] = { available: formatAmount(after.available), locked: formatAmount(after.locked) };
  return { ok: true, balances };
}

export function balancesEqual(a: Balances, b: Balances): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every(
    (k) => b[k] !== undefined && a[k]!.available === b[k].available && a[k]!.locked === b[k].locked,
  );
}
