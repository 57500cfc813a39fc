import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { idOf } from '@dsm/protocol';
import { FakeCore, UNAVAILABLE, dsmAt } from '../../test/fake-core.js';

const alice = idOf({ who: 'alice' }).toString();
const bob = idOf({ who: 'bob' }).toString();
const gold = idOf({ token: 'GLD' }).toString();
const silver = idOf({ token: 'SLV' }).toString();
const UUID = /^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$/;

const tokenInfo = (token: string, symbol: string, decimals: number) => ({
  token,
  issuer: alice,
  symbol,
  name: symbol,
  decimals,
  initialSupply: '100000',
  policy: 'p',
  created: true,
  supply: { issued: '100000', burned: '250' },
});
const accepted = (op: string) => ({
  identity: alice,
  n: 2,
  stateId: 'state-2',
  op,
  balances: { [gold]: { available: '97500', locked: '500' }, [silver]: { available: '7', locked: '0' } },
  replicas: ['s0:8765'],
});

let core: FakeCore;
const dsm = (...args: string[]) => dsmAt(core.url, ...args);
const transfer = `/v1/identities/${alice}/transfer`;

beforeAll(async () => {
  core = await new FakeCore().start();
});
afterAll(() => core.close());
beforeEach(() => {
  core.reset();
  core
    .on('GET', `/v1/tokens/${gold}`, [200, tokenInfo(gold, 'GLD', 2)])
    .on('GET', `/v1/tokens/${silver}`, [200, tokenInfo(silver, 'SLV', 0)]);
});

describe('idempotency keys of token commands', () => {
  it('sends one key per command and the same key again on the retry after a 503', async () => {
    core.on('POST', transfer, UNAVAILABLE, [200, accepted('token.transfer')]);
    const r = await dsm('token', 'transfer', '--as', alice, '--token', gold, '--amount', '25', '--to', bob);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const attempts = core.to('POST', transfer);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.key).toMatch(UUID);
    expect(attempts[1]!.key).toBe(attempts[0]!.key);
    expect(attempts[1]!.body).toEqual(attempts[0]!.body);

    core.reset();
    core.on('GET', `/v1/tokens/${gold}`, [200, tokenInfo(gold, 'GLD', 2)]);
    core.on('POST', transfer, [200, accepted('token.transfer')]);
    await dsm('token', 'transfer', '--as', alice, '--token', gold, '--amount', '25', '--to', bob);
    expect(core.to('POST', transfer)[0]!.key).not.toBe(attempts[0]!.key);
  });

  it('passes --idempotency-key through on every state-changing token command', async () => {
    const ops = ['mint', 'burn', 'lock', 'unlock', 'receive', 'tokens'];
    for (const op of ops) {
      core.on('POST', `/v1/identities/${alice}/${op}`, [
        200,
        { ...accepted(op === 'tokens' ? 'token.create' : `token.${op}`), token: gold, policy: 'p' },
      ]);
    }
    const common = ['--as', alice, '--idempotency-key', 'run-7'];
    for (const op of ['mint', 'burn', 'lock', 'unlock']) {
      expect((await dsm('token', op, ...common, '--token', gold, '--amount', '1')).code).toBe(0);
    }
    expect((await dsm('token', 'receive', ...common)).code).toBe(0);
    const create = [...common, '--symbol', 'NEW', '--name', 'New', '--supply', '1'];
    expect((await dsm('token', 'create', ...create)).code).toBe(0);
    const posts = core.requests.filter((r) => r.method === 'POST');
    expect(posts.map((p) => p.path.split('/').pop())).toEqual([
      'mint',
      'burn',
      'lock',
      'unlock',
      'receive',
      'tokens',
    ]);
    expect(new Set(posts.map((p) => p.key))).toEqual(new Set(['"run-7"']));
    const bad = await dsm('token', 'receive', '--as', alice, '--idempotency-key', 'two words');
    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toMatch(
      /^error E_USAGE: --idempotency-key: expected 1 to 255 visible ASCII characters/,
    );
  });

  it('prints the key to re-run with when the outcome is unknown', async () => {
    core.on('POST', transfer, UNAVAILABLE);
    const args = ['token', 'transfer', '--as', alice, '--token', gold, '--amount', '25', '--to', bob];
    const human = await dsm(...args, '--idempotency-key', 'k-42');
    expect(human.code).toBe(1);
    expect(human.stderr).toBe(
      'error E_UNAVAILABLE: storage quorum not reached\n' +
        'the outcome is unknown: run the same command again with --idempotency-key k-42\n',
    );
    expect(core.to('POST', transfer).length).toBeGreaterThan(1);
    const json = await dsm(...args, '--json');
    const doc = JSON.parse(json.stderr) as { error: { code: string; details: { idempotencyKey: string } } };
    expect(doc.error.code).toBe('E_UNAVAILABLE');
    expect(`"${doc.error.details.idempotencyKey}"`).toBe(core.to('POST', transfer).pop()!.key);
  }, 20_000);

  it('leaves the key out of errors whose outcome is known', async () => {
    core.on('POST', transfer, [400, { error: { code: 'E_POLICY', message: 'over the limit', details: {} } }]);
    const r = await dsm('token', 'transfer', '--as', alice, '--token', gold, '--amount', '60', '--to', bob);
    expect(r).toMatchObject({ code: 1, stderr: 'error E_POLICY: over the limit\n' });
    expect(core.to('POST', transfer)).toHaveLength(1);
  });
});

