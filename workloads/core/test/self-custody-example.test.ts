/**
 * The README's self-custody walkthrough is `examples/self-custody.ts`, quoted verbatim: this runs it against
 * real core and storage processes, and fails when the README's copy differs from the file.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseId } from '@dsm/protocol';
import { eventually, Network } from '@dsm/testkit';
import { selfCustody } from '../examples/self-custody.js';

const example = readFileSync(join(import.meta.dirname, '../examples/self-custody.ts'), 'utf8');

describe('the self-custody example', () => {
  const net = new Network();
  beforeAll(async () => {
    await net.start();
  });
  afterAll(() => net.destroy());

  it('is quoted verbatim in the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
    expect(readme).toContain('```ts\n' + example + '```');
  });

  it('creates an identity, a token under a policy and a transfer that a hosted identity receives', async () => {
    const bob = (await net.core.call<{ identity: string }>('POST', '/v1/identities', { label: 'bob' })).body
      .identity;
    const result = await selfCustody(net.core.url, parseId(bob));
    const token = result.tokenId.toString();
    expect(result.balances).toEqual({ [token]: { available: '750', locked: '0' } });
    const mine = await net.core.call<{ n: number; hosted: boolean }>(
      'GET',
      `/v1/identities/${result.identity}`,
    );
    expect(mine.body).toMatchObject({ n: 2, hosted: false });
    await eventually(
      async () =>
        (
          await net.core.call<{ balances: Record<string, { available: string }> }>(
            'GET',
            `/v1/identities/${bob}/balances`,
          )
        ).body.balances[token]?.available === '250',
      15_000,
      'bob to receive the transfer',
    );
  });
});
