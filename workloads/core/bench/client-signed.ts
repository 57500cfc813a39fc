/**
 * Client-signed states: each client is a self-custody wallet (its genesis, state 0, token and a recipient
 * stored beforehand) whose transfers the load generator signs before the window; only the POSTs of those
 * pre-signed transfers to the core (`POST /v1/states`) are timed.
 */
import { coreRoutes } from '@dsm/api';
import { encode, type CID, type SignatureSuite, type State } from '@dsm/protocol';
import { Wallet, type Network } from '@dsm/testkit';
import { closedLoop, expectStatus, inParallel, postCbor, type Plan, type Point } from './load.js';
import type { CpuMeter } from './measure.js';

/** Transfers/s that each point signs enough for, at least. */
const MIN_RATE = 100;

interface Client {
  wallet: Wallet;
  token: CID;
  recipient: CID;
  /** The last state the core accepted. */
  accepted: State;
  /** Signed transfers not sent yet. */
  queue: { state: State; bytes: Uint8Array }[];
}

async function store(net: Network, what: string, path: string, bytes: Uint8Array): Promise<void> {
  expectStatus(await postCbor(net.core.url, path, bytes), what, 201);
}

/** A funded wallet and a recipient wallet, both with their openings stored through the core. */
async function createClient(net: Network, suite: SignatureSuite): Promise<Client> {
  const wallet = new Wallet(suite);
  const recipient = new Wallet(suite);
  for (const w of [wallet, recipient]) {
    const [genesis, state0] = w.opening();
    await store(net, 'genesis', coreRoutes.putObject.path, encode(genesis));
    await store(net, 'state 0', coreRoutes.submitState.path, encode(state0));
  }
  const token = wallet.token([{ kind: 'amountLimit', op: 'token.transfer', max: '100' }], 1_000_000_000n);
  const [policy, definition, create] = token.objects;
  for (const object of [policy, definition])
    await store(net, 'token object', coreRoutes.putObject.path, encode(object));
  await store(net, 'token.create', coreRoutes.submitState.path, encode(create));
  return { wallet, token: token.tokenId, recipient: recipient.identity, accepted: wallet.head, queue: [] };
}

/**
 * (c) Client-signed transfers. Each point signs, per client, enough transfers for twice the best
 * rate seen so far (at least MIN_RATE), from its last accepted state (so no state is sent long after
 * it was signed: the core refuses a clock 30 s off); a client that runs out stops early.
 */
export async function clientSigned(
  net: Network,
  plan: Plan,
  meter: () => CpuMeter,
  suite: SignatureSuite,
): Promise<Point[]> {
  const clients: Client[] = [];
  const run = async (count: number, seconds: number, perSecond: number) => {
    const fresh = Array.from({ length: Math.max(0, count - clients.length) }, (_, k) => clients.length + k);
    await inParallel(fresh, 8, async (i) => {
      clients[i] = await createClient(net, suite);
    });
    const active = clients.slice(0, count);
    const each = Math.ceil((perSecond * seconds) / count) + 1;
    // Signed afresh from the last accepted state: what a point left unsent is dropped, not sent late.
    for (const client of active) {
      const { wallet, token, recipient } = client;
      wallet.head = client.accepted;
      client.queue = [];
      for (let k = 0; k < each; k++) {
        const signed = wallet.next({ kind: 'token.transfer', token, amount: '1', to: recipient });
        client.queue.push({ state: signed.state, bytes: encode(signed) });
        // Signing takes seconds: let the event loop see the keep-alive sockets the core closed meanwhile,
        // or fetch would send the next request on one of them ("other side closed").
        if (k % 50 === 49) await new Promise((r) => setImmediate(r));
      }
    }
    return closedLoop(count, seconds, meter(), async (i) => {
      const client = active[i]!;
      const next = client.queue.shift();
      if (next === undefined) return false;
      expectStatus(await postCbor(net.core.url, coreRoutes.submitState.path, next.bytes), 'state', 201);
      client.accepted = next.state;
      return true;
    });
  };
  let best = (await run(1, plan.warmupSeconds, MIN_RATE)).perSecond;
  const points: Point[] = [];
  for (const count of plan.clients) {
    const point = await run(count, plan.seconds, Math.max(MIN_RATE, 2 * best));
    best = Math.max(best, point.perSecond);
    points.push(point);
  }
  return points;
}
