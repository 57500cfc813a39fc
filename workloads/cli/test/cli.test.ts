/**
 * The `dsm` binary against real processes: two storage nodes and one core node on 127.0.0.1.
 * Needs the build (`npx tsc -b`): every service and the CLI run from their dist/.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeExport, encodeExport } from '@dsm/protocol';
import { Network, freePort, runCli, type CliResult } from './network.js';

interface ErrorDocument {
  error: { code: string; message: string; details: Record<string, unknown> };
}

function json<T>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`dsm exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

function errorOf(result: CliResult): ErrorDocument['error'] {
  return (JSON.parse(result.stderr) as ErrorDocument).error;
}

describe('dsm against a real network', () => {
  const network = new Network();
  let env: Record<string, string>;
  let admin: Record<string, string>;
  const dsm = (...args: string[]) => runCli(args, env);
  const ids = { alice: '', bob: '', token: '', policy: '', transfer: '' };

  beforeAll(async () => {
    await network.start();
    env = {
      DSM_URL: network.coreUrl,
      DSM_ADMIN_URL: network.coreP2pUrl,
      DSM_API_TOKEN_FILE: network.coreApiTokenFile,
    };
    admin = { ...env, DSM_ADMIN_TOKEN_FILE: network.coreTokenFile };
  }, 90_000);

  afterAll(async () => {
    await network.destroy();
  });

  it('status --json answers for the core API, the core P2P port and a storage node', async () => {
    const core = json<{ service: string; storage: { up: boolean }[] }>(await dsm('status', '--json'));
    expect(core.service).toBe('dsm-core');
    expect(core.storage.map((s) => s.up)).toEqual([true, true]);
    const p2p = json<{ url: string }>(await dsm('status', '--json', '--url', network.coreP2pUrl));
    expect(p2p.url).toBe(network.coreP2pUrl);
    const storage = json<{ service: string; nodeId: string; peers: { up: boolean }[] }>(
      await runCli(['status', '--json'], { DSM_URL: network.storage[0]!.url }),
    );
    expect(storage).toMatchObject({ service: 'dsm-storage', nodeId: 'storage-0' });
    const human = await dsm('status');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^dsm-core 0\.1\.0 at http/);
  });

  it('status of nothing exits 1 with E_UNAVAILABLE and the URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(['status', '--json', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(errorOf(r)).toMatchObject({ code: 'E_UNAVAILABLE', details: { url: `${url}/v1/status` } });
  });

  it('identity create ×2, list, show', async () => {
    const alice = json<{ identity: string; label: string; n: number }>(
      await dsm('identity', 'create', '--label', 'alice', '--json'),
    );
    expect(alice).toMatchObject({ label: 'alice', n: 0 });
    const bob = await dsm('identity', 'create', '--label', 'bob', '--suite', 'ml-dsa-44');
    expect(bob.code).toBe(0);
    expect(bob.stdout).toContain('suite:     ml-dsa-44');
    ids.alice = alice.identity;
    ids.bob = /identity: +(\S+)/.exec(bob.stdout)![1]!;
    const list = json<{ identities: { identity: string; label: string }[] }>(
      await dsm('identity', 'list', '--json'),
    );
    expect(list.identities.map((i) => i.label).sort()).toEqual(['alice', 'bob']);
    const shown = json<{ hosted: boolean; n: number; forked: boolean }>(
      await dsm('identity', 'show', ids.bob, '--json'),
    );
    expect(shown).toMatchObject({ hosted: true, n: 0, forked: false });
  });

  it('config get/set need the admin token: E_UNAUTHORIZED without it', async () => {
    const without = await dsm('config', 'get', '--json');
    expect(without.code).toBe(1);
    expect(errorOf(without).code).toBe('E_UNAUTHORIZED');
    const human = await dsm('config', 'set', '--log-level', 'info');
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/^error E_UNAUTHORIZED: /);

    const before = json<{ policyCacheSize: number }>(await runCli(['config', 'get', '--json'], admin));
    expect(before.policyCacheSize).toBe(1000);
    // Auto-receive off, so the transfer below waits in the inbox until `token receive`.
    const set = json<Record<string, unknown>>(
      await runCli(
        [
          'config',
          'set',
          '--policy-cache-size=2000',
          '--policy-ttl',
          '600',
          '--auto-receive',
          'false',
          '--json',
        ],
        admin,
      ),
    );
    expect(set).toMatchObject({ policyCacheSize: 2000, policyTtl: 600, autoReceive: false });
    const after = await runCli(['config', 'get', '--token-file', network.coreTokenFile], env);
    expect(after.stdout).toMatch(/policyCacheSize: +2000/);
    expect(after.stdout).toMatch(/autoReceive: +false/);

    const bad = await runCli(['config', 'set', '--policy-cache-size', 'many'], admin);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error E_USAGE: --policy-cache-size: expected an integer ≥ 0, got "many"\n');
    const refused = await runCli(['config', 'set', '--receive-poll-ms', '5', '--json'], admin);
    expect(refused.code).toBe(1);
    expect(errorOf(refused).code).toBe('E_CONFIG');
    const wrongFile = join(network.root, 'wrong-admin-token');
    writeFileSync(wrongFile, 'not the admin token\n', { mode: 0o600 });
    const wrongToken = await runCli(['config', 'get', '--json', '--token-file', wrongFile], env);
    expect(errorOf(wrongToken).code).toBe('E_UNAUTHORIZED');
  });

  it('config of a storage node through its admin API', async () => {
    const storage = {
      DSM_ADMIN_URL: network.storage[1]!.url,
      DSM_ADMIN_TOKEN_FILE: network.storageTokenFile,
    };
    expect(json<{ logLevel: string }>(await runCli(['config', 'get', '--json'], storage)).logLevel).toBe(
      'warn',
    );
    expect(json(await runCli(['config', 'set', '--log-level', 'error', '--json'], storage))).toEqual({
      logLevel: 'error',
    });
  });

  it('policy validate offline gives the anchor token create then uses', async () => {
    const file = join(network.root, 'policy.json');
    writeFileSync(
      file,
      JSON.stringify({
        conditions: [
          { kind: 'supplyCap', max: '1000000' },
          { kind: 'amountLimit', op: 'token.transfer', max: '5000' },
          { kind: 'issuerOnly', ops: ['token.mint'] },
          { kind: 'allowList', appliesTo: 'recipient', identities: [ids.alice, ids.bob] },
        ],
        description: 'capped gold',
      }),
    );
    const check = json<{ valid: boolean; anchor: string; conditions: string[] }>(
      await dsm('policy', 'validate', file, '--author', ids.alice, '--json'),
    );
    expect(check.conditions).toEqual(['supplyCap', 'amountLimit', 'issuerOnly', 'allowList']);

    const created = json<{
      token: string;
      policy: string;
      n: number;
      balances: Record<string, { available: string }>;
    }>(
      await dsm(
        'token',
        'create',
        '--as',
        ids.alice,
        '--symbol',
        'GLD',
        '--name',
        'Gold',
        '--decimals',
        '2',
        '--supply',
        '1000.00',
        '--policy',
        file,
        '--json',
      ),
    );
    expect(created.policy).toBe(check.anchor);
    expect(created.n).toBe(1);
    expect(created.balances[created.token]!.available).toBe('100000');
    expect(created.balances[created.token]).toMatchObject({ decimals: 2, availableDisplay: '1000.00' });
    ids.token = created.token;
    ids.policy = created.policy;

    const token = json<{ symbol: string; issuer: string; supply: { issued: string } }>(
      await dsm('token', 'show', ids.token, '--json'),
    );
    expect(token).toMatchObject({
      symbol: 'GLD',
      issuer: ids.alice,
      decimals: 2,
      supply: { issued: '100000', issuedDisplay: '1000.00' },
    });
    expect((await dsm('token', 'show', ids.token)).stdout).toMatch(/initial supply: +1000\.00/);
    const policy = await dsm('policy', 'show', ids.policy);
    expect(policy.code).toBe(0);
    expect(policy.stdout).toContain('description:  capped gold');
    expect(policy.stdout).toContain('1. amountLimit max="5000" op="token.transfer"');

    const invalid = join(network.root, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ conditions: [{ kind: 'supplyCap', max: 'lots' }] }));
    const refused = await dsm('policy', 'validate', invalid);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error E_POLICY: invalid policy: conditions\[0\]\.max/);
  });

  it('transfer, inbox, receive, balances', async () => {
    const sent = json<{ op: string; stateId: string; balances: Record<string, { available: string }> }>(
      await dsm(
        'token',
        'transfer',
        '--as',
        ids.alice,
        '--token',
        ids.token,
        '--amount',
        '15.00',
        '--to',
        ids.bob,
        '--memo',
        'for the bike',
        '--json',
      ),
    );
    expect(sent.op).toBe('token.transfer');
    expect(sent.balances[ids.token]!.available).toBe('98500');
    ids.transfer = sent.stateId;

    const inbox = json<{ entries: { transfer: string; amount: string; memo: string; received: boolean }[] }>(
      await dsm('identity', 'inbox', ids.bob, '--pending', '--json'),
    );
    expect(inbox.entries).toEqual([
      expect.objectContaining({
        transfer: ids.transfer,
        amount: '1500',
        amountDisplay: '15.00',
        memo: 'for the bike',
        received: false,
      }),
    ]);

    const received = json<{ op: string; n: number }>(
      await dsm('token', 'receive', '--as', ids.bob, '--transfer', ids.transfer, '--json'),
    );
    expect(received).toMatchObject({ op: 'token.receive', n: 1 });
    const again = json<{ received: unknown[] }>(await dsm('token', 'receive', '--as', ids.bob, '--json'));
    expect(again.received).toEqual([]);

    const bob = json<{ n: number; balances: Record<string, { available: string; locked: string }> }>(
      await dsm('identity', 'balances', ids.bob, '--json'),
    );
    expect(bob).toEqual({
      identity: ids.bob,
      n: 1,
      balances: {
        [ids.token]: {
          available: '1500',
          locked: '0',
          decimals: 2,
          availableDisplay: '15.00',
          lockedDisplay: '0.00',
        },
      },
    });
    expect(json(await dsm('identity', 'balances', ids.bob, '--json', '--raw'))).toEqual({
      identity: ids.bob,
      n: 1,
      balances: { [ids.token]: { available: '1500', locked: '0' } },
    });
    const human = await dsm('identity', 'balances', ids.alice);
    expect(human.stdout).toMatch(new RegExp(`${ids.token} +985\\.00 +0\\.00`));
    const raw = await dsm('identity', 'balances', ids.alice, '--raw');
    expect(raw.stdout).toMatch(new RegExp(`${ids.token} +98500 +0`));

    const locked = json<{ balances: Record<string, { locked: string }> }>(
      await dsm(
        'token',
        'lock',
        '--as',
        ids.bob,
        '--token',
        ids.token,
        '--amount',
        '5',
        '--purpose',
        'escrow',
        '--json',
      ),
    );
    expect(locked.balances[ids.token]!.locked).toBe('500');
    const mint = ['token', 'mint', '--as', ids.alice, '--token', ids.token];
    expect((await dsm(...mint, '--amount', '0.10')).code).toBe(0);
    expect(
      (await dsm('--raw', 'token', 'burn', '--as', ids.alice, '--token', ids.token, '--amount', '10')).code,
    ).toBe(0);
  });

  it('protocol refusals: over the policy limit E_POLICY, a mint by another E_OPERATION, a receive of no transfer E_RECEIVE', async () => {
    const over = await dsm(
      'token',
      'transfer',
      '--as',
      ids.alice,
      '--token',
      ids.token,
      '--amount',
      '60.00',
      '--to',
      ids.bob,
      '--json',
    );
    expect(over.code).toBe(1);
    expect(errorOf(over)).toMatchObject({ code: 'E_POLICY' });
    expect(errorOf(over).message).toContain('amountLimit');
    const mint = await dsm('token', 'mint', '--as', ids.bob, '--token', ids.token, '--amount', '0.01');
    expect(mint.code).toBe(1);
    expect(mint.stderr).toBe("error E_OPERATION: token.mint must be in the issuer's chain\n");
    const notInInbox = await dsm('token', 'receive', '--as', ids.bob, '--transfer', ids.alice, '--json');
    expect(notInInbox.code).toBe(1);
    expect(errorOf(notInInbox).code).toBe('E_RECEIVE');
  });

  it('topology list of the core and of a storage node; add-peer and remove-peer', async () => {
    const core = json<{ service: string; peers: { peer: string; up: boolean }[] }>(
      await runCli(['topology', 'list', '--json'], admin),
    );
    expect(core.service).toBe('core');
    expect(core.peers.map((p) => [p.peer, p.up])).toEqual(network.storage.map((s) => [s.address, true]));
    expect((await dsm('topology', 'list', '--json')).code).toBe(1);

    const storage = {
      DSM_ADMIN_URL: network.storage[0]!.url,
      DSM_ADMIN_TOKEN_FILE: network.storageTokenFile,
    };
    const peers = json<{ service: string; peers: { peer: string; nodeId: string }[] }>(
      await runCli(['topology', 'list', '--json'], storage),
    );
    expect(peers).toMatchObject({
      service: 'storage',
      peers: [{ peer: network.storage[1]!.address, nodeId: 'storage-1' }],
    });

    const spare = `127.0.0.1:${await freePort()}`;
    expect(json(await runCli(['topology', 'add-peer', spare, '--json'], storage))).toMatchObject({
      changed: true,
      peers: expect.arrayContaining([spare]),
    });
    const removed = await runCli(['topology', 'remove-peer', spare], storage);
    expect(removed.stdout).toContain(`${spare}: removed`);
    expect(
      json(await runCli(['topology', 'add-peer', network.storage[1]!.address, '--json'], admin)),
    ).toMatchObject({
      service: 'core',
      changed: false,
    });
  });

  it('backup create, inspect and restore of a storage node; a damaged file is refused before the node sees it', async () => {
    const storage = { DSM_ADMIN_TOKEN_FILE: network.storageTokenFile };
    const file = join(network.root, 'storage-0.car');
    const made = json<{
      file: string;
      bytes: number;
      root: string;
      nodeId: string;
      counts: { objects: number };
    }>(
      await runCli(
        ['backup', 'create', '--storage', network.storage[0]!.address, '--out', file, '--json'],
        storage,
      ),
    );
    expect(made).toMatchObject({ file, nodeId: 'storage-0' });
    expect(made.counts.objects).toBeGreaterThan(0);
    expect(made.bytes).toBe(readFileSync(file).length);
    const inspected = await runCli(['backup', 'inspect', file]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain(`backup of storage-0`);
    expect(inspected.stdout).toContain(`root ${made.root}`);

    const damaged = join(network.root, 'damaged.car');
    const bytes = readFileSync(file);
    bytes[bytes.length - 50]! ^= 0xff;
    writeFileSync(damaged, bytes);
    const spare = await network.spareStorage();
    await spare.start();
    const refused = await runCli(
      ['backup', 'restore', '--storage', spare.address, damaged, '--json'],
      storage,
    );
    expect(refused.code).toBe(1);
    expect(errorOf(refused)).toMatchObject({ code: 'E_BACKUP' });
    expect(errorOf(refused).message).toMatch(/altered/);
    // Without the admin token the node refuses.
    const anonymous = await runCli(['backup', 'restore', '--storage', spare.url, file, '--json']);
    expect(errorOf(anonymous).code).toBe('E_UNAUTHORIZED');

    const restored = json<{ root: string; counts: { objects: number }; digest: string }>(
      await runCli(['backup', 'restore', '--storage', spare.url, file, '--json'], storage),
    );
    expect(restored).toMatchObject({ root: made.root, counts: made.counts });
    expect((await spare.status()).digest).toBe(restored.digest);
    const twice = await runCli(['backup', 'restore', '--storage', spare.address, file, '--json'], storage);
    expect(errorOf(twice).code).toBe('E_CONFLICT');
    await spare.kill();
  });

  it('backup run: one folder per run with every service, the oldest removed beyond --keep', async () => {
    const storage = { DSM_ADMIN_TOKEN_FILE: network.storageTokenFile };
    const dir = join(network.root, 'backups');
    const folders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = json<{ folder: string; files: { file: string; service: string }[]; removed: string[] }>(
        await runCli(
          [
            'backup',
            'run',
            '--storage',
            network.storage[0]!.address,
            '--core',
            network.coreP2pUrl,
            '--dir',
            dir,
            '--keep',
            '2',
            '--json',
          ],
          storage,
        ),
      );
      expect(run.files.map((f) => [f.file, f.service])).toEqual([
        ['storage.car', 'storage'],
        ['core-0.car', 'core'],
      ]);
      folders.push(run.folder);
      // Folder names have a one-second resolution.
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    expect(readdirSync(dir).sort()).toEqual(
      folders
        .slice(1)
        .map((f) => basename(f))
        .sort(),
    );
    expect(readdirSync(folders[2]!).sort()).toEqual(['backup.json', 'core-0.car', 'storage.car']);
    expect((await runCli(['backup', 'inspect', join(folders[2]!, 'core-0.car')])).stdout).toMatch(
      /dsm-core store snapshot/,
    );
  });

  it('chain show, export and offline verify; a tampered export fails with the right code', async () => {
    const chain = json<{ states: { n: number; stateId: string }[] }>(
      await dsm('chain', 'show', ids.alice, '--json'),
    );
    expect(chain.states.map((s) => s.n)).toEqual([0, 1, 2, 3, 4]);
    const page = json<{ states: { n: number }[] }>(
      await dsm('chain', 'show', ids.alice, '--from', '1', '--limit', '2', '--json'),
    );
    expect(page.states.map((s) => s.n)).toEqual([1, 2]);

    const file = join(network.root, 'alice.cbor');
    const exported = json<{ bytes: number; states: number; from: number; to: number }>(
      await dsm('chain', 'export', ids.alice, '--out', file, '--json'),
    );
    expect(exported).toMatchObject({ states: 5, from: 0, to: 4 });
    expect(readFileSync(file).length).toBe(exported.bytes);

    // Offline: no URL given, nothing listening there.
    const offline = { DSM_URL: `http://127.0.0.1:${await freePort()}` };
    const verified = json<{ ok: boolean; verified: number; states: number; head: { n: number } }>(
      await runCli(['chain', 'verify', file, '--json'], offline),
    );
    expect(verified).toMatchObject({
      ok: true,
      verified: 5,
      states: 5,
      head: { n: 4, stateId: chain.states[4]!.stateId },
    });
    const human = await runCli(['chain', 'verify', file], offline);
    expect(human.stdout).toMatch(/^OK: 5\/5 states/);

    const bobFile = join(network.root, 'bob.cbor');
    expect((await dsm('chain', 'export', ids.bob, '--out', bobFile)).code).toBe(0);
    const bob = json<{ ok: boolean; foreignVerified: number }>(
      await runCli(['chain', 'verify', bobFile, '--json'], offline),
    );
    expect(bob.ok).toBe(true);
    expect(bob.foreignVerified).toBeGreaterThan(0);

    // A flipped signature bit in state 2: states 0 and 1 verify, state 2 fails V3 with E_SIGNATURE.
    const bundle = decodeExport(new Uint8Array(readFileSync(file)));
    bundle.states[2]!.sig[7]! ^= 0x01;
    const tampered = join(network.root, 'tampered.cbor');
    writeFileSync(tampered, encodeExport(bundle));
    const failed = await runCli(['chain', 'verify', tampered, '--json'], offline);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({
      ok: false,
      verified: 2,
      failure: { n: 2, rule: 'V3', code: 'E_SIGNATURE' },
    });
    expect(errorOf(failed)).toMatchObject({ code: 'E_SIGNATURE', details: { rule: 'V3', n: 2 } });
    const failedHuman = await runCli(['chain', 'verify', tampered], offline);
    expect(failedHuman.code).toBe(1);
    expect(failedHuman.stdout).toContain('failure at state 2: rule V3, E_SIGNATURE');
    expect(failedHuman.stderr).toMatch(/^error E_SIGNATURE: verification failed at state 2 \(rule V3\)/);

    // A truncated file is not an export at all.
    const truncated = join(network.root, 'truncated.cbor');
    writeFileSync(truncated, readFileSync(file).subarray(0, 200));
    const broken = await runCli(['chain', 'verify', truncated, '--json'], offline);
    expect(broken.code).toBe(1);
    expect(errorOf(broken).code).toBe('E_DECODE');
  });

  it('bad input: usage errors exit 2, service refusals exit 1 with their code', async () => {
    const notAnId = await dsm('identity', 'show', 'alice', '--json');
    expect(notAnId.code).toBe(2);
    expect(errorOf(notAnId)).toMatchObject({ code: 'E_USAGE', details: { option: '<id>', value: 'alice' } });

    const amount = await dsm(
      'token',
      'transfer',
      '--as',
      ids.alice,
      '--token',
      ids.token,
      '--amount',
      '1.505',
      '--to',
      ids.bob,
    );
    expect(amount).toMatchObject({
      code: 2,
      stderr: 'error E_USAGE: --amount: expected a positive amount with at most 2 decimals, got "1.505"\n',
    });
    expect(
      (await dsm('token', 'create', '--as', ids.alice, '--symbol', 'X', '--name', 'X')).stderr,
    ).toContain("required option '--supply <amount>' not specified");
    expect(
      (
        await dsm(
          'token',
          'create',
          '--as',
          ids.alice,
          '--symbol',
          'X',
          '--name',
          'X',
          '--supply',
          '1',
          '--policy',
          join(network.root, 'missing.json'),
        )
      ).stderr,
    ).toMatch(/^error E_NOT_FOUND: cannot read policy file/);
    expect((await dsm('identity', 'frobnicate')).code).toBe(2);

    // Well-formed but unknown to the network: the core's 404.
    const unknown = await dsm('identity', 'show', ids.transfer, '--json');
    expect(unknown.code).toBe(1);
    expect(errorOf(unknown).code).toBe('E_NOT_FOUND');
    const unknownToken = await dsm('token', 'show', ids.alice);
    expect(unknownToken.stderr).toMatch(/^error E_NOT_FOUND: /);
    // More than the balance.
    const tooMuch = await dsm(
      'token',
      'burn',
      '--as',
      ids.bob,
      '--token',
      ids.token,
      '--amount',
      '9999.99',
      '--json',
    );
    expect(tooMuch.code).toBe(1);
    expect(errorOf(tooMuch).code).toBe('E_BALANCE');
  });
});
