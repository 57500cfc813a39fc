import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet } from 'ethers';
import { dsmBridgeAt } from '@dsm/bridge/contracts';
import { DEV_KEYS, DevChain } from '@dsm/testkit';
import { attestation } from '../src/commands/bridge-contract.js';
import { dsmInProcess as dsm } from './in-process.js';

const OPERATOR = new Wallet(DEV_KEYS[1]).address;
const OTHER = new Wallet(DEV_KEYS[2]).address;

describe('attestation (pure)', () => {
  it('defaults to the operator as the one signer, threshold 1', () => {
    expect(attestation(OPERATOR, undefined, '1')).toEqual({ signers: [OPERATOR], threshold: 1 });
  });

  it('refuses a threshold above the signers, a repeated signer and a malformed address', () => {
    expect(() => attestation(OPERATOR, [OPERATOR, OTHER], '3')).toThrow(/--threshold/);
    expect(() => attestation(OPERATOR, [OPERATOR, OPERATOR.toLowerCase()], '1')).toThrow(
      '--signer: an address is given twice',
    );
    expect(() => attestation(OPERATOR, ['0x1234'], '1')).toThrow(/--signer/);
  });
});

describe('dsm bridge deploy-contract on a real dev chain', () => {
  const chain = new DevChain();
  let dir = '';
  let keyFile = '';

  beforeAll(async () => {
    await chain.start();
    dir = mkdtempSync(join(tmpdir(), 'dsm-cli-contract-'));
    keyFile = join(dir, 'deployer.key');
    writeFileSync(keyFile, `${DEV_KEYS[0]}\n`, { mode: 0o600 });
  }, 120_000);
  /** deploy-contract on the dev chain with the deployer's key file, operator OPERATOR, and `extra`. */
  const deploy = (...extra: string[]) =>
    dsm(
      'bridge',
      'deploy-contract',
      '--rpc',
      chain.url,
      '--key-file',
      keyFile,
      '--operator',
      OPERATOR,
      ...extra,
    );
  afterAll(async () => {
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys DsmBridge with the signers, threshold and operator asked for, and prints its configuration', async () => {
    const out = await deploy('--signer', OPERATOR, OTHER, '--threshold', '2', '--json');
    expect([out.code, out.stderr]).toEqual([0, '']);
    const deployed = JSON.parse(out.stdout) as { address: string; block: number; chainId: number };
    expect(deployed.chainId).toBe(31337);
    expect(deployed.block).toBeLessThanOrEqual(await chain.blockNumber());

    const provider = new JsonRpcProvider(chain.url, undefined, { staticNetwork: true });
    try {
      const bridge = dsmBridgeAt(deployed.address, provider);
      expect(await bridge.signers()).toEqual([OPERATOR, OTHER]);
      expect(await bridge.threshold()).toBe(2n);
      expect(await bridge.hasRole(await bridge.DEPLOYER_ROLE(), OPERATOR)).toBe(true);
      expect(await bridge.hasRole(await bridge.DEFAULT_ADMIN_ROLE(), new Wallet(DEV_KEYS[0]).address)).toBe(
        true,
      );
      expect(await bridge.hasRole(await bridge.DEFAULT_ADMIN_ROLE(), OPERATOR)).toBe(false);
    } finally {
      provider.destroy();
    }

    // --quiet: the address alone, for scripts.
    const quiet = await deploy('--quiet');
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(/^0x[0-9a-fA-F]{40}\n$/);
    expect(quiet.stdout.trim()).not.toBe(deployed.address);
  }, 120_000);

  it('names the RPC that does not answer and a key file that holds no key, deploying nothing', async () => {
    const down = await dsm(
      'bridge',
      'deploy-contract',
      '--rpc',
      'http://127.0.0.1:9',
      '--key-file',
      keyFile,
      '--operator',
      OPERATOR,
      '--json',
    );
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stderr)).toMatchObject({
      error: { code: 'E_UNAVAILABLE', details: { url: 'http://127.0.0.1:9' } },
    });
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not a key\n');
    const before = await chain.blockNumber();
    const refused = await dsm(
      'bridge',
      'deploy-contract',
      '--rpc',
      chain.url,
      '--key-file',
      bad,
      '--operator',
      OPERATOR,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--key-file: ${bad} does not hold an EVM private key`);
    expect(refused.stderr).not.toContain('not a key');
    expect(await chain.blockNumber()).toBe(before);
  }, 60_000);
});
