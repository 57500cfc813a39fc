/** The bridge service as a process for tests and benchmarks, wired to a Network and an EVM dev chain. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEV_KEYS } from './evm.js';
import { freePort } from './storage.js';
import { ServiceProcess } from './process.js';

export interface BridgeSettings {
  dsmNode: string;
  storageNodes: string[];
  ethereumRpc: string;
  chainId: number;
  contract: string;
  fromBlock: number;
  confirmations?: number;
  replicationFactor?: number;
  /** More settings (config keys), e.g. `autoDeploy`. */
  extra?: Record<string, unknown>;
}

export class BridgeProcess extends ServiceProcess {
  port = 0;
  readonly adminToken = randomBytes(16).toString('hex');
  /** The bridge's DSM key seed (hex) and EVM key: the EVM key is dev account 1, the deployer is account 0. */
  readonly dsmSeed = randomBytes(32).toString('hex');
  readonly evmKey: string = DEV_KEYS[1];

  constructor(
    readonly dir: string,
    public settings: BridgeSettings,
  ) {
    super('bridge', '@dsm/bridge/main.js');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    mkdirSync(this.dir, { recursive: true });
    const file = (name: string, text: string) => {
      const path = join(this.dir, name);
      writeFileSync(path, `${text}\n`, { mode: 0o600 });
      return path;
    };
    // Resolved at run time (testkit builds before the services; the bridge is not its dependency).
    const service = 'bridge';
    const { bridgeEnv } = (await import(`@dsm/${service}/config`)) as {
      bridgeEnv: (values: Record<string, unknown>) => Record<string, string>;
    };
    const env = bridgeEnv({
      host: '127.0.0.1',
      port: this.port,
      dataDir: join(this.dir, 'data'),
      configDir: join(this.dir, 'config'),
      dsmNode: this.settings.dsmNode,
      storageNodes: this.settings.storageNodes,
      replicationFactor: this.settings.replicationFactor ?? 2,
      ethereumRpc: this.settings.ethereumRpc,
      chainId: this.settings.chainId,
      contract: this.settings.contract,
      fromBlock: this.settings.fromBlock,
      confirmations: this.settings.confirmations ?? 2,
      dsmKeyFile: file('dsm-key', this.dsmSeed),
      evmKeyFile: file('evm-key', this.evmKey),
      adminTokenFile: file('admin-token', this.adminToken),
      pollMs: 100,
      rpcTimeoutMs: 2000,
      logLevel: 'warn',
      ...this.settings.extra,
    });
    await this.spawn(env, `${this.url}/healthz`, 60_000);
  }
}
