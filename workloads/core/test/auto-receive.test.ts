/**
 * Auto-receive through real core and storage processes: storage nodes name the recipients of new transfers
 * and the core receives for them at once (the poll is an hour here, so only the notification can do it),
 * identities side by side; `dsm_receive_backlog` counts what inboxes showed pending and is not received yet.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { eventually, Network } from '@dsm/testkit';

type Json = Record<string, unknown>;
type Balances = Record<string, { available: string; locked: string }>;

async function identity(net: Network, label: string): Promise<string> {
  const res = await net.core.call<Json>('POST', '/v1/identities', { label, suite: 'ml-dsa-44' });
  expect(res.status).toBe(201);
  return res.body.identity as string;
}

async function tokenOf(net: Network, issuer: string): Promise<string> {
  const res = await net.core.call<Json>('POST', `/v1/identities/${issuer}/tokens`, {
    symbol: 'R',
    name: 'Receive',
    initialSupply: '100000',
    policy: { conditions: [] },
  });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

const available = async (net: Network, who: string, token: string) =>
  (await net.core.call<{ balances: Balances }>('GET', `/v1/identities/${who}/balances`)).body.balances[token]
    ?.available ?? '0';

async function backlog(net: Network): Promise<number> {
  const text = await (await fetch(`${net.core.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('dsm_receive_backlog '));
  if (line === undefined) throw new Error('no dsm_receive_backlog in /metrics');
  return Number(line.split(' ')[1]);
}

async function setAutoReceive(net: Network, on: boolean): Promise<void> {
  const res = await fetch(`${net.core.p2pUrl}/v1/admin/config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${net.core.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ autoReceive: on }),
  });
  expect(res.status).toBe(200);
}

describe('auto-receive', () => {
  let net: Network;
  afterEach(() => net.destroy());

  it('receives for the recipients storage nodes name, many identities at once, without waiting for the poll', async () => {
    // The Network's storage nodes notify its core node (DSM_STORAGE_NOTIFY), as deployed.
    net = await new Network().start({ coreEnv: { DSM_RECEIVE_POLL_MS: '3600000' } });
    const senders = [await identity(net, 'sender-a'), await identity(net, 'sender-b')];
    const tokens = await Promise.all(senders.map((s) => tokenOf(net, s)));
    const recipients = await Promise.all(
      Array.from({ length: 6 }, (_, i) => identity(net, `recipient-${i}`)),
    );
    await Promise.all(
      senders.map(async (sender, s) => {
        for (let round = 0; round < 3; round++)
          for (const to of recipients) {
            const res = await net.core.call('POST', `/v1/identities/${sender}/transfer`, {
              token: tokens[s],
              amount: '2',
              to,
            });
            expect(res.status).toBe(201);
          }
      }),
    );
    await eventually(
      async () => {
        for (const to of recipients)
          for (const token of tokens) if ((await available(net, to, token)) !== '6') return false;
        return true;
      },
      20_000,
      'every transfer received through the notifications',
    );
    await eventually(async () => (await backlog(net)) === 0, 5000, 'backlog back to 0');
  });

  it('counts in dsm_receive_backlog what it saw pending and could not receive, until it is received', async () => {
    net = await new Network().start({ coreEnv: { DSM_AUTO_RECEIVE: 'false', DSM_RECEIVE_POLL_MS: '200' } });
    const sender = await identity(net, 'sender');
    const token = await tokenOf(net, sender);
    const recipient = await identity(net, 'recipient');
    for (let i = 0; i < 3; i++)
      expect(
        (
          await net.core.call('POST', `/v1/identities/${sender}/transfer`, {
            token,
            amount: '1',
            to: recipient,
          })
        ).status,
      ).toBe(201);
    expect(await backlog(net)).toBe(0); // nobody looked yet
    // R = 2 with one of two storage nodes down: inboxes can be read, receives cannot be written.
    await net.storage[1]!.stop();
    await setAutoReceive(net, true);
    await eventually(async () => (await backlog(net)) === 3, 10_000, 'three transfers seen pending');
    expect(await available(net, recipient, token)).toBe('0');
    await net.storage[1]!.start();
    await eventually(async () => (await available(net, recipient, token)) === '3', 20_000, 'received');
    await eventually(async () => (await backlog(net)) === 0, 5000, 'backlog back to 0');
  });
});
