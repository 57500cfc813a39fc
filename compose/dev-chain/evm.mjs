#!/usr/bin/env node
// The EVM dev chain of compose/ (the evm image's command): hardhat's node, in memory, on 0.0.0.0:8545 (chain
// 31337, the 20 funded accounts of hardhat's well-known test mnemonic), mining a block a second once it
// answers (like `npm run dev`), so confirmations accrue with no traffic. Development only: every start is a
// new chain. `node evm.mjs health` is the image's health check: it exits 0 when the chain answers.
//   DSM_EVM_PORT      port (default 8545)
//   DSM_EVM_BLOCK_MS  milliseconds between blocks (default 1000)
/* global AbortSignal */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const port = Number(process.env.DSM_EVM_PORT ?? 8545);
const blockMs = Number(process.env.DSM_EVM_BLOCK_MS ?? 1000);
const url = `http://127.0.0.1:${port}`;

async function rpc(method, params = []) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(3000),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

if (process.argv[2] === 'health') {
  try {
    const chainId = await rpc('eth_chainId');
    console.log(JSON.stringify({ chainId: Number(chainId), block: Number(await rpc('eth_blockNumber')) }));
    process.exit(0);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}

const log = (msg, fields = {}) =>
  console.log(JSON.stringify({ time: Date.now(), service: 'evm-devchain', msg, ...fields }));
const here = import.meta.dirname;
const cli = join(dirname(createRequire(import.meta.url).resolve('hardhat/package.json')), 'dist/src/cli.js');
const node = spawn(process.execPath, [cli, 'node', '--hostname', '0.0.0.0', '--port', String(port)], {
  cwd: here,
  stdio: 'inherit',
});
// This process is PID 1: a signal it does not handle would be ignored. The chain lives in memory: stopping
// it loses nothing that a restart keeps.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => node.kill('SIGTERM'));
node.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGTERM' ? 0 : 1)));

const deadline = Date.now() + 60_000;
for (;;) {
  try {
    await rpc('eth_chainId');
    break;
  } catch {
    if (Date.now() > deadline) {
      log('hardhat node did not answer within 60 s');
      node.kill('SIGKILL');
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
await rpc('evm_setIntervalMining', [blockMs]);
log('dev chain ready', { url: `http://0.0.0.0:${port}`, chainId: 31337, blockMs });
