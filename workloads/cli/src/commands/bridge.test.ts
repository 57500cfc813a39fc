import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { bridgeIdentity, parseBridgeSeed } from '@dsm/bridge/identity';
import { idOf } from '@dsm/protocol';
import type { BridgeStatus } from '../client.js';
import { renderBridgeStatus } from '../output.js';
import { run } from '../program.js';
import {
  DEFAULT_WAIT_SECONDS,
  depositMemo,
  parseDepositRef,
  parseEvmAddress,
  parseEvmKey,
  parseWait,
  parseWithdrawalRef,
  withAmountDisplay,
} from './bridge.js';

// ---- a stand-in for the services: a real node:http server on 127.0.0.1 answering fixed JSON per route

interface Seen {
  method: string;
  path: string;
  query: string;
  authorization: string | undefined;
  key: string | undefined;
  body: unknown;
}
type Answer = [status: number, body: unknown];

class Stand {
  readonly seen: Seen[] = [];
  private readonly routes = new Map<string, Answer[] | ((req: Seen) => Answer)>();
  private readonly server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const [path, query] = (req.url ?? '').split('?');
        const header = (name: string) => {
          const v = req.headers[name];
          return typeof v === 'string' ? v : undefined;
        };
        const seen: Seen = {
          method: req.method ?? '',
          path: decodeURIComponent(path ?? ''),
          query: query ?? '',
          authorization: header('authorization'),
          key: header('idempotency-key'),
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        };
        this.seen.push(seen);
        const route = this.routes.get(`${seen.method} ${seen.path}`);
        // Answers are played in order; the last one repeats.
        const [status, body]: Answer =
          route === undefined
            ? [404, { error: { code: 'E_NOT_FOUND', message: `no route ${seen.path}`, details: {} } }]
            : typeof route === 'function'
              ? route(seen)
              : route.length > 1
                ? route.shift()!
                : route[0]!;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
  }

  on(method: string, path: string, ...answers: Answer[] | [(req: Seen) => Answer]): this {
    const [first] = answers;
    this.routes.set(`${method} ${path}`, typeof first === 'function' ? first : (answers as Answer[]));
    return this;
  }

  to(method: string, path: string): Seen[] {
    return this.seen.filter((r) => r.method === method && r.path === path);
  }

  reset(): void {
    this.seen.length = 0;
    this.routes.clear();
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// ---- fixtures

const alice = idOf({ who: 'alice' }).toString();
const bob = idOf({ who: 'bob' }).toString();
const bridgeId = idOf({ who: 'bridge' }).toString();
const gold = idOf({ token: 'GLD' }).toString();
const silver = idOf({ token: 'SLV' }).toString();
const transferId = idOf({ transfer: 1 }).toString();
const releaseId = idOf({ release: 1 }).toString();
const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const WRAPPED = '0xa16E02E87b7454126E5E10d957A927A7F5B5d2be';
const ATTESTER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const SIGNER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const RECIPIENT = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const HASH = `0x${'ab'.repeat(32)}`;
const BLOCK_HASH = `0x${'cd'.repeat(32)}`;
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
  supply: { issued: '100000', burned: '0' },
});

const statusBody = (over: Partial<BridgeStatus> = {}): BridgeStatus => ({
  service: 'dsm-bridge',
  version: '0.1.0',
  identity: bridgeId,
  chainId: 31337,
  contract: CONTRACT,
  confirmations: 2,
  evm: { reachable: true, head: 120, lastProcessedBlock: 118, lag: 2 },
  dsm: { reachable: true, n: 7 },
  attesters: [ATTESTER],
  signers: [ATTESTER, SIGNER],
  threshold: 2,
  pending: { deposits: 1, withdrawals: 0 },
  halted: null,
  invariant: [
    {
      token: gold,
      wrapped: WRAPPED,
      dsmBalance: '10000',
      wrappedSupply: '9750',
      inFlight: '250',
      gap: '0',
      block: 118,
    },
  ],
  ...over,
});

const wrappedGold = { token: gold, wrapped: WRAPPED, symbol: 'GLD', name: 'Gold', decimals: 2 };

