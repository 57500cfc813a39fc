/**
 * `npm run bench` for @dsm/storage: client writes through real node processes on loopback.
 *  - unreplicated single node (R = 1) versus two nodes with R = 2, same workload, same run: throughput and
 *    ack latency p50/p99 for 1, 4, 16 and 64 concurrent writers (one chain each, in order);
 *  - catch-up: a fresh node pulls 100k objects from a peer; objects/s next to the bare signature-verify rate
 *    of the same suite measured in this run (verification bounds catch-up: every object is checked);
 *  - backup and restore of a node holding those objects (objects/s, MB/s), and the ack p99 of steady writes
 *    without and while a backup streams.
 * JSON on stdout and in bench-results/storage.json.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CAR_MEDIA_TYPE, storageRoutes } from '@dsm/api';
import { encode, nodeBackend, STATE_CONTEXT, verifySignature } from '@dsm/protocol';
import { Store, createLogger } from '@dsm/runtime';
import { Directory } from '@dsm/storage';
import { Cluster, eventually, postBytes, Wallet, writeBenchReport, type StorageProcess } from '@dsm/testkit';

const quick = process.argv.includes('--quick');
const WRITERS = quick ? [1, 4, 16] : [1, 4, 16, 64];
const TRANSFERS = quick ? 20 : 100;
const CATCH_UP_OBJECTS = quick ? 10_000 : 100_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

/** Per wallet, the encoded objects it writes in order: genesis, state 0, policy, token, create, transfers. */
function workload(wallets: number, transfers: number): Uint8Array[][] {
  const sink = new Wallet();
  return Array.from({ length: wallets }, () => {
    const w = new Wallet();
    const opening = w.opening();
    const { objects, tokenId } = w.token([], 1_000_000_000n);
    const list = [...opening, ...objects];
    for (let i = 0; i < transfers; i++)
      list.push(w.next({ kind: 'token.transfer', token: tokenId, amount: '1', to: sink.identity }));
    return list.map((o) => encode(o));
  });
}

