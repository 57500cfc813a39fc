#!/usr/bin/env node
// `npm run dev`: the whole DSM network as local processes on loopback, no Docker: two storage nodes
// replicating with each other (R = 2), a core node, an EVM dev chain (`hardhat node`, a block a second)
// with the DsmBridge contract deployed, and the bridge. Data, secrets and logs live in one folder
// (.dsm-dev, or DSM_DEV_DIR): each process writes its own log file there itself (no line goes through this
// one), and this script prints only its own status lines. Ctrl-C stops everything cleanly; a second Ctrl-C
// stops it at once.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const dir = resolve(process.env.DSM_DEV_DIR ?? join(root, '.dsm-dev'));
const host = '127.0.0.1';
const ports = {
  api: Number(process.env.DSM_DEV_API_PORT ?? 7545),
  p2p: Number(process.env.DSM_DEV_P2P_PORT ?? 8765),
  storage: [
    Number(process.env.DSM_DEV_STORAGE_PORT ?? 8766),
    Number(process.env.DSM_DEV_STORAGE_PORT ?? 8766) + 1,
  ],
  bridge: Number(process.env.DSM_DEV_BRIDGE_PORT ?? 8768),
  evm: Number(process.env.DSM_DEV_EVM_PORT ?? 8545),
};
// Hardhat's first two dev accounts (the well-known `test … junk` mnemonic, funded on the dev chain only):
// the first deploys the contract and administers it, the second is the bridge's own EVM account.
const DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
];

