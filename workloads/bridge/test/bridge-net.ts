/**
 * What the bridge's integration tests share: a DSM network (two storage nodes, R = 2, and a core), an EVM
 * dev chain with the DsmBridge deployed, fault proxies in front of the EVM node and the core, the bridge
 * process, a hosted user with a token, and the user's EVM account. A miner adds a block every 100 ms so
 * confirmations accrue (the dev chain mines only on transactions); reorganisation tests stop it to decide
 * themselves which blocks exist.
 */
import { join } from 'node:path';
import { Interface, JsonRpcProvider, NonceManager, Wallet, getBytes } from 'ethers';
import { BridgeApi, CoreApi, type Deposit, type InboxEntry, type Withdrawal } from '@dsm/api';
import { dsmBridgeAbi, dsmBridgeAt, dsmIdDigest, wrappedDsmTokenAt } from '@dsm/bridge/contracts';
import { deployBridgeContract } from '@dsm/bridge/deploy';
import { decodeSignedState, parseId, type Operation } from '@dsm/protocol';
import { HttpClient } from '@dsm/runtime/client';
import {
  BridgeProcess,
  DEV_KEYS,
  DevChain,
  FaultProxy,
  Network,
  eventually,
  sleep,
  type ProxiedRequest,
} from '@dsm/testkit';

export const CHAIN_ID = 31337;

const MINTED_TOPIC = new Interface(dsmBridgeAbi).getEvent('Minted')?.topicHash as string;

type Json = Record<string, unknown>;

/** The operation of the state a core request submits (`POST /v1/states`), if it is one. */
export function submittedOp(req: ProxiedRequest): Operation | undefined {
  if (req.method !== 'POST' || req.path !== '/v1/states') return undefined;
  try {
    return decodeSignedState(new Uint8Array(req.body)).signed.state.op;
  } catch {
    return undefined;
  }
}

/**
 * Checks that `check` stays true for `ms` (what must not happen, such as a mint while halted), failing as soon
 * as it is false; the counterpart of `eventually` for things that have no event to wait for.
 */
export async function consistently(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  do {
    if (!(await check())) throw new Error(`no longer true: ${what}`);
    await sleep(100);
  } while (Date.now() < deadline);
}

/** The memo of the release paying out burn `<txHash>:<logIndex>`. */
export const releaseMemo = (id: string) => `evm:${CHAIN_ID}:${id}`;

export class BridgeNet {
  readonly net = new Network();
  readonly chain = new DevChain();
  evmProxy!: FaultProxy;
  coreProxy!: FaultProxy;
  bridge!: BridgeProcess;
  api!: BridgeApi;
  contract = '';
  provider!: JsonRpcProvider;
  /** The user's EVM account (dev account 2). */
  user!: NonceManager;
  userAddress = '';
  /** A hosted DSM identity holding `token`. */
  alice = '';
  token = '';
  /** The block the DsmBridge was deployed in. */
  deployBlock = 0;
  private identity = '';
  private wrapped = '';
  private mining = false;
  private miner: Promise<void> | undefined;

