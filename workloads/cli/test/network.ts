/**
 * The CLI's integration network: @dsm/testkit's real storage and core processes (one admin token for all
 * of them), seen through the names the CLI test uses, and a runner for the built `dsm` command.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Network as Kit, type StorageProcess } from '@dsm/testkit';

export { freePort } from '@dsm/testkit';
export const CLI_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export class Network {
  private readonly kit = new Kit();
  private readonly token = randomBytes(16).toString('hex');

  get root(): string {
    return this.kit.cluster.root;
  }
  get storage(): { address: string; url: string }[] {
    return this.kit.storage.map((s) => ({ address: s.address, url: s.url }));
  }
  get coreUrl(): string {
    return this.kit.core.url;
  }
  get coreP2pUrl(): string {
    return this.kit.core.p2pUrl;
  }
  get coreTokenFile(): string {
    return join(this.kit.core.dir, 'admin-token');
  }
  get coreApiTokenFile(): string {
    return this.kit.core.apiTokenFile;
  }
  get storageTokenFile(): string {
    return join(this.kit.storage[0]!.dir, 'admin-token');
  }

  /** A storage node of its own (no peers, not started), with the network's admin token: restores go there. */
  async spareStorage(): Promise<StorageProcess> {
    const [node] = await this.kit.cluster.create(1, {}, this.token);
    node!.peers = [];
    return node!;
  }

  async start(): Promise<this> {
    await this.kit.start({ adminToken: this.token, coreEnv: { DSM_RECEIVE_POLL_MS: '1000' } });
    return this;
  }

  destroy(): Promise<void> {
    return this.kit.destroy();
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node workloads/cli/dist/main.js ...args` with only the given environment (and PATH). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