mkdirSync(join(dir, 'logs'), { recursive: true });
const secret = (name) => {
  const file = join(dir, name);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600 });
  return file;
};
const adminToken = secret('admin-token');
const apiToken = secret('api-token');
const keystoreKey = secret('keystore-key');
// Storage nodes replicate only with holders of this token (their replication routes refuse others).
const peerToken = secret('peer-token');
// The bridge's DSM identity key (a 32-byte seed, so its identity survives restarts) and its EVM key.
const bridgeDsmKey = join(dir, 'bridge-dsm-key');
if (!existsSync(bridgeDsmKey))
  writeFileSync(bridgeDsmKey, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
const bridgeEvmKey = join(dir, 'bridge-evm-key');
writeFileSync(bridgeEvmKey, DEV_KEYS[1] + '\n', { mode: 0o600 });

const storageAddress = (i) => `${host}:${ports.storage[i]}`;
const services = [
  ...[0, 1].map((i) => ({
    name: `storage-${i}`,
    kind: 'storage',
    main: 'workloads/storage/dist/main.js',
    url: `http://${storageAddress(i)}`,
    settings: {
      nodeId: `storage-${i}`,
      role: i === 0 ? 'primary' : 'replica',
      host,
      port: ports.storage[i],
      advertise: storageAddress(i),
      syncWith: [storageAddress(1 - i)],
      replicationFactor: 2,
      notify: [`${host}:${ports.p2p}`],
      dataDir: join(dir, `storage-${i}`, 'data'),
      configDir: join(dir, `storage-${i}`, 'config'),
      peerTokenFile: peerToken,
      adminTokenFile: adminToken,
    },
  })),
  {
    name: 'core',
    kind: 'core',
    main: 'workloads/core/dist/main.js',
    url: `http://${host}:${ports.api}`,
    settings: {
      host,
      apiPort: ports.api,
      p2pPort: ports.p2p,
      dataDir: join(dir, 'core', 'data'),
      configDir: join(dir, 'core', 'config'),
      policiesDir: join(dir, 'core', 'policies'),
      storageNodes: [0, 1].map(storageAddress),
      keystoreKeyFile: keystoreKey,
      adminTokenFile: adminToken,
      apiTokenFile: apiToken,
    },
  },
  {
    name: 'bridge',
    kind: 'bridge',
    main: 'workloads/bridge/dist/main.js',
    url: `http://${host}:${ports.bridge}`,
    // The contract's address and block are added once it is deployed on the dev chain.
    settings: {
      host,
      port: ports.bridge,
      dataDir: join(dir, 'bridge', 'data'),
      configDir: join(dir, 'bridge', 'config'),
      dsmNode: `${host}:${ports.api}`,
      storageNodes: [0, 1].map(storageAddress),
      replicationFactor: 2,
      ethereumRpc: `http://${host}:${ports.evm}`,
      chainId: 31337,
      dsmKeyFile: bridgeDsmKey,
      evmKeyFile: bridgeEvmKey,
      adminTokenFile: adminToken,
    },
  },
];
const evmUrl = `http://${host}:${ports.evm}`;

for (const service of services) {
  if (!existsSync(join(root, service.main))) {
    console.error(`${service.main} is missing: run npm run build first`);
    process.exit(1);
  }
}

// The services' settings come from their config schemas (the built @dsm/core/config, @dsm/storage/config).
const load = (file) => import(pathToFileURL(join(root, file)).href);
const configs = {
  core: await load('workloads/core/dist/config.js'),
  storage: await load('workloads/storage/dist/config.js'),
  bridge: await load('workloads/bridge/dist/config.js'),
};
const toEnv = {
  core: configs.core.coreEnv,
  storage: configs.storage.storageEnv,
  bridge: configs.bridge.bridgeEnv,
};
const envNames = {
  core: configs.core.CORE_ENV,
  storage: configs.storage.STORAGE_ENV,
  bridge: configs.bridge.BRIDGE_ENV,
};
const envOf = (service) => toEnv[service.kind](service.settings);
for (const service of services) if (service.kind !== 'bridge') service.env = envOf(service);
// Any other setting given in our environment (`DSM_AUTO_RECEIVE=false npm run dev`) is passed to the services
// that have it. A variable this script sets for one service (DSM_CONNECT_PEERS: the core's storage nodes) is
// never passed to another that spells a different setting the same way.
const managed = new Set(
  services.flatMap((service) =>
    [...Object.keys(service.settings), ...(service.kind === 'bridge' ? ['contract', 'fromBlock'] : [])].map(
      (key) => envNames[service.kind][key],
    ),
  ),
);
const passThrough = (service) => {
  for (const name of Object.values(envNames[service.kind])) {
    if (!managed.has(name) && process.env[name] !== undefined) service.env[name] = process.env[name];
  }
};
for (const service of services) if (service.env) passThrough(service);

const children = [];
let stopping = false;

function start(service) {
  if (stopping) return;
  // The child gets the log file itself as stdout and stderr (opened for appending, so whole lines from
  // both land in order): relaying every line through a pipe to this process cost a copy and a hop each.
  const log = openSync(join(dir, 'logs', `${service.name}.log`), 'a');
  let child;
  try {
    child = spawn(process.execPath, service.args ?? [join(root, service.main)], {
      ...(service.cwd ? { cwd: service.cwd } : {}),
      env: { PATH: process.env.PATH, ...service.env },
      stdio: ['ignore', log, log],
      // A process group of its own: Ctrl-C signals the terminal's foreground group, and a service that
      // got that SIGINT and ours as well would take them for two Ctrl-Cs and skip its clean shutdown.
      detached: true,
    });
  } finally {
    closeSync(log);
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(
        `${service.name} exited (${signal ?? code}); see ${relative(process.cwd(), join(dir, 'logs', `${service.name}.log`))}`,
      );
      void stop(1);
    }
  });
  children.push({ name: service.name, child });
}