  async start(
    options: { confirmations?: number; extra?: Record<string, unknown>; miner?: boolean } = {},
  ): Promise<this> {
    await Promise.all([this.net.start(), this.chain.start()]);
    const bridgeKey = new Wallet(DEV_KEYS[1]);
    const deployed = await deployBridgeContract({
      rpcUrl: this.chain.url,
      deployerKey: DEV_KEYS[0],
      signers: [bridgeKey.address],
      threshold: 1,
      operator: bridgeKey.address,
    });
    this.contract = deployed.address;
    this.deployBlock = deployed.block;
    this.evmProxy = await new FaultProxy(this.chain.url).start();
    this.coreProxy = await new FaultProxy(this.net.core.url).start();
    this.bridge = new BridgeProcess(join(this.net.cluster.root, 'bridge'), {
      dsmNode: this.coreProxy.address,
      storageNodes: this.net.storage.map((s) => s.address),
      ethereumRpc: this.evmProxy.url,
      chainId: CHAIN_ID,
      contract: deployed.address,
      fromBlock: deployed.block,
      confirmations: options.confirmations ?? 3,
      ...(options.extra ? { extra: options.extra } : {}),
    });
    await this.bridge.start();
    this.api = new BridgeApi(
      new HttpClient({ baseUrl: this.bridge.url, timeoutMs: 5000, token: this.bridge.adminToken }),
    );
    this.provider = new JsonRpcProvider(this.chain.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
    this.user = new NonceManager(new Wallet(DEV_KEYS[2], this.provider));
    this.userAddress = await this.user.getAddress();
    if (options.miner ?? true) this.startMiner();
    const created = await this.net.core.call<Json>('POST', '/v1/identities', {
      label: 'alice',
      suite: 'ml-dsa-44',
    });
    this.alice = created.body.identity as string;
    const token = await this.net.core.call<Json>('POST', `/v1/identities/${this.alice}/tokens`, {
      symbol: 'GOLD',
      name: 'Gold',
      decimals: 2,
      initialSupply: '1000000',
      policy: { conditions: [] },
    });
    this.token = token.body.token as string;
    return this;
  }

  /** Mines a block every 100 ms until `stopMiner`. */
  startMiner(): void {
    if (this.mining) return;
    this.mining = true;
    this.miner = (async () => {
      while (this.mining) {
        await this.chain.mine().catch(() => undefined);
        await sleep(100);
      }
    })();
  }

  /** Stops the miner, waiting for the block it may be mining: from then on only the test adds blocks. */
  async stopMiner(): Promise<void> {
    this.mining = false;
    await this.miner;
  }

  async destroy(): Promise<void> {
    await this.stopMiner();
    this.provider?.destroy();
    await this.bridge?.kill();
    await Promise.all([this.evmProxy?.stop(), this.coreProxy?.stop()]);
    await Promise.all([this.net.destroy(), this.chain.stop()]);
  }

  /** The bridge's DSM identity (from its status, once: it never changes, and the bridge may be down later). */
  async bridgeIdentity(): Promise<string> {
    this.identity ||= (await this.api.status()).identity;
    return this.identity;
  }

  /** A hosted transfer from alice to the bridge with `memo`; the transfer state id. */
  async deposit(amount: string, memo: string): Promise<string> {
    const sent = await this.net.core.call<Json>('POST', `/v1/identities/${this.alice}/transfer`, {
      token: this.token,
      amount,
      to: await this.bridgeIdentity(),
      memo,
    });
    if (sent.status !== 201) throw new Error(`deposit transfer: ${JSON.stringify(sent.body)}`);
    return sent.body.stateId as string;
  }

  async depositOf(transfer: string): Promise<Deposit | undefined> {
    try {
      return (await this.api.deposit(transfer))[0];
    } catch {
      return undefined;
    }
  }

  async waitDeposit(transfer: string, status: Deposit['status'], timeoutMs = 30_000): Promise<Deposit> {
    await eventually(
      async () => (await this.depositOf(transfer))?.status === status,
      timeoutMs,
      `deposit ${status}`,
    );
    return (await this.depositOf(transfer)) as Deposit;
  }

  /** The wrapped token's address (asked once it exists: it never changes). */
  async wrappedAddress(): Promise<string> {
    if (this.wrapped) return this.wrapped;
    const found = (await this.api.tokens()).find((t) => t.token === this.token);
    if (!found) throw new Error('no wrapped token yet');
    this.wrapped = found.wrapped;
    return found.wrapped;
  }

  async wrappedBalance(address = this.userAddress): Promise<bigint> {
    return wrappedDsmTokenAt(await this.wrappedAddress(), this.provider).balanceOf(address);
  }

  async wrappedSupply(): Promise<bigint> {
    return wrappedDsmTokenAt(await this.wrappedAddress(), this.provider).totalSupply();
  }

  /** The user burns `amount` of wrapped tokens to `recipient` on DSM; `<txHash>:<logIndex>` and the block. */
  async withdraw(amount: bigint, recipient = this.alice): Promise<{ id: string; block: number }> {
    const bridge = dsmBridgeAt(this.contract, this.user);
    const tx = await bridge.burnToDsm(
      await this.wrappedAddress(),
      amount,
      getBytes(parseId(recipient).bytes),
    );
    const receipt = await tx.wait();
    if (!receipt) throw new Error('no receipt');
    const log = receipt.logs.find((l) => l.address.toLowerCase() === this.contract.toLowerCase());
    if (!log) throw new Error('no BurnToDsm log');
    return { id: `${receipt.hash}:${log.index}`, block: receipt.blockNumber };
  }

  async withdrawalOf(id: string): Promise<Withdrawal | undefined> {
    try {
      return (await this.api.withdrawal(id))[0];
    } catch {
      return undefined;
    }
  }

  async waitWithdrawal(id: string, status: Withdrawal['status'], timeoutMs = 30_000): Promise<Withdrawal> {
    await eventually(
      async () => (await this.withdrawalOf(id))?.status === status,
      timeoutMs,
      `withdrawal ${status}`,
    );
    return (await this.withdrawalOf(id)) as Withdrawal;
  }

  /** Available balance of `token` of a DSM identity, from the core. */
  async dsmBalance(identity: string, token = this.token): Promise<bigint> {
    const res = await this.net.core.call<{ balances?: Record<string, { available: string }> }>(
      'GET',
      `/v1/identities/${identity}/balances`,
    );
    return BigInt(res.body.balances?.[token]?.available ?? '0');
  }

  /** Minted events of a DSM transfer on the chain as the node has it now (not through the bridge). */
  async mintedEvents(transfer: string): Promise<number> {
    const logs = await this.provider.getLogs({
      address: this.contract,
      topics: [MINTED_TOPIC, dsmIdDigest(parseId(transfer).bytes)],
      fromBlock: this.deployBlock,
      toBlock: 'latest',
    });
    return logs.length;
  }

  /** The contract's replay guard for a DSM transfer. */
  async mintedOnChain(transfer: string): Promise<boolean> {
    return dsmBridgeAt(this.contract, this.provider).minted(dsmIdDigest(parseId(transfer).bytes));
  }

  /** Inbox entries of a DSM identity carrying `memo`, from the core. */
  async inboxWith(memo: string, identity = this.alice): Promise<InboxEntry[]> {
    const inbox = await this.net.core.call<{ entries: InboxEntry[] }>(
      'GET',
      `/v1/identities/${identity}/inbox`,
    );
    return inbox.body.entries.filter((e) => e.memo === memo);
  }

  /** Every operation on the bridge's own DSM chain, read state by state from the core. */
  async bridgeOps(): Promise<Operation[]> {
    const core = new CoreApi(new HttpClient({ baseUrl: this.net.core.url, timeoutMs: 5000 }));
    const identity = await this.bridgeIdentity();
    const ops: Operation[] = [];
    for (let from = 0; ;) {
      const page = await core.chain(identity, from, 100);
      for (const { n } of page.states) {
        ops.push(decodeSignedState(await core.state(identity, n)).signed.state.op);
      }
      if (page.states.length < 100) return ops;
      from += page.states.length;
    }
  }

  /** Receives of `transfer` on the bridge's chain. */
  async receivesOf(transfer: string): Promise<number> {
    return (await this.bridgeOps()).filter(
      (op) => op.kind === 'token.receive' && op.transfer.toString() === transfer,
    ).length;
  }

  /** Releases of burn `<txHash>:<logIndex>` on the bridge's chain. */
  async releasesOf(id: string): Promise<number> {
    return (await this.bridgeOps()).filter(
      (op) => op.kind === 'token.transfer' && op.memo === releaseMemo(id),
    ).length;
  }

  /** One sample of the bridge's /metrics (`name{labels}` as printed), undefined when absent. */
  async metric(series: string): Promise<number | undefined> {
    const text = await (await fetch(`${this.bridge.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  }

  /** Restarts the bridge process (after a kill -9) with the same data, keys and port. */
  async restartBridge(): Promise<void> {
    await this.bridge.kill();
    await this.bridge.start();
  }
}
