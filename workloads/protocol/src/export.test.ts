import { describe, expect, it } from '@jest/globals';
import { MemoryLedger } from './ledger.js';
import { nodeBackend } from './crypto/index.js';
import { decodeExport, encodeExport, EXPORT_FORMAT, verifyExport, type ChainExport } from './export.js';
import type { idOf } from './encoding.js';
import { Actor } from '../test/actors.js';

async function exportOf(
  actor: Actor,
  from: number,
  ledger: MemoryLedger,
  tokenId: ReturnType<typeof idOf>,
): Promise<ChainExport> {
  const token = ledger.tokenDefinition(tokenId)!;
  return {
    format: EXPORT_FORMAT,
    identity: actor.identity,
    genesis: ledger.genesis(actor.identity)!,
    states: actor.chain.slice(from),
    tokens: [token],
    policies: [ledger.policy(token.policy)!],
    foreign: [],
    ...(from > 0
      ? {
          checkpoint: {
            state: actor.chain[from - 1]!,
            received: [],
            issued: [{ token: tokenId, supply: '1000' }],
          },
        }
      : {}),
  };
}

describe('chain exports', () => {
  it('verify offline from a signed checkpoint, and refuse a checkpoint the identity did not sign', async () => {
    const ledger = new MemoryLedger(nodeBackend);
    const alice = new Actor(ledger, 61, 'ml-dsa-44', nodeBackend, false);
    const mallory = new Actor(ledger, 62, 'ml-dsa-44', nodeBackend, false);
    await alice.start();
    await mallory.start();
    const { tokenId } = await alice.createToken([]);
    for (let i = 0; i < 3; i++) await alice.act({ kind: 'token.burn', token: tokenId, amount: '1' });
    const bundle = decodeExport(encodeExport(await exportOf(alice, 2, ledger, tokenId)));
    const ok = await verifyExport(bundle, nodeBackend);
    expect(ok.failure).toBeUndefined();
    expect(ok.verified).toBe(3);

    const forged = {
      ...bundle,
      checkpoint: {
        ...bundle.checkpoint!,
        state: { ...bundle.checkpoint!.state, sig: mallory.chain[0]!.sig },
      },
    };
    const refused = await verifyExport(forged, nodeBackend);
    expect(refused.failure).toMatchObject({ rule: 'V3', n: 1 });
    expect(refused.failure!.error.code).toBe('E_SIGNATURE');
  });
});