/** Writes every wallet's objects, wallets concurrently, each wallet in order; latency per acknowledged write. */
async function writeAll(target: StorageProcess, chains: Uint8Array[][]) {
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    chains.map(async (chain) => {
      for (const bytes of chain) {
        const t = performance.now();
        const ack = await postBytes(target.url, bytes);
        if (ack.status !== 201) throw new Error(`write refused: ${JSON.stringify(ack.body)}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    writes: latencies.length,
    writesPerSecond: round(latencies.length / seconds, 1),
    ackMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1]!),
    },
  };
}

/** For each number of writers, fresh chains written concurrently (one writer per chain, each in order). */
async function writeScenario(nodes: number, replicationFactor: number, chains: Uint8Array[][]) {
  const cluster = new Cluster();
  try {
    await cluster.create(nodes, {
      DSM_STORAGE_REPLICATION_FACTOR: String(replicationFactor),
      DSM_LOG_LEVEL: 'error',
    });
    await cluster.startAll();
    const points = [];
    let next = 0;
    for (const writers of WRITERS) {
      points.push({ writers, ...(await writeAll(cluster.nodes[0]!, chains.slice(next, next + writers))) });
      next += writers;
    }
    return { nodes, replicationFactor, points };
  } finally {
    await cluster.destroy();
  }
}

const best = (points: { writesPerSecond: number }[]) => Math.max(...points.map((p) => p.writesPerSecond));

/** `count` objects of long chains (1,000 objects per wallet), in write order. */
function loadObjects(count: number): Uint8Array[] {
  const perWallet = 1000;
  return workload(Math.ceil(count / perWallet), perWallet - 5)
    .flat()
    .slice(0, count);
}

/** Ingests objects into a (stopped) node's directory in-process: pages of 1,000, one fsync each. */
async function preload(node: StorageProcess, objects: Uint8Array[]): Promise<void> {
  const store = await Store.open(join(node.dir, 'data', 'rocksdb'));
  const directory = await Directory.open(store, { backend: nodeBackend, maxObjectBytes: 262_144 });
  for (let i = 0; i < objects.length; i += 1000) await directory.ingestMany(objects.slice(i, i + 1000));
  await store.close();
}

/** Loads the objects into a node's directory in-process, then lets a fresh node pull them. */
async function catchUp(objects: Uint8Array[]) {
  const cluster = new Cluster();
  try {
    const [source, fresh] = await cluster.create(2, {
      DSM_STORAGE_REPLICATION_FACTOR: '1',
      DSM_LOG_LEVEL: 'error',
    });
    fresh!.peers = [source!.address];
    source!.peers = [];
    await preload(source!, objects);
    await source!.start();
    const started = performance.now();
    await fresh!.start();
    await eventually(async () => (await fresh!.status()).objects >= objects.length, 600_000, 'catch-up');
    const seconds = (performance.now() - started) / 1000;
    return {
      objects: objects.length,
      seconds: round(seconds),
      objectsPerSecond: round(objects.length / seconds, 1),
    };
  } finally {
    await cluster.destroy();
  }
}

/** Steady writes (a writer per chain, each in order) until `done()`; ack p50/p99 in ms. */
async function steadyWrites(target: StorageProcess, chains: Uint8Array[][], done: () => boolean) {
  const latencies: number[] = [];
  await Promise.all(
    chains.map(async (chain) => {
      for (const bytes of chain) {
        if (done()) return;
        const t = performance.now();
        const ack = await postBytes(target.url, bytes);
        if (ack.status !== 201) throw new Error(`write refused: ${JSON.stringify(ack.body)}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    writes: latencies.length,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
  };
}

/** Streams a node's backup, counting bytes: seconds, bytes and the archive (kept for the restore). */
async function takeBackup(node: StorageProcess) {
  const started = performance.now();
  const res = await node.admin(storageRoutes.backup.path);
  if (res.status !== 200) throw new Error(`backup answered ${res.status}`);
  const archive = new Uint8Array(await res.arrayBuffer());
  return { seconds: (performance.now() - started) / 1000, archive };
}

/**
 * Backup and restore of a node holding the objects: throughput both ways, and the ack latency of steady
 * writes to the node without and then while a backup streams.
 */
async function backupRestore(objects: Uint8Array[]) {
  const cluster = new Cluster();
  try {
    const [source, target] = await cluster.create(2, {
      DSM_STORAGE_REPLICATION_FACTOR: '1',
      DSM_LOG_LEVEL: 'error',
    });
    source!.peers = [];
    target!.peers = [];
    await preload(source!, objects);
    await Promise.all([source!.start(), target!.start()]);
    const backup = await takeBackup(source!);
    const mb = backup.archive.length / 1e6;
    const restoreStarted = performance.now();
    const res = await target!.admin(storageRoutes.restore.path, {
      method: 'POST',
      headers: { 'content-type': CAR_MEDIA_TYPE },
      body: backup.archive,
    });
    if (res.status !== 200) throw new Error(`restore answered ${res.status}: ${await res.text()}`);
    const restoreSeconds = (performance.now() - restoreStarted) / 1000;
    if ((await target!.status()).digest !== (await source!.status()).digest)
      throw new Error('restore differs');
    // The same steady load twice on the source: alone, then while a backup streams through.
    // Each window lasts as long as a backup takes; the chains are long enough not to run out first.
    const load = workload(8, quick ? 1000 : 4000);
    const windowMs = backup.seconds * 1000;
    const until = performance.now() + windowMs;
    const without = await steadyWrites(source!, load.slice(0, 4), () => performance.now() > until);
    let streaming = true;
    const during = takeBackup(source!).finally(() => (streaming = false));
    const withBackup = await steadyWrites(source!, load.slice(4), () => !streaming);
    const concurrent = await during;
    return {
      objects: objects.length,
      archiveMB: round(mb, 1),
      backup: {
        seconds: round(backup.seconds),
        objectsPerSecond: round(objects.length / backup.seconds, 1),
        MBPerSecond: round(mb / backup.seconds, 1),
      },
      restore: {
        seconds: round(restoreSeconds),
        objectsPerSecond: round(objects.length / restoreSeconds, 1),
        MBPerSecond: round(mb / restoreSeconds, 1),
      },
      writeAckMs: {
        withoutBackup: without,
        duringBackup: { ...withBackup, backupSeconds: round(concurrent.seconds) },
        p99Ratio: round(withBackup.p99 / without.p99),
      },
    };
  } finally {
    await cluster.destroy();
  }
}

/** Bare ML-DSA-44 verification, sequential and on the thread pool, in this run. */
async function verifyRates() {
  const keys = nodeBackend.keygen('ml-dsa-44');
  const message = new Uint8Array(36).fill(1);
  const sig = nodeBackend.sign('ml-dsa-44', keys.secretKey, message, STATE_CONTEXT);
  const n = 4000;
  let t = performance.now();
  for (let i = 0; i < n; i++) nodeBackend.verify('ml-dsa-44', keys.publicKey, message, sig, STATE_CONTEXT);
  const sequential = n / ((performance.now() - t) / 1000);
  t = performance.now();
  await Promise.all(
    Array.from({ length: n }, () =>
      verifySignature(nodeBackend, 'ml-dsa-44', keys.publicKey, message, sig, STATE_CONTEXT),
    ),
  );
  const pooled = n / ((performance.now() - t) / 1000);
  return { sequentialPerSecond: round(sequential, 1), threadPoolPerSecond: round(pooled, 1) };
}

createLogger({ service: 'bench', level: 'error' });
const chains = workload(
  WRITERS.reduce((a, b) => a + b, 0),
  TRANSFERS,
);
const single = await writeScenario(1, 1, chains);
const replicated = await writeScenario(2, 2, chains);
const verify = await verifyRates();
const loaded = loadObjects(CATCH_UP_OBJECTS);
const catchup = await catchUp(loaded);
const backups = await backupRestore(loaded);
const report = {
  package: '@dsm/storage',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  workload: {
    writers: WRITERS,
    writesPerWriter: chains[0]!.length,
    suite: 'ml-dsa-44',
  },
  writes: {
    single,
    replicated,
    replicatedOverSingle: round(best(replicated.points) / best(single.points)),
  },
  catchUp: {
    ...catchup,
    mlDsa44Verify: verify,
    overThreadPoolVerify: round(catchup.objectsPerSecond / verify.threadPoolPerSecond),
  },
  backup: backups,
  goals: {
    'replicated (R = 2) writes/s ÷ unreplicated, best of each (goal ≥ 0.8)': round(
      best(replicated.points) / best(single.points),
    ),
    'one writer, replicated: ack p99 ms (goal ≤ 10)': replicated.points[0]!.ackMs.p99,
    'catch-up ÷ parallel verify rate (goal ≥ 0.7)': round(
      catchup.objectsPerSecond / verify.threadPoolPerSecond,
    ),
  },
};
writeBenchReport('storage', report);