const deposit = (status: string, over: Record<string, unknown> = {}) => ({
  transfer: transferId,
  from: alice,
  token: gold,
  amount: '2550',
  memo: `evm:31337:${RECIPIENT.toLowerCase()}`,
  status,
  chainId: 31337,
  recipient: RECIPIENT.toLowerCase(),
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  ...over,
});

const withdrawal = (status: string, over: Record<string, unknown> = {}) => ({
  id: `${HASH}:3`,
  txHash: HASH,
  logIndex: 3,
  blockNumber: 110,
  blockHash: BLOCK_HASH,
  wrapped: WRAPPED,
  token: gold,
  from: RECIPIENT,
  amount: '125',
  recipient: bob,
  nonce: '0',
  status,
  receiptsRoot: BLOCK_HASH,
  proof: ['0xf851', '0xf901'],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  ...over,
});

const accepted = {
  identity: alice,
  n: 4,
  stateId: transferId,
  op: 'token.transfer',
  balances: { [gold]: { available: '7450', locked: '0' } },
  replicas: ['s0:8765'],
};

let core: Stand;
let bridge: Stand;
let rpc: Stand;
let dir: string;

async function dsm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(['node', 'dsm', '--url', core.url, '--bridge-url', bridge.url, ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  [core, bridge, rpc] = await Promise.all([new Stand().start(), new Stand().start(), new Stand().start()]);
  dir = mkdtempSync(join(tmpdir(), 'dsm-cli-bridge-'));
});
afterAll(async () => {
  await Promise.all([core.close(), bridge.close(), rpc.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const stand of [core, bridge, rpc]) stand.reset();
  core
    .on('GET', `/v1/tokens/${gold}`, [200, tokenInfo(gold, 'GLD', 2)])
    .on('GET', `/v1/tokens/${silver}`, [200, tokenInfo(silver, 'SLV', 0)]);
  bridge
    .on('GET', '/v1/status', [200, statusBody()])
    .on('GET', '/v1/tokens', [200, { tokens: [wrappedGold] }]);
});

// ---- pure

describe('option values', () => {
  it('builds the deposit memo with the address lowercased, and refuses what is not an address', () => {
    expect(depositMemo(31337, RECIPIENT)).toBe(`evm:31337:${RECIPIENT.toLowerCase()}`);
    expect(depositMemo(1, RECIPIENT.toLowerCase())).toBe(`evm:1:${RECIPIENT.toLowerCase()}`);
    expect(parseEvmAddress('--to', ` ${RECIPIENT.toUpperCase().replace('0X', '0x')} `)).toBe(
      RECIPIENT.toLowerCase(),
    );
    const badChecksum = RECIPIENT.replace('F79', 'f79');
    for (const bad of [
      badChecksum,
      RECIPIENT.slice(0, 41),
      `${RECIPIENT}00`,
      'XE7338O073KYGTWWZN0F2WZ0R8PX5ZPPZS',
      '',
    ]) {
      expect(() => parseEvmAddress('--to', bad)).toThrow(/^--to: expected an EVM address/);
    }
  });

  it('reads --wait as a default, a number of seconds or nothing', () => {
    expect(parseWait('--wait', undefined)).toBeUndefined();
    expect(parseWait('--wait', true)).toBe(DEFAULT_WAIT_SECONDS);
    expect(parseWait('--wait', '30')).toBe(30);
    expect(() => parseWait('--wait', '0')).toThrow('--wait: expected an integer from 1 to 86400, got "0"');
    expect(() => parseWait('--wait', '2.5')).toThrow(/^--wait/);
  });

  it('takes deposit and withdrawal references in their forms, hashes lowercased', () => {
    const upper = `0x${'AB'.repeat(32)}`;
    expect(parseDepositRef('<ref>', upper)).toBe(HASH);
    expect(parseDepositRef('<ref>', transferId)).toBe(transferId);
    expect(() => parseDepositRef('<ref>', `${HASH}:3`)).toThrow(/^<ref>: expected a DSM transfer id/);
    expect(parseWithdrawalRef('<ref>', upper)).toBe(HASH);
    expect(parseWithdrawalRef('<ref>', `${upper}:3`)).toBe(`${HASH}:3`);
    expect(parseWithdrawalRef('<ref>', releaseId)).toBe(releaseId);
    for (const bad of [`${HASH}:x`, `${HASH}:1:2`, '0x12', 'bafy']) {
      expect(() => parseWithdrawalRef('<ref>', bad)).toThrow(/^<ref>: expected a burn transaction hash/);
    }
  });

  it('reads an EVM key file and never repeats what it holds', () => {
    const wallet = Wallet.createRandom();
    expect(parseEvmKey('--key-file', 'k', `${wallet.privateKey}\n`).address).toBe(wallet.address);
    for (const text of [
      'secret-words here',
      wallet.privateKey.slice(2),
      `0x${'0'.repeat(64)}`,
      `0x${'f'.repeat(64)}`,
    ]) {
      let message = '';
      try {
        parseEvmKey('--key-file', 'k.txt', text);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toBe('--key-file: k.txt does not hold an EVM private key (0x and 64 hex characters)');
    }
  });

  it('adds display amounts next to base units, not with --raw or unknown decimals', () => {
    const item = { token: gold, amount: '2550' };
    expect(withAmountDisplay(item, new Map([[gold, 2]]))).toEqual({
      ...item,
      decimals: 2,
      amountDisplay: '25.50',
    });
    expect(withAmountDisplay(item, 'raw')).toEqual(item);
    expect(withAmountDisplay(item, new Map())).toEqual(item);
  });
});

describe('bridge status rendering', () => {
  it('shows a halted bridge first, where to send deposits, and flags a non-zero gap', () => {
    const status = statusBody({
      halted: { reason: 'reorg deeper than 2 blocks', block: 117, at: '2026-01-01T00:00:05.000Z' },
      evm: { reachable: false, head: null, lastProcessedBlock: 118, lag: null, lastError: 'ECONNREFUSED' },
      invariant: [
        {
          token: gold,
          wrapped: WRAPPED,
          dsmBalance: '10000',
          wrappedSupply: '9750',
          inFlight: '0',
          gap: '250',
          block: 118,
        },
        {
          token: silver,
          wrapped: CONTRACT,
          dsmBalance: '5',
          wrappedSupply: '6',
          inFlight: '0',
          gap: '-1',
          block: 118,
        },
      ],
    });
    const text = renderBridgeStatus('http://b:8768', status, new Map([[gold, 2]]));
    const lines = text.split('\n');
    expect(lines[0]).toBe('dsm-bridge 0.1.0 at http://b:8768');
    expect(lines[1]).toBe('HALTED at block 117 since 2026-01-01T00:00:05.000Z: reorg deeper than 2 blocks');
    expect(text).toContain('INVARIANT FAULT: 2 tokens with a non-zero gap');
    expect(text).toMatch(new RegExp(`identity: +${bridgeId}`));
    expect(text).toMatch(/deposit memo: +evm:31337:<0x recipient>/);
    expect(text).toMatch(/halted: +YES \(block 117\)/);
    expect(text).toMatch(/ {2}reachable: +no/);
    expect(text).toMatch(/ {2}head: +-/);
    expect(text).toMatch(/ {2}last error: +ECONNREFUSED/);
    expect(text).toMatch(/threshold: +2 of 2/);
    expect(text).toMatch(new RegExp(`signers: +${ATTESTER}, ${SIGNER}`));
    expect(text).toMatch(/pending deposits: +1/);
    expect(text).toMatch(new RegExp(`${gold} +${WRAPPED} +100\\.00 +97\\.50 +0\\.00 +2\\.50 +118 +FAULT`));
    // Without its decimals a token's amounts stay base units, marked; a negative gap keeps its sign.
    expect(text).toMatch(new RegExp(`${silver} .* -1 \\(base units\\) +118 +FAULT`));
  });

  it('shows a healthy bridge without alarms', () => {
    const text = renderBridgeStatus('http://b:8768', statusBody(), 'raw');
    expect(text).not.toMatch(/HALTED|FAULT/);
    expect(text).toMatch(/halted: +no/);
    expect(text).toMatch(new RegExp(`${gold} +${WRAPPED} +10000 +9750 +250 +0 +118 +ok`));
    expect(renderBridgeStatus('u', statusBody({ invariant: [] }))).toContain('invariant: no wrapped tokens');
  });
});

// ---- commands against stand-ins of the bridge, the core and an EVM node

describe('dsm bridge status, deposits, withdrawals', () => {
  it('status prints the body with --json, and amounts in the wrapped decimals for people', async () => {
    const json = await dsm('bridge', 'status', '--json');
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual(statusBody());
    expect(bridge.to('GET', '/v1/tokens')).toHaveLength(0);
    const text = await dsm('bridge', 'status');
    expect(text.stdout).toMatch(
      new RegExp(`${gold} +${WRAPPED} +100\\.00 +97\\.50 +2\\.50 +0\\.00 +118 +ok`),
    );
    expect(bridge.seen.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('lists deposits in the tokens’ decimals, looks one up, and keeps base units with --raw', async () => {
    bridge
      .on('GET', '/v1/deposits', [200, { deposits: [deposit('minted', { mintTx: HASH, mintBlock: 119 })] }])
      .on('GET', `/v1/deposits/${HASH}`, [200, { deposits: [deposit('minted', { mintTx: HASH })] }]);
    const list = await dsm('bridge', 'deposits', '--limit', '5');
    expect(list.code).toBe(0);
    expect(bridge.to('GET', '/v1/deposits')[0]!.query).toBe('limit=5');
    expect(list.stdout).toMatch(
      new RegExp(
        `${transferId} +minted +${gold} +25\\.50 +31337:${RECIPIENT.toLowerCase()} +mint ${HASH} \\(block 119\\)`,
      ),
    );
    const one = await dsm('bridge', 'deposits', HASH.toUpperCase().replace('0X', '0x'), '--json');
    const doc = JSON.parse(one.stdout) as { deposits: Record<string, unknown>[] };
    expect(doc.deposits[0]).toMatchObject({
      amount: '2550',
      decimals: 2,
      amountDisplay: '25.50',
      mintTx: HASH,
    });
    const details = await dsm('bridge', 'deposits', HASH);
    expect(details.stdout).toMatch(/amount: +25\.50/);
    expect(details.stdout).toMatch(new RegExp(`mint tx: +${HASH}`));
    core.reset();
    const raw = await dsm('bridge', 'deposits', '--raw');
    expect(raw.stdout).toMatch(new RegExp(`${transferId} +minted +${gold} +2550 `));
    expect(core.seen).toHaveLength(0);
  });

  it('a look-up that finds nothing is E_NOT_FOUND; a bad reference or --limit is a usage error', async () => {
    bridge.on('GET', `/v1/deposits/${transferId}`, [200, { deposits: [] }]);
    expect(await dsm('bridge', 'deposits', transferId)).toMatchObject({
      code: 1,
      stderr: `error E_NOT_FOUND: no deposit with transfer id or mint transaction ${transferId}\n`,
    });
    const bad = await dsm('bridge', 'deposits', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^error E_USAGE: <ref>: expected a DSM transfer id or a mint transaction hash/,
    );
    expect((await dsm('bridge', 'withdrawals', '--limit', '0')).stderr).toMatch(/^error E_USAGE: --limit/);
    expect((await dsm('bridge', 'withdrawals', HASH, '--limit', '3')).stderr).toBe(
      'error E_USAGE: --limit: only for a list, not with <ref>\n',
    );
    expect(bridge.seen.filter((r) => r.path.startsWith('/v1/withdrawals'))).toHaveLength(0);
  });

  it('lists withdrawals and looks one up by <txHash>:<logIndex>', async () => {
    bridge
      .on('GET', '/v1/withdrawals', [200, { withdrawals: [withdrawal('released', { release: releaseId })] }])
      .on('GET', `/v1/withdrawals/${HASH}:3`, [200, { withdrawals: [withdrawal('proven')] }]);
    const list = await dsm('bridge', 'withdrawals');
    expect(list.stdout).toMatch(
      new RegExp(`${HASH}:3 +released +${gold} +1\\.25 +${bob} +release ${releaseId}`),
    );
    expect(bridge.to('GET', '/v1/withdrawals')[0]!.query).toBe('');
    const one = await dsm('bridge', 'withdrawals', `${HASH}:3`);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/status: +proven/);
    expect(one.stdout).toMatch(/proof: +2 trie nodes/);
    expect(one.stdout).toMatch(/amount: +1\.25/);
  });
});

describe('dsm bridge deploy', () => {
  it('sends the admin token as bearer and prints the wrapped address', async () => {
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, 'admin-secret\n');
    bridge.on('POST', '/v1/admin/tokens', [201, { ...wrappedGold, deployed: true, txHash: HASH }]);
    const r = await dsm('--token-file', tokenFile, 'bridge', 'deploy', gold);
    expect(r.code).toBe(0);
    expect(bridge.to('POST', '/v1/admin/tokens')).toEqual([
      expect.objectContaining({ authorization: 'Bearer admin-secret', body: { token: gold } }),
    ]);
    expect(r.stdout).toMatch(new RegExp(`wrapped: +${WRAPPED}`));
    expect(r.stdout).toMatch(/deployed: +yes, now/);
    bridge.on('POST', '/v1/admin/tokens', [200, { ...wrappedGold, deployed: false }]);
    expect((await dsm('--token-file', tokenFile, 'bridge', 'deploy', gold)).stdout).toMatch(
      /deployed: +no, it was deployed before/,
    );
    expect((await dsm('--token-file', tokenFile, '-q', 'bridge', 'deploy', gold)).stdout).toBe(
      `${WRAPPED}\n`,
    );
    // Reads send no token, and a token file that cannot be read does not stop them.
    expect((await dsm('--token-file', join(dir, 'absent'), 'bridge', 'status')).code).toBe(0);
    expect(bridge.to('GET', '/v1/status').every((r) => r.authorization === undefined)).toBe(true);
    expect((await dsm('bridge', 'deploy', 'not-an-id')).code).toBe(2);
  });
});

describe('dsm bridge deposit', () => {
  const transfer = `/v1/identities/${alice}/transfer`;
  const args = ['bridge', 'deposit', '--as', alice, '--token', gold, '--amount', '25.5', '--to', RECIPIENT];

  it('transfers to the bridge identity with the memo evm:<chainId>:<address>, with an idempotency key', async () => {
    core.on('POST', transfer, [200, accepted]);
    const r = await dsm(...args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [post] = core.to('POST', transfer);
    expect(post!.body).toEqual({
      token: gold,
      amount: '2550',
      to: bridgeId,
      memo: `evm:31337:${RECIPIENT.toLowerCase()}`,
    });
    expect(post!.key).toMatch(UUID);
    expect(r.stdout).toContain(`sent 25.50 to the bridge ${bridgeId}`);
    expect(r.stdout).toMatch(new RegExp(`transfer: +${transferId}`));
    expect(r.stdout).toMatch(new RegExp(`${gold} +74\\.50 +0\\.00`));
    const json = JSON.parse((await dsm(...args, '--idempotency-key', 'dep-1', '--json')).stdout) as Record<
      string,
      unknown
    >;
    expect(json).toMatchObject({
      transfer: transferId,
      amount: '2550',
      amountDisplay: '25.50',
      chainId: 31337,
    });
    expect(core.to('POST', transfer)[1]!.key).toBe('"dep-1"');
  });

  it('waits until minted, with progress on stderr', async () => {
    core.on('POST', transfer, [200, accepted]);
    bridge.on(
      'GET',
      `/v1/deposits/${transferId}`,
      [404, { error: { code: 'E_NOT_FOUND', message: 'no deposit', details: {} } }],
      [200, { deposits: [deposit('received')] }],
      [200, { deposits: [deposit('minted', { mintTx: HASH, mintBlock: 121 })] }],
    );
    const r = await dsm(...args, '--wait', '20');
    expect(r.code).toBe(0);
    const progress = r.stderr.trim().split('\n');
    expect(progress.map((line) => line.replace(/ \([0-9.]+ s\)$/, ''))).toEqual([
      `deposit ${transferId}: not seen by the bridge yet`,
      `deposit ${transferId}: received`,
      `deposit ${transferId}: minted`,
    ]);
    expect(r.stdout).toContain(`deposit minted by mint ${HASH} (block 121)`);
  }, 20_000);

  it('exits 1 when the deposit is refunded or not done in time, after printing the transfer', async () => {
    core.on('POST', transfer, [200, accepted]);
    bridge.on('GET', `/v1/deposits/${transferId}`, [
      200,
      { deposits: [deposit('refunded', { refundReason: 'no wrapped ERC-20', refund: releaseId })] },
    ]);
    const refunded = await dsm(...args, '--wait', '--json');
    expect(refunded.code).toBe(1);
    expect(JSON.parse(refunded.stdout)).toMatchObject({
      transfer: transferId,
      deposit: { status: 'refunded' },
    });
    expect(JSON.parse(refunded.stderr)).toEqual({
      error: {
        code: 'E_BAD_REQUEST',
        message: `deposit ${transferId} was refunded: no wrapped ERC-20`,
        details: { transfer: transferId, refund: releaseId, refundReason: 'no wrapped ERC-20' },
      },
    });
    bridge.on('GET', `/v1/deposits/${transferId}`, [200, { deposits: [deposit('minting')] }]);
    const started = Date.now();
    const late = await dsm(...args, '--wait', '1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(
      new RegExp(
        `error E_UNAVAILABLE: deposit ${transferId} not done within 1 s \\(minting\\); the bridge carries on with it\\n$`,
      ),
    );
  }, 20_000);

  it('refuses a bad address, amount or wait before sending anything', async () => {
    const base = ['bridge', 'deposit', '--as', alice, '--token', gold];
    for (const [extra, message] of [
      [['--amount', '1', '--to', '0x1234'], '--to: expected an EVM address'],
      [['--amount', '1', '--to', RECIPIENT.replace('F79', 'f79')], '--to: expected an EVM address'],
      [
        ['--amount', '1.001', '--to', RECIPIENT],
        '--amount: expected a positive amount with at most 2 decimals',
      ],
      [['--amount', '-1', '--to', RECIPIENT], '--amount: expected a positive amount'],
      [['--amount', '1', '--to', RECIPIENT, '--wait', 'soon'], '--wait: expected an integer'],
    ] as const) {
      const r = await dsm(...base, ...extra);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error E_USAGE: ${message}`);
    }
    expect(core.seen.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});

describe('dsm bridge withdraw', () => {
  const keyFile = () => {
    const file = join(dir, `evm-${Math.random().toString(36).slice(2)}.key`);
    writeFileSync(file, `${Wallet.createRandom().privateKey}\n`);
    return file;
  };
  const withdraw = (file: string, ...extra: string[]) =>
    dsm(
      'bridge',
      'withdraw',
      '--key-file',
      file,
      '--token',
      gold,
      '--amount',
      '1.25',
      '--to',
      bob,
      '--rpc',
      rpc.url,
      ...extra,
    );
  const chainIdIs = (hex: string) =>
    rpc.on('POST', '/', (req) => [200, { jsonrpc: '2.0', id: (req.body as { id: number }).id, result: hex }]);

  it('refuses a token without a wrapped ERC-20 before touching the EVM node', async () => {
    chainIdIs('0x7a69');
    bridge.on('GET', '/v1/tokens', [200, { tokens: [] }]);
    const r = await withdraw(keyFile());
    expect(r).toMatchObject({
      code: 2,
      stderr:
        `error E_USAGE: --token: ${gold} has no wrapped ERC-20 on chain 31337 ` +
        `(an admin deploys it with: dsm bridge deploy ${gold})\n`,
    });
    expect(rpc.seen).toHaveLength(0);
  });

  it("refuses an RPC of another chain than the bridge's", async () => {
    chainIdIs('0x1');
    const r = await withdraw(keyFile(), '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr)).toEqual({
      error: {
        code: 'E_USAGE',
        message: `--rpc: ${rpc.url} is chain 1, the bridge's contract is on chain 31337`,
        details: { option: '--rpc', url: rpc.url, chainId: 1, bridgeChainId: 31337 },
      },
    });
    expect(rpc.seen.map((r) => (r.body as { method: string }).method)).toEqual(['eth_chainId']);
    // Nothing read the core: the wrapped token's decimals came with it from the bridge.
    expect(core.seen).toHaveLength(0);
  });

  it('names an RPC that does not answer', async () => {
    const closed = new Stand();
    await closed.start();
    const url = closed.url;
    await closed.close();
    const file = keyFile();
    const r = await dsm(
      'bridge',
      'withdraw',
      '--key-file',
      file,
      '--token',
      gold,
      '--amount',
      '1',
      '--to',
      bob,
      '--rpc',
      url,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error E_UNAVAILABLE: ${url} did not answer eth_chainId`));
  });

  it('refuses a missing or malformed key file without echoing it, and bad options, before any call', async () => {
    const missing = await withdraw(join(dir, 'absent.key'));
    expect(missing).toMatchObject({
      code: 2,
      stderr: `error E_USAGE: --key-file: cannot read ${join(dir, 'absent.key')} (ENOENT)\n`,
    });
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'my-secret-passphrase\n');
    const malformed = await withdraw(bad);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe(
      `error E_USAGE: --key-file: ${bad} does not hold an EVM private key (0x and 64 hex characters)\n`,
    );
    expect(malformed.stderr).not.toContain('secret');
    const file = keyFile();
    for (const [extra, message] of [
      [['--to', 'bob'], '--to: expected a DSM id'],
      [['--amount', '0'], '--amount: expected a positive amount'],
      [['--rpc', 'ftp://x'], '--rpc: expected an http(s) URL'],
    ] as const) {
      const r = await dsm(
        'bridge',
        'withdraw',
        '--key-file',
        file,
        '--token',
        gold,
        '--amount',
        '1',
        '--to',
        bob,
        '--rpc',
        rpc.url,
        ...extra,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error E_USAGE: ${message}`);
    }
    expect(bridge.seen).toHaveLength(0);
    expect(rpc.seen).toHaveLength(0);
  });
});

describe('dsm bridge keygen', () => {
  it("writes a new DSM seed and EVM key, mode 0600, and prints the bridge's identity and address", async () => {
    const dsmKey = join(dir, 'dsm.key');
    const evmKey = join(dir, 'evm.key');
    const r = await dsm('bridge', 'keygen', '--dsm-key', dsmKey, '--evm-key', evmKey, '--json');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const file of [dsmKey, evmKey]) expect(statSync(file).mode & 0o777).toBe(0o600);
    const seed = parseBridgeSeed(readFileSync(dsmKey, 'utf8'));
    const wallet = new Wallet(readFileSync(evmKey, 'utf8').trim());
    expect(readFileSync(evmKey, 'utf8')).toMatch(/^0x[0-9a-f]{64}\n$/);
    expect(JSON.parse(r.stdout)).toEqual({
      dsmKey: { file: dsmKey, identity: bridgeIdentity(seed).identity.toString() },
      evmKey: { file: evmKey, address: wallet.address },
    });

    // Never overwritten, and with one file present neither is written.
    const before = readFileSync(dsmKey, 'utf8');
    const again = await dsm('bridge', 'keygen', '--dsm-key', dsmKey);
    expect(again).toMatchObject({
      code: 2,
      stderr: `error E_USAGE: --dsm-key: ${dsmKey} exists; a key file is never overwritten\n`,
    });
    const fresh = join(dir, 'fresh.key');
    expect((await dsm('bridge', 'keygen', '--dsm-key', fresh, '--evm-key', evmKey)).stderr).toBe(
      `error E_USAGE: --evm-key: ${evmKey} exists; a key file is never overwritten\n`,
    );
    expect(() => statSync(fresh)).toThrow();
    expect(readFileSync(dsmKey, 'utf8')).toBe(before);
  });

  it('takes either flag alone and refuses neither', async () => {
    const evmOnly = join(dir, 'only-evm.key');
    const r = await dsm('bridge', 'keygen', '--evm-key', evmOnly);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `wrote ${evmOnly} (mode 0600): EVM address ${new Wallet(readFileSync(evmOnly, 'utf8').trim()).address}\n`,
    );
    const dsmOnly = join(dir, 'only-dsm.key');
    expect((await dsm('bridge', 'keygen', '--dsm-key', dsmOnly)).stdout).toMatch(
      new RegExp(`^wrote ${dsmOnly} \\(mode 0600\\): DSM identity bafyr4i[a-z2-7]+\\n$`),
    );
    expect(await dsm('bridge', 'keygen')).toMatchObject({
      code: 2,
      stderr: 'error E_USAGE: bridge keygen: give --dsm-key <file>, --evm-key <file> or both\n',
    });
    expect((await dsm('bridge', 'keygen', '--dsm-key', join(dir, 'no-such-dir', 'k'))).stderr).toMatch(
      /^error E_USAGE: --dsm-key: cannot write .* \(ENOENT\)\n$/,
    );
  });
});
