#!/usr/bin/env node
// `npm run dev`: the whole DSM network as local processes on loopback, no Docker: two storage nodes
// replicating with each other (R = 2) and a core node. Data, secrets and logs live in one folder
// (.dsm-dev, or DSM_DEV_DIR). Ctrl-C stops everything cleanly; a second Ctrl-C stops it at once.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
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
};

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
];

for (const service of services) {
  if (!existsSync(join(root, service.main))) {
    console.error(`${service.main} is missing: run npm run build first`);
    process.exit(1);
  }
}

// The services' settings come from their config schemas (the built @dsm/core/config, @dsm/storage/config).
const configs = {
  core: await import(pathToFileURL(join(root, 'workloads/core/dist/config.js')).href),
  storage: await import(pathToFileURL(join(root, 'workloads/storage/dist/config.js')).href),
};
const toEnv = { core: configs.core.coreEnv, storage: configs.storage.storageEnv };
const envNames = { core: configs.core.CORE_ENV, storage: configs.storage.STORAGE_ENV };
for (const service of services) service.env = toEnv[service.kind](service.settings);
// Any other setting given in our environment (`DSM_AUTO_RECEIVE=false npm run dev`) is passed to the services
// that have it. A variable this script sets for one service (DSM_CONNECT_PEERS: the core's storage nodes) is
// never passed to another that spells a different setting the same way.
const managed = new Set(services.flatMap((service) => Object.keys(service.env)));
for (const service of services) {
  for (const name of Object.values(envNames[service.kind])) {
    if (!managed.has(name) && process.env[name] !== undefined) service.env[name] = process.env[name];
  }
}

const children = [];
let stopping = false;

function start(service) {
  if (stopping) return;
  const log = createWriteStream(join(dir, 'logs', `${service.name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [join(root, service.main)], {
    env: { PATH: process.env.PATH, ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: Ctrl-C signals the terminal's foreground group, and a service that
    // got that SIGINT and ours as well would take them for two Ctrl-Cs and skip its clean shutdown.
    detached: true,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
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
  const failed = children.filter((_, i) => exits[i] !== 0).map(({ name }) => name);
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

try {
  for (const service of services.slice(0, 2)) start(service);
  await Promise.all(services.slice(0, 2).map((s) => ready(s)));
  start(services[2]);
  await ready(services[2]);
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
  admin token file    ${rel}/admin-token   (DSM_ADMIN_TOKEN_FILE: config, topology)
  API token file      ${rel}/api-token     (DSM_API_TOKEN_FILE: acting for hosted identities)

Try, in another terminal:

  export DSM_ADMIN_TOKEN_FILE=${rel}/admin-token DSM_API_TOKEN_FILE=${rel}/api-token
  npx dsm status
  npx dsm identity create --label alice
  npx dsm config set --policy-cache-size=2000 --policy-ttl=7200
  npx dsm topology list

Ctrl-C stops everything.`);
