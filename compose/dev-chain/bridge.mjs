#!/usr/bin/env node
// The bridge on compose's EVM dev chain (the dsm-ethereum-bridge service's command; the bridge image's own
// command starts the bridge alone). Without DSM_BRIDGE_CONTRACT it finds or makes the DsmBridge deployment
// on DSM_BRIDGE_ETHEREUM_RPC, as `npm run dev` does: deployed by the key in DSM_DEV_CHAIN_DEPLOYER_KEY_FILE
// (the dev chain's account 0), with the bridge's own EVM account as its one attester and operator. The
// deployment is recorded in the config volume (dev-chain.json) and reused while that chain (its genesis
// block) and the contract are there; a new chain (the dev chain lives in memory, so every `up` after a
// `down` is one) gets a new deployment, and the bridge's journal, which followed the chain that is gone, is
// started afresh (its DSM identity and chain come back from the key file and the storage nodes).
// With DSM_BRIDGE_CONTRACT set (an external chain) it only starts the bridge.
/* global AbortSignal */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const log = (msg, fields = {}) =>
  console.log(JSON.stringify({ level: 30, time: Date.now(), service: 'dsm-bridge', msg, ...fields }));
const fail = (msg) => {
  console.error(`dsm-bridge: ${msg}`);
  process.exit(2);
};
const secret = (name) => {
  const file = env[name];
  if (!file) fail(`${name} is not set`);
  return readFileSync(file, 'utf8').trim();
};

async function rpc(url, method, params = []) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function genesisOf(url) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      return (await rpc(url, 'eth_getBlockByNumber', ['0x0', false])).hash;
    } catch (e) {
      if (Date.now() > deadline) fail(`the EVM node at ${url} did not answer: ${e.message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

if (!env.DSM_BRIDGE_CONTRACT) {
  // PID 1 ignores the signals it does not handle: until the bridge takes over, a stop is an exit.
  const stop = () => process.exit(143);
  process.on('SIGTERM', stop);
  const url = env.DSM_BRIDGE_ETHEREUM_RPC;
  if (!url) fail('DSM_BRIDGE_ETHEREUM_RPC is not set');
  const dataDir = env.DSM_BRIDGE_DATA_DIR ?? '/var/lib/dsm-bridge/data';
  const configDir = env.DSM_BRIDGE_CONFIG_DIR ?? '/var/lib/dsm-bridge/config';
  const recordFile = join(configDir, 'dev-chain.json');
  const genesis = await genesisOf(url);
  let record = existsSync(recordFile) ? JSON.parse(readFileSync(recordFile, 'utf8')) : undefined;
  const current =
    record !== undefined &&
    record.rpc === url &&
    record.genesis === genesis &&
    (await rpc(url, 'eth_getCode', [record.contract, 'latest'])) !== '0x';
  if (current) {
    log('dev chain: using the recorded DsmBridge deployment', { contract: record.contract });
  } else {
    const { deployBridgeContract } = await import('@dsm/bridge/deploy');
    const { Wallet } = await import('ethers');
    const operator = new Wallet(secret('DSM_BRIDGE_EVM_KEY_FILE')).address;
    let deployed;
    try {
      deployed = await deployBridgeContract({
        rpcUrl: url,
        deployerKey: secret('DSM_DEV_CHAIN_DEPLOYER_KEY_FILE'),
        signers: [operator],
        threshold: 1,
        operator,
      });
    } catch (e) {
      fail(
        `could not deploy DsmBridge on ${url} (${e.message}); for a chain of your own set DSM_BRIDGE_CONTRACT ` +
          'and DSM_BRIDGE_FROM_BLOCK to your deployment (dsm bridge deploy)',
      );
    }
    if (existsSync(dataDir))
      for (const entry of readdirSync(dataDir))
        rmSync(join(dataDir, entry), { recursive: true, force: true });
    record = {
      rpc: url,
      genesis,
      contract: deployed.address,
      fromBlock: deployed.block,
      chainId: deployed.chainId,
    };
    writeFileSync(recordFile, JSON.stringify(record, null, 2) + '\n');
    log('dev chain: deployed DsmBridge; the bridge journal starts afresh', record);
  }
  env.DSM_BRIDGE_CONTRACT = record.contract;
  env.DSM_BRIDGE_FROM_BLOCK = String(record.fromBlock);
  process.off('SIGTERM', stop);
}

await import('@dsm/bridge/main.js');
