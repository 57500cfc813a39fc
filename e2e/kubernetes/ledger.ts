/**
 * An independent ledger of hosted transfers sent through the core's Service while the cluster is disturbed.
 * Every transfer carries an Idempotency-Key of its own. An answer 201/200 is an acknowledged transfer; a
 * definitive refusal (4xx other than 408/409/429) is one that did not happen; anything else (no answer,
 * 5xx, 503 with the state still waiting for storage) is unknown until `settle()` asks again with the same
 * key, which the core answers with what the first attempt did (or does it, once). After `settle()` every
 * transfer has an outcome, so the balances the core reports must equal the ledger's exactly: nothing
 * acknowledged lost, nothing done twice.
 */
import { randomUUID } from 'node:crypto';

export type Outcome = 'acknowledged' | 'refused' | 'unknown';

export interface LedgerOptions {
  /** The core's client API (the Service's ClusterIP). */
  url: string;
  apiToken: string;
  from: string;
  to: string;
  token: string;
  /** Base units per transfer. */
  amount: bigint;
}

interface IdentityBalances {
  identity: string;
  n: number;
  balances: Record<string, { available: string; locked: string }>;
}

export class TransferLedger {
  private readonly outcomes = new Map<string, Outcome>();
  private running = false;
  private loops: Promise<void>[] = [];
  /** Requests of the current step that got no definitive answer at first (each settled later). */
  unansweredThisStep = 0;

  constructor(private readonly options: LedgerOptions) {}

  /** Acknowledged transfers when the current step started (`start`). */
  private acknowledgedBefore = 0;

  /** Sends transfers from `concurrency` loops until `stop()`: one step of a test. */
  start(concurrency = 2): void {
    this.acknowledgedBefore = this.count('acknowledged');
    this.unansweredThisStep = 0;
    this.running = true;
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** Asks again, with the same keys, about every transfer whose outcome is unknown; bounded in time. */
  async settle(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const unknown = [...this.outcomes].filter(([, o]) => o === 'unknown').map(([key]) => key);
      if (unknown.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${unknown.length} transfers still without an outcome`);
      for (const key of unknown) this.outcomes.set(key, await this.send(key));
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  count(outcome: Outcome): number {
    return [...this.outcomes.values()].filter((o) => o === outcome).length;
  }

  /** Transfers acknowledged since the last `start()` (settled ones included). */
  get acknowledgedThisStep(): number {
    return this.count('acknowledged') - this.acknowledgedBefore;
  }

  /** Units the ledger says left `from` (every acknowledged transfer). */
  get sent(): bigint {
    return BigInt(this.count('acknowledged')) * this.options.amount;
  }

  /** The available balance of `identity` in the ledger's token and its head height, as the core reports them. */
  async balance(identity: string): Promise<{ available: bigint; n: number }> {
    const response = await this.request('GET', `/v1/identities/${identity}/balances`);
    if (response.status !== 200) throw new Error(`balances of ${identity}: HTTP ${response.status}`);
    const body = (await response.json()) as IdentityBalances;
    return { available: BigInt(body.balances[this.options.token]?.available ?? '0'), n: body.n };
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const key = randomUUID();
      const outcome = await this.send(key);
      if (outcome === 'unknown') {
        this.unansweredThisStep++;
        // Give a restarting pod a moment rather than spinning on it.
        await new Promise((r) => setTimeout(r, 200));
      }
      this.outcomes.set(key, outcome);
    }
  }

  private async send(key: string): Promise<Outcome> {
    const { from, to, token, amount } = this.options;
    try {
      const response = await this.request('POST', `/v1/identities/${from}/transfer`, key, {
        token,
        amount: amount.toString(),
        to,
      });
      await response.arrayBuffer();
      if (response.status === 200 || response.status === 201) return 'acknowledged';
      if (response.status >= 400 && response.status < 500 && ![408, 409, 429].includes(response.status))
        return 'refused';
      return 'unknown';
    } catch {
      return 'unknown';
    }
  }

  private request(method: string, path: string, key?: string, body?: unknown): Promise<Response> {
    return fetch(`${this.options.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.options.apiToken}`,
        ...(key === undefined ? {} : { 'idempotency-key': key }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  }
}
