/** Two hosted identities on a test network's core, alice holding a token of `supply` with no conditions. */
import type { CoreProcess, Network } from '@dsm/testkit';

export type Json = Record<string, unknown> & { error?: { code: string; details: Record<string, unknown> } };
export type Balances = Record<string, { available: string; locked: string }>;

export async function hostedPair(net: Network, supply = '100000') {
  const id = async (label: string) =>
    (await net.core.call<Json>('POST', '/v1/identities', { label, suite: 'ml-dsa-44' })).body
      .identity as string;
  const alice = await id('alice');
  const bob = await id('bob');
  const created = await net.core.call<Json>('POST', `/v1/identities/${alice}/tokens`, {
    symbol: 'R',
    name: 'Res',
    initialSupply: supply,
    policy: { conditions: [] },
  });
  return { alice, bob, token: created.body.token as string };
}

/** The balances of `who` as the core answers them. */
export const balancesOf = async (core: CoreProcess, who: string) =>
  (await core.call<{ balances: Balances }>('GET', `/v1/identities/${who}/balances`)).body.balances;
