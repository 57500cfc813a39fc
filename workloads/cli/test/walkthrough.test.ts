/**
 * Runs the README's walkthrough, line for line, against `npm run dev`'s network (scripts/dev.mjs) started in
 * a temporary folder on free ports: the only edits are that folder in place of `.dsm-dev/` and the ports,
 * passed as DSM_URL / DSM_ADMIN_URL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');

function walkthrough(devDir: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.indexOf('## Walkthrough');
  const start = readme.indexOf('```bash\n', section) + '```bash\n'.length;
  const script = readme.slice(start, readme.indexOf('```', start));
  return script.replaceAll('.dsm-dev/', `${devDir}/`);
}

/** A base port with the next five free too (storage, replica, core API and P2P, bridge, EVM dev chain). */
async function freePair(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let all = true;
    for (let i = 0; i < 6 && all; i++) all = await free(base + i);
    if (all) return base;
  }
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('README walkthrough', () => {
  const devDir = mkdtempSync(join(tmpdir(), 'dsm-walkthrough-'));
  let dev: ChildProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    const base = await freePair();
    env = {
      DSM_DEV_DIR: devDir,
      DSM_DEV_STORAGE_PORT: String(base),
      DSM_DEV_API_PORT: String(base + 2),
      DSM_DEV_P2P_PORT: String(base + 3),
      DSM_DEV_BRIDGE_PORT: String(base + 4),
      DSM_DEV_EVM_PORT: String(base + 5),
      DSM_URL: `http://127.0.0.1:${base + 2}`,
      DSM_ADMIN_URL: `http://127.0.0.1:${base + 3}`,
      DSM_BRIDGE_URL: `http://127.0.0.1:${base + 4}`,
      DSM_EVM_RPC: `http://127.0.0.1:${base + 5}`,
    };
    dev = spawn(process.execPath, [join(root, 'scripts/dev.mjs')], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      dev.stdout!.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('DSM network running')) resolve();
      });
      dev.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      dev.once('exit', (code) => reject(new Error(`dev network exited with ${code}: ${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    const exited = new Promise((r) => dev.once('exit', r));
    dev.kill('SIGINT');
    await exited;
    rmSync(devDir, { recursive: true, force: true });
  });

  it('goes from identities to a verified chain, exactly as written', async () => {
    const { code, output } = await run('bash', ['-euo', 'pipefail', '-c', walkthrough(devDir)], env);
    if (code !== 0) throw new Error(`the walkthrough failed (exit ${code}):\n${output.slice(-3000)}`);
    expect(output).toMatch(/error E_POLICY: policy condition 0 \(amountLimit\) failed/);
    expect(output).toMatch(/refused by the policy, as it should be/);
    expect(output).toMatch(/\b25\.00\b/);
    expect(output).toMatch(/OK: 2\/2 states of bafyr4i\w+ verified/);
    expect(output).toMatch(/policyCacheSize:\s+2000/);
    expect(output).toMatch(/policyTtl:\s+7200/);
    // The bridge round trip: 10.00 SLV minted on the dev chain, 4.00 burnt and released back to alice.
    expect(output).toMatch(/deposit minted by mint 0x[0-9a-f]{64} \(block \d+\)/);
    expect(output).toMatch(/withdrawal released by bafyr4i\w+/);
    expect(output).toMatch(/\b494\.00\b/);
  }, 180_000);
});
