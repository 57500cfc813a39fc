import { afterEach, describe, expect, it } from '@jest/globals';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotRoutes } from '@dsm/api';
import { decodeExport, nodeBackend, verifyExport } from '@dsm/protocol';
import { CoreProcess, Network } from '@dsm/testkit';
import { balancesOf, hostedPair, type Json } from './hosted-pair.js';

const setup = (net: Network) => hostedPair(net, '1000');
const balances = balancesOf;

async function snapshotOf(core: CoreProcess): Promise<Uint8Array> {
  const res = await fetch(`${core.p2pUrl}${snapshotRoutes.snapshot.path}`, {
    headers: { authorization: `Bearer ${core.adminToken}` },
  });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe('core node snapshot and restore', () => {
  let net: Network;
  afterEach(() => net.destroy());

  it('the snapshot needs the admin token', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    expect((await fetch(`${net.core.p2pUrl}${snapshotRoutes.snapshot.path}`)).status).toBe(401);
  });

  it('a core restored from a snapshot taken while a state was pending does not sign again or fork once it was finished', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false' } });
    const { alice, bob, token } = await setup(net);
    // A transfer the storage layer could not replicate: pending in the core when the snapshot is taken.
    await net.storage[1]!.stop();
    const request = { token, amount: '7', to: bob };
    const key = { key: 'pending-at-backup' };
    const first = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(first.status).toBe(503);
    const pending = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.pending as string;
    expect(typeof pending).toBe('string');
    const snapshot = await snapshotOf(net.core);

    // After the backup, the pending state is finished and the chain goes on.
    await net.storage[1]!.start();
    const finished = await net.core.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(finished.body).toMatchObject({ resumed: true, stateId: pending });
    for (let i = 0; i < 3; i++)
      expect(
        (await net.core.call('POST', `/v1/identities/${alice}/transfer`, { token, amount: '1', to: bob }))
          .status,
      ).toBe(201);
    const headAfter = (await net.core.call<Json>('GET', `/v1/identities/${alice}`)).body.n as number;

    // The core's volume is lost; a new core starts from the snapshot.
    await net.core.kill();
    rmSync(join(net.core.dir, 'data'), { recursive: true, force: true });
    const file = join(net.cluster.root, 'core.car');
    writeFileSync(file, snapshot);
    const restored = new CoreProcess(
      net.core.dir,
      net.core.apiPort,
      net.core.p2pPort,
      net.core.storageNodes,
      net.core.adminToken,
      { DSM_AUTO_RECEIVE: 'false', DSM_CORE_RESTORE_FROM: file },
    );
    restored.apiToken = net.core.apiToken;
    net.cores[0] = restored;
    net.core = restored;
    await restored.start();

    // The hosted identities and their keys came back; the retried request answers as before, applied once.
    const retried = await restored.call<Json>('POST', `/v1/identities/${alice}/transfer`, request, key);
    expect(retried.body).toMatchObject({ stateId: pending });
    const next = await restored.call<Json>('POST', `/v1/identities/${alice}/transfer`, {
      token,
      amount: '2',
      to: bob,
    });
    expect([next.status, next.body.error]).toEqual([201, undefined]);
    expect(next.body.n).toBe(headAfter + 1);
    expect((await balances(restored, alice))[token]!.available).toBe(String(1000 - 7 - 3 - 2));
    for (const node of net.storage) {
      const forks = (await (await fetch(`${node.url}/v1/identities/${alice}/forks`)).json()) as {
        forked: boolean;
      };
      expect(forks.forked).toBe(false);
    }
    const bundle = decodeExport(
      new Uint8Array(await (await fetch(`${restored.url}/v1/identities/${alice}/export`)).arrayBuffer()),
    );
    expect((await verifyExport(bundle, nodeBackend)).failure).toBeUndefined();
    // A restart with the setting still in place keeps the volume as it is.
    expect(await restored.stop()).toBe(0);
    await restored.start();
    expect((await restored.call<Json>('GET', `/v1/identities/${alice}`)).body.n).toBe(headAfter + 1);
  });
});
