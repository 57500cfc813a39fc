import { describe, expect, it } from '@jest/globals';
import { DsmError } from '@dsm/protocol';
import { kindOf, peerViews } from './client.js';
import { UsageError, reportOf, withIdempotencyKey } from './errors.js';
import {
  errorText,
  fields,
  jsonDocument,
  renderAccepted,
  renderBalances,
  renderChain,
  renderExport,
  renderIdentities,
  renderPeerChange,
  renderPolicy,
  renderReceived,
  renderStatus,
  renderTopology,
  renderVerify,
  table,
} from './output.js';

const accepted = {
  identity: 'id-a',
  n: 3,
  stateId: 'state-3',
  op: 'token.transfer' as const,
  balances: { tok: { available: '98500', locked: '0' } },
  replicas: ['127.0.0.1:1', '127.0.0.1:2'],
};

describe('JSON output', () => {
  it('is one indented document, bigints as text and bytes as hex', () => {
    const text = jsonDocument({ a: 1n, b: new Uint8Array([0xab, 0x01]), c: 'x' });
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({ a: '1', b: 'ab01', c: 'x' });
  });

  it('reports errors as {error: {code, message, details}} or one human line', () => {
    const report = reportOf(new DsmError('E_UNAUTHORIZED', 'admin endpoint: no token', { status: 401 }));
    expect(report.exitCode).toBe(1);
    expect(errorText(report, false)).toBe('error E_UNAUTHORIZED: admin endpoint: no token\n');
    expect(JSON.parse(errorText(report, true))).toEqual({
      error: { code: 'E_UNAUTHORIZED', message: 'admin endpoint: no token', details: { status: 401 } },
    });
  });

  it('tells how to re-run a command whose outcome is unknown, with its key', () => {
    const unavailable = new DsmError('E_UNAVAILABLE', 'POST http://c/v1/x: no answer within 10 ms', {
      url: 'u',
    });
    const report = reportOf(withIdempotencyKey(unavailable, 'k-1'));
    expect(errorText(report, false)).toBe(
      'error E_UNAVAILABLE: POST http://c/v1/x: no answer within 10 ms\n' +
        'the outcome is unknown: run the same command again with --idempotency-key k-1\n',
    );
    expect(JSON.parse(errorText(report, true))).toEqual({
      error: {
        code: 'E_UNAVAILABLE',
        message: unavailable.message,
        details: { url: 'u', idempotencyKey: 'k-1' },
      },
    });
    const refused = new DsmError('E_BALANCE', 'not enough');
    expect(withIdempotencyKey(refused, 'k-1')).toBe(refused);
    expect(reportOf(unavailable).hint).toBeUndefined();
  });

  it('maps usage errors to exit 2 and anything else to E_INTERNAL', () => {
    expect(reportOf(new UsageError('bad', { option: '--x' }))).toEqual({
      code: 'E_USAGE',
      message: 'bad',
      details: { option: '--x' },
      exitCode: 2,
    });
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(reportOf(enoent)).toEqual({
      code: 'E_INTERNAL',
      message: 'no such file',
      details: { errno: 'ENOENT' },
      exitCode: 1,
    });
  });
});

describe('text layout', () => {
  it('aligns table columns and leaves no trailing spaces', () => {
    expect(
      table(
        ['A', 'LONG HEADER', 'C'],
        [
          ['xxxx', 'y', ''],
          ['z', 'w', 'last'],
        ],
      ),
    ).toBe(['A     LONG HEADER  C', 'xxxx  y', 'z     w            last'].join('\n'));
  });

  it('aligns fields, skips undefined, indents objects, joins lists', () => {
    expect(
      fields([
        ['id', 'x'],
        ['skipped', undefined],
        ['list', ['a', 'b']],
        ['none', null],
        ['cache', { size: 1, maxSize: 10 }],
      ]),
    ).toBe(
      ['id:     x', 'list:   a, b', 'none:   -', 'cache:', '  size:     1', '  maxSize:  10'].join('\n'),
    );
  });

  it('shows balances sorted by token, or says there are none', () => {
    expect(renderBalances({})).toBe('no balances');
    expect(
      renderBalances({ a: { available: '2500', locked: '0' } }, new Map([['a', 2]])).split('\n'),
    ).toEqual(['TOKEN  AVAILABLE  LOCKED', 'a      25.00      0.00']);
    expect(
      renderBalances({ b: { available: '1', locked: '2' }, a: { available: '30', locked: '0' } }).split('\n'),
    ).toEqual(['TOKEN  AVAILABLE  LOCKED', 'a      30         0', 'b      1          2']);
  });
});

