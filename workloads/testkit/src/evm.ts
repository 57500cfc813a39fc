/**
 * A real EVM dev chain for tests and benchmarks: `hardhat node` (chain id 31337, 20 funded accounts of the
 * well-known dev mnemonic) as a child process on a free 127.0.0.1 port, with the JSON-RPC calls tests use to
 * mine, snapshot and revert (reorganisations), and to stop answering (an RPC outage).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from './storage.js';
import { sleep } from './process.js';

/** Hardhat's dev accounts (`test test … junk`, m/44'/60'/0'/0/i): public test keys, funded on the dev chain. */
export const DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
] as const;

const require = createRequire(import.meta.url);

export class DevChain {
  child?: ChildProcess;
  port = 0;
  output = '';

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the node (again, on the same port after `stop`) and waits until it answers. */
  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const bridgeDir = dirname(require.resolve('@dsm/bridge/package.json'));
    const cli = join(dirname(require.resolve('hardhat/package.json')), 'dist/src/cli.js');
    this.output = '';
    const child = spawn(
      process.execPath,
      [cli, 'node', '--hostname', '127.0.0.1', '--port', String(this.port)],
      {
        cwd: bridgeDir,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.rpc('eth_chainId');
        return this;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`hardhat node did not start (exit ${child.exitCode}): ${this.output}`);
      }
      await sleep(100);
    }
  }

  /** One JSON-RPC call; an error answer throws with its message. */
  async rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  }

  async blockNumber(): Promise<number> {
    return Number(await this.rpc<string>('eth_blockNumber'));
  }

  /** Mines `blocks` empty blocks. */
  async mine(blocks = 1): Promise<void> {
    await this.rpc('hardhat_mine', [`0x${blocks.toString(16)}`]);
  }

  async snapshot(): Promise<string> {
    return this.rpc<string>('evm_snapshot');
  }

  /** Back to a snapshot: every later block is gone (a reorganisation, as the bridge sees it). */
  async revert(snapshot: string): Promise<void> {
    if (!(await this.rpc<boolean>('evm_revert', [snapshot])))
      throw new Error(`evm_revert ${snapshot} failed`);
  }

  async setAutomine(on: boolean): Promise<void> {
    await this.rpc('evm_setAutomine', [on]);
  }

  /** Stops the node (its chain is gone: a restarted node starts from block 0). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
