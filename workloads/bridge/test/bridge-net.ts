/**
 * What the bridge's integration tests share: a DSM network (two storage nodes, R = 2, and a core), an EVM
 * dev chain with the DsmBridge deployed, fault proxies in front of the EVM node and the core, the bridge
 * process, a hosted user with a token, and the user's EVM account. A miner adds a block every 100 ms so
 * confirmations accrue (the dev chain mines only on transactions).
 */
import { join } from 'node:path';
import { JsonRpcProvider, NonceManager, Wallet, getBytes } from 'ethers';
import { BridgeApi, type Deposit, type Withdrawal } from '@dsm/api';
import { dsmBridgeAt, wrappedDsmTokenAt } from '@dsm/bridge/contracts';
import { deployBridgeContract } from '@dsm/bridge/deploy';
import { parseId } from '@dsm/protocol';
import { HttpClient } from '@dsm/runtime/client';
import { BridgeProcess, DEV_KEYS, DevChain, FaultProxy, Network, eventually } from '@dsm/testkit';

export const CHAIN_ID = 31337;

type Json = Record<string, unknown>;

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
  private miner: NodeJS.Timeout | undefined;

  async start(options: { confirmations?: number; extra?: Record<string, unknown> } = {}): Promise<this> {
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
    this.miner = setInterval(() => void this.chain.mine().catch(() => undefined), 100);
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

  async destroy(): Promise<void> {
    if (this.miner) clearInterval(this.miner);
    this.provider?.destroy();
    await this.bridge?.kill();
    await Promise.all([this.evmProxy?.stop(), this.coreProxy?.stop()]);
    await Promise.all([this.net.destroy(), this.chain.stop()]);
  }

  /** The bridge's DSM identity (from its status). */
  async bridgeIdentity(): Promise<string> {
    return (await this.api.status()).identity;
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

  async wrappedAddress(): Promise<string> {
    const found = (await this.api.tokens()).find((t) => t.token === this.token);
    if (!found) throw new Error('no wrapped token yet');
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

  /** Restarts the bridge process (after a kill -9) with the same data, keys and port. */
  async restartBridge(): Promise<void> {
    await this.bridge.kill();
    await this.bridge.start();
  }
}