describe('renderers', () => {
  it('renders a storage node status with its peers', () => {
    const text = renderStatus('http://s:8765', {
      service: 'dsm-storage',
      version: '0.1.0',
      nodeId: 'storage-0',
      role: 'primary',
      objects: 12,
      peers: [{ address: 's1:8765', up: true, nodeId: 'storage-1', behind: 0 }],
    });
    expect(text).toContain('dsm-storage 0.1.0 at http://s:8765');
    expect(text).toContain('node:     storage-0');
    expect(text).toMatch(/s1:8765 +yes +storage-1 +0/);
  });

  it('renders a core node status with its storage nodes', () => {
    const text = renderStatus('http://c:7545', {
      service: 'dsm-core',
      version: '0.1.0',
      hostedIdentities: 2,
      autoReceive: true,
      storage: [
        { node: 's0:8765', up: true },
        { node: 's1:8765', up: false, error: 'ECONNREFUSED' },
      ],
    });
    expect(text).toContain('hosted identities:  2');
    expect(text).toMatch(/s1:8765 +no +ECONNREFUSED/);
  });

  it('renders an unknown service generically', () => {
    expect(renderStatus('http://x', { service: 'other', uptime: 5 })).toBe('other at http://x\nuptime:  5');
  });

  it('renders operations, receives and chains', () => {
    expect(renderAccepted(accepted)).toContain('token.transfer accepted at height 3');
    expect(renderAccepted({ ...accepted, alreadyReceived: true })).toContain('(already received)');
    expect(renderReceived({ identity: 'id-b', received: [], failed: [] })).toBe('nothing pending for id-b');
    expect(renderReceived({ identity: 'id-b', received: [accepted, accepted], failed: [] })).toContain(
      'received 2 transfers',
    );
    expect(renderChain({ identity: 'i', states: [] })).toBe('no states of i in this range');
    expect(renderChain({ identity: 'i', states: [{ n: 0, stateId: 's0' }] })).toBe('N  STATE\n0  s0');
    expect(renderIdentities([])).toBe('no hosted identities');
  });

  it('renders topology for core and storage alike', () => {
    // The admin API has one peer shape on every service.
    const core = peerViews([
      { address: 's0:8765', up: true, nodeId: 'storage-0' },
      { address: 's1:8765', up: false, lastError: 'GET http://s1:8765/v1/status: ECONNREFUSED' },
    ]);
    expect(core).toEqual([
      { peer: 's0:8765', up: true, nodeId: 'storage-0' },
      { peer: 's1:8765', up: false, error: 'GET http://s1:8765/v1/status: ECONNREFUSED' },
    ]);
    expect(renderTopology({ service: 'core', peers: core })).toMatch(
      /^storage nodes of this core node:\nPEER/,
    );
    const storage = peerViews([
      { address: 's1:8765', up: true, nodeId: 'storage-1', behind: 4, lagSeconds: 1 },
    ]);
    expect(storage).toEqual([{ peer: 's1:8765', up: true, nodeId: 'storage-1', behind: 4, lagSeconds: 1 }]);
    expect(renderTopology({ service: 'storage', peers: [] })).toBe('replication peers: none');
    expect(renderPeerChange({ service: 'core', peer: 'p:1', changed: false, peers: ['p:1'] }, 'added')).toBe(
      'p:1: already present\npeers: p:1',
    );
  });

  it('tells core from storage by their status', () => {
    expect(kindOf({ service: 'dsm-core' }, 'u')).toBe('core');
    expect(kindOf({ service: 'dsm-core-p2p' }, 'u')).toBe('core');
    expect(kindOf({ service: 'dsm-storage' }, 'u')).toBe('storage');
    expect(() => kindOf({ service: 'dsm-ethereum-bridge' }, 'http://b')).toThrow(
      'http://b is a "dsm-ethereum-bridge" service, not a DSM core or storage node',
    );
  });

  it('renders a policy with links as ids', () => {
    const text = renderPolicy('anchor-1', {
      type: 'dsm/policy@1',
      author: { '/': 'author-1' },
      conditions: [
        { kind: 'allowList', appliesTo: 'recipient', identities: [{ '/': 'id-a' }] },
        { kind: 'supplyCap', max: '10' },
      ],
    });
    expect(text).toContain('author:  author-1');
    expect(text).toContain('0. allowList appliesTo="recipient" identities=["id-a"]');
    expect(text).toContain('1. supplyCap max="10"');
    expect(renderPolicy('a', { author: { '/': 'x' }, conditions: [] })).toContain('conditions: none');
  });

  it('renders exports and verification results', () => {
    expect(renderExport({ identity: 'i', out: 'a.cbor', bytes: 10, from: 0, states: 3, to: 2 })).toBe(
      'wrote a.cbor: 10 bytes, states 0..2 of i',
    );
    const ok = renderVerify({
      file: 'a.cbor',
      identity: 'i',
      ok: true,
      states: 3,
      verified: 3,
      foreignVerified: 1,
      head: { n: 2, stateId: 's2' },
    });
    expect(ok).toBe('OK: 3/3 states of i verified, head 2 s2\nforeign states verified: 1');
    const failed = renderVerify({
      file: 'a.cbor',
      identity: 'i',
      ok: false,
      states: 3,
      verified: 1,
      foreignVerified: 0,
      head: { n: 0, stateId: 's0' },
      failure: { index: 1, n: 1, rule: 'V3', code: 'E_SIGNATURE', message: 'bad signature' },
    });
    expect(failed).toContain('FAILED: 1/3 states');
    expect(failed).toContain('failure at state 1: rule V3, E_SIGNATURE: bad signature');
  });
});