async function ready(service, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${service.url}/readyz`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${service.name} did not become ready at ${service.url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const running = (child) => child.exitCode === null && child.signalCode === null;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  const exits = await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((r) => {
          if (!running(child)) return r(child.exitCode ?? child.signalCode);
          child.once('exit', (exitCode, signal) => r(exitCode ?? signal));
          child.kill('SIGTERM');
        }),
    ),
  );
  // Our services exit 0 after their clean shutdown; hardhat's node simply dies of the SIGTERM.
  const clean = (name, exit) => exit === 0 || (name === 'evm' && exit === 'SIGTERM');
  const failed = children.filter(({ name }, i) => !clean(name, exits[i])).map(({ name }) => name);
  if (failed.length > 0) console.error(`not stopped cleanly: ${failed.join(', ')}; see their logs`);
  console.log('stopped');
  process.exit(failed.length > 0 ? 1 : code);
}

// One signal to us is one to each service; a second one (Ctrl-C again) is passed on as well, and
// the services then exit without finishing their shutdown.
let signals = 0;
function onSignal() {
  signals += 1;
  if (signals === 1) return void stop(0);
  console.log('second signal: stopping the services at once');
  for (const { child } of children) if (running(child)) child.kill('SIGTERM');
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
// Detached services outlive us unless killed: if we exit any other way (a crash), take them along.
process.on('exit', () => {
  for (const { child } of children) if (running(child)) child.kill('SIGKILL');
});

// The EVM dev chain: hardhat's node, in memory, so every start is a new chain (and a new deployment).
const require = createRequire(import.meta.url);
const bridgePackage = join(root, 'workloads/bridge');
const evm = {
  name: 'evm',
  url: evmUrl,
  cwd: bridgePackage,
  env: {},
  args: [
    join(dirname(require.resolve('hardhat/package.json', { paths: [bridgePackage] })), 'dist/src/cli.js'),
    'node',
    '--hostname',
    host,
    '--port',
    String(ports.evm),
  ],
};

async function rpc(method, params = []) {
  const response = await fetch(evmUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await response.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function chainReady(timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await rpc('eth_chainId');
    } catch {
      if (Date.now() > deadline) throw new Error(`the EVM dev chain did not start at ${evmUrl}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let deployed;
try {
  start(evm);
  for (const service of services.slice(0, 2)) start(service);
  await Promise.all([...services.slice(0, 2).map((s) => ready(s)), chainReady()]);
  // Interval mining (a block a second) so confirmations accrue with no traffic.
  await rpc('evm_setIntervalMining', [1000]);
  start(services[2]);
  await ready(services[2]);
  const { deployBridgeContract } = await load('workloads/bridge/dist/deploy.js');
  const { Wallet } = await import('ethers');
  const operator = new Wallet(DEV_KEYS[1]).address;
  deployed = await deployBridgeContract({
    rpcUrl: evmUrl,
    deployerKey: DEV_KEYS[0],
    signers: [operator],
    threshold: 1,
    operator,
  });
  const bridge = services[3];
  Object.assign(bridge.settings, { contract: deployed.address, fromBlock: deployed.block });
  // The bridge's progress belongs to the chain it followed, and that chain is gone: start it afresh (its
  // DSM identity and chain come back from the key file and the storage nodes).
  rmSync(bridge.settings.dataDir, { recursive: true, force: true });
  bridge.env = envOf(bridge);
  passThrough(bridge);
  start(bridge);
  await ready(bridge, 60_000);
} catch (e) {
  console.error(e.message);
  await stop(1);
}

const rel = relative(process.cwd(), dir) || '.';
// A Ctrl-C during start-up: stop() is already waiting for the services and will exit.
if (!stopping)
  console.log(`DSM network running (data in ${rel}, logs in ${rel}/logs)

  core API            http://${host}:${ports.api}
  core P2P / admin    http://${host}:${ports.p2p}   (metrics: /metrics)
  storage primary     http://${storageAddress(0)}
  storage replica     http://${storageAddress(1)}
  bridge              http://${host}:${ports.bridge}   (dsm bridge status)
  EVM dev chain       ${evmUrl}   (chain 31337, DsmBridge at ${deployed?.address})
  admin token file    ${rel}/admin-token   (DSM_ADMIN_TOKEN_FILE: config, topology)
  API token file      ${rel}/api-token     (DSM_API_TOKEN_FILE: acting for hosted identities)

Try, in another terminal:

  export DSM_ADMIN_TOKEN_FILE=${rel}/admin-token DSM_API_TOKEN_FILE=${rel}/api-token
  npx dsm status
  npx dsm identity create --label alice
  npx dsm config set --policy-cache-size=2000 --policy-ttl=7200
  npx dsm topology list
  npx dsm bridge status

Ctrl-C stops everything.`);