describe("amounts in the token's decimals", () => {
  it('reads --amount in the decimals of the token, once per run, and shows balances in them', async () => {
    core.on('POST', transfer, [200, accepted('token.transfer')]);
    const r = await dsm('token', 'transfer', '--as', alice, '--token', gold, '--amount', '25.5', '--to', bob);
    expect(r.code).toBe(0);
    expect(core.to('POST', transfer)[0]!.body).toEqual({ token: gold, amount: '2550', to: bob });
    expect(core.to('GET', `/v1/tokens/${gold}`)).toHaveLength(1);
    expect(r.stdout).toMatch(new RegExp(`${gold} +975\\.00 +5\\.00`));
    expect(r.stdout).toMatch(new RegExp(`${silver} +7 +0`));
  });

  it('adds display fields to JSON and keeps the base units', async () => {
    core.on('POST', transfer, [200, accepted('token.transfer')]);
    const r = await dsm(
      'token',
      'transfer',
      '--as',
      alice,
      '--token',
      gold,
      '--amount',
      '1',
      '--to',
      bob,
      '--json',
    );
    const doc = JSON.parse(r.stdout) as { balances: Record<string, unknown> };
    expect(doc.balances).toEqual({
      [gold]: {
        available: '97500',
        locked: '500',
        decimals: 2,
        availableDisplay: '975.00',
        lockedDisplay: '5.00',
      },
      [silver]: { available: '7', locked: '0', decimals: 0, availableDisplay: '7', lockedDisplay: '0' },
    });
  });

  it('refuses more fractional digits than the token has as a usage error, before posting', async () => {
    for (const [amount, expected] of [
      ['25.005', 'a positive amount with at most 2 decimals'],
      ['0.00', 'a positive amount such as 25 or 25.50'],
      ['1e3', 'a positive amount such as 25 or 25.50'],
      ['-1', 'a positive amount such as 25 or 25.50'],
    ]) {
      const r = await dsm('token', 'mint', '--as', alice, '--token', gold, '--amount', amount!);
      expect(r).toMatchObject({
        code: 2,
        stderr: `error E_USAGE: --amount: expected ${expected}, got "${amount}"\n`,
      });
    }
    expect(
      (await dsm('token', 'mint', '--as', alice, '--token', silver, '--amount', '1.5')).stderr,
    ).toContain('expected a positive amount without decimals');
    expect(core.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('takes and shows base units with --raw, reading no token definition', async () => {
    core.on('POST', transfer, [200, accepted('token.transfer')]);
    const r = await dsm(
      '--raw',
      'token',
      'transfer',
      '--as',
      alice,
      '--token',
      gold,
      '--amount',
      '2550',
      '--to',
      bob,
    );
    expect(core.to('POST', transfer)[0]!.body).toMatchObject({ amount: '2550' });
    expect(r.stdout).toMatch(new RegExp(`${gold} +97500 +500`));
    const json = await dsm('token', 'show', gold, '--raw', '--json');
    expect(JSON.parse(json.stdout)).toEqual(tokenInfo(gold, 'GLD', 2));
    expect(core.to('GET', `/v1/tokens/${gold}`)).toHaveLength(1);
    expect(
      (await dsm('--raw', 'token', 'mint', '--as', alice, '--token', gold, '--amount', '2.5')).code,
    ).toBe(2);
  });

  it('marks amounts whose token cannot be read as base units rather than failing', async () => {
    const unknown = idOf({ token: 'gone' }).toString();
    core.on('POST', transfer, [
      200,
      { ...accepted('token.transfer'), balances: { [unknown]: { available: '12', locked: '0' } } },
    ]);
    const r = await dsm('token', 'transfer', '--as', alice, '--token', gold, '--amount', '1', '--to', bob);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${unknown} +12 \\(base units\\) +0 \\(base units\\)`));
  });

  it('token create reads --supply in its own --decimals', async () => {
    const created = {
      ...accepted('token.create'),
      token: gold,
      policy: 'p',
      balances: { [gold]: { available: '100000', locked: '0' } },
    };
    core.on('POST', `/v1/identities/${alice}/tokens`, [200, created]);
    const args = ['token', 'create', '--as', alice, '--symbol', 'GLD', '--name', 'Gold', '--decimals', '2'];
    const r = await dsm(...args, '--supply', '1000.00');
    expect(r.code).toBe(0);
    expect(core.to('POST', `/v1/identities/${alice}/tokens`)[0]!.body).toMatchObject({
      decimals: 2,
      initialSupply: '100000',
    });
    expect(r.stdout).toMatch(new RegExp(`${gold} +1000\\.00 +0\\.00`));
    expect(core.to('GET', `/v1/tokens/${gold}`)).toHaveLength(0);
    expect((await dsm(...args, '--supply', '1000.001')).code).toBe(2);
    expect((await dsm(...args, '--supply', '0')).code).toBe(0);
  });

  it('token show prints supplies in the decimals and adds display fields to JSON', async () => {
    const text = await dsm('token', 'show', gold);
    expect(text.stdout).toMatch(/initial supply: +1000\.00/);
    expect(text.stdout).toMatch(/burned: +2\.50/);
    const json = JSON.parse((await dsm('token', 'show', gold, '--json')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      initialSupply: '100000',
      initialSupplyDisplay: '1000.00',
      supply: { issued: '100000', issuedDisplay: '1000.00', burned: '250', burnedDisplay: '2.50' },
    });
  });
});
