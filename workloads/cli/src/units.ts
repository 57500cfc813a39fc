/**
 * Amounts in what the CLI prints: in each token's decimals by default, in base units with `--raw`.
 * JSON keeps every base-unit field as the core sent it (scripts rely on it) and adds a display field
 * next to it. Pure: the commands look the decimals up (context.ts) and hand them in.
 */
import { formatUnits } from './amount.js';
import type { Accepted, Balance, Balances, InboxEntry, ReceivedAll, TokenInfo } from './client.js';

/** `'raw'` with --raw; otherwise the decimals of the tokens whose definition could be read. */
export type Units = 'raw' | ReadonlyMap<string, number>;

/** An amount for people: "25.00"; its base units with --raw, marked as such when the decimals are unknown. */
export function amountText(amount: string, token: string, units: Units): string {
  if (units === 'raw') return amount;
  const decimals = units.get(token);
  return decimals === undefined ? `${amount} (base units)` : formatUnits(BigInt(amount), decimals);
}

export interface DisplayBalance extends Balance {
  decimals?: number;
  availableDisplay?: string;
  lockedDisplay?: string;
}

export function balancesWithDisplay(balances: Balances, units: Units): Record<string, DisplayBalance> {
  if (units === 'raw') return balances;
  return Object.fromEntries(
    Object.entries(balances).map(([token, balance]) => {
      const decimals = units.get(token);
      if (decimals === undefined) return [token, balance];
      return [
        token,
        {
          ...balance,
          decimals,
          availableDisplay: formatUnits(BigInt(balance.available), decimals),
          lockedDisplay: formatUnits(BigInt(balance.locked), decimals),
        },
      ];
    }),
  );
}

export function withBalancesDisplay<T extends { balances: Balances }>(result: T, units: Units): T {
  return { ...result, balances: balancesWithDisplay(result.balances, units) };
}

export function receivedWithDisplay(result: Accepted | ReceivedAll, units: Units): Accepted | ReceivedAll {
  if (!('received' in result)) return withBalancesDisplay(result, units);
  return { ...result, received: result.received.map((r) => withBalancesDisplay(r, units)) };
}

export function inboxWithDisplay(entries: InboxEntry[], units: Units): InboxEntry[] {
  if (units === 'raw') return entries;
  return entries.map((entry) => {
    const decimals = units.get(entry.token);
    return decimals === undefined
      ? entry
      : { ...entry, decimals, amountDisplay: formatUnits(BigInt(entry.amount), decimals) };
  });
}

/** A token carries its own decimals: nothing to look up. */
export function tokenWithDisplay(token: TokenInfo, units: Units): TokenInfo {
  if (units === 'raw') return token;
  const show = (amount: string) => formatUnits(BigInt(amount), token.decimals);
  return {
    ...token,
    initialSupplyDisplay: show(token.initialSupply),
    supply:
      token.supply === null
        ? null
        : {
            ...token.supply,
            issuedDisplay: show(token.supply.issued),
            burnedDisplay: show(token.supply.burned),
          },
  };
}

/** The tokens whose decimals an output needs. */
export function tokensOf(result: { balances: Balances } | ReceivedAll | { entries: InboxEntry[] }): string[] {
  if ('balances' in result) return Object.keys(result.balances);
  if ('received' in result) return result.received.flatMap((r) => Object.keys(r.balances));
  return result.entries.map((e) => e.token);
}
