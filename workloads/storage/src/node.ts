/** Wires a storage node together: store, directory, peers, replicator, HTTP API, admin, shutdown. */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as b from '@dsm/api';
import {
  VERSION,
  adminRoutes as A,
  commonRoutes,
  coreP2pRoutes,
  serviceDocuments,
  storageRoutes as S,
} from '@dsm/api';
import { backendByName, DsmError } from '@dsm/protocol';
import {
  Store,
  adminAuth,
  backupMetrics,
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  adminConfigRoutes,
  adminGuard,
  jsonBody,
  parseParams,
  readSecretFile,
  serve,
  type Logger,
  type ServerHandle,
} from '@dsm/runtime';
import type { RequestHandler, Router } from 'express';
import { storageRoutes } from './api.js';
import { backupRoutes, restoreGate } from './backup-routes.js';
import { discardUnfinishedRestore, Restorer } from './restorer.js';
import {
  advertisedAddress,
  storageConfigSchema,
  storageConfigSources,
  type StorageConfig,
} from './config.js';
import { Directory } from './directory.js';
import { InboxNotifier } from './inbox-notifier.js';
import { storageMetrics } from './metrics.js';
import { PeerSet, parsePeerAddress } from './peers.js';
import { Replicator } from './replicator.js';
import { topologyAuth } from './topology-auth.js';

export { VERSION };

export interface StorageNode {
  config: StorageConfig;
  address: string;
  url: string;
  directory: Directory;
  replicator: Replicator;
  peers: PeerSet;
  logger: Logger;
  close(): Promise<void>;
}

/** Without a peer token the replication routes are open (development); they stay bounded (limits.ts). */
const openToPeers: RequestHandler = (_req, _res, next) => next();

export async function startStorageNode(
  config: StorageConfig,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {},
): Promise<StorageNode> {
  const logger = options.logger ?? createLogger({ service: 'dsm-storage', level: config.logLevel });
  const address = advertisedAddress(config);
  const peerToken = config.peerTokenFile ? readSecretFile(config.peerTokenFile, 'peerTokenFile') : undefined;
  await mkdir(config.dataDir, { recursive: true });
  await mkdir(config.configDir, { recursive: true });
  const store = await Store.open(join(config.dataDir, 'rocksdb'));
  await discardUnfinishedRestore(store, logger);
  const directory = await Directory.open(store, {
    backend: backendByName(config.cryptoBackend),
    maxObjectBytes: config.maxObjectBytes,
  });
  const peers = await PeerSet.open(store, address, [...config.syncWith, ...config.connectPeers], logger);
  const replicator = new Replicator(directory, peers, {
    self: address,
    replicationFactor: config.replicationFactor,
    syncIntervalMs: config.syncIntervalMs,
    batchSize: config.syncBatchSize,
    pushTimeoutMs: config.pushTimeoutMs,
    maxObjectBytes: config.maxObjectBytes,
    ...(peerToken !== undefined ? { peerToken } : {}),
    logger,
  });
  const registry = createMetricsRegistry();
  const metrics = storageMetrics(registry, directory, () => replicator);
  const restorer = new Restorer(directory, replicator, logger);
  if (config.restoreFrom !== undefined) await restoreAtStart(config.restoreFrom, restorer, directory, logger);
  if (config.notify.length > 0) {
    const notifier = new InboxNotifier(config.notify, async (core, nudge) => {
      try {
        const res = await fetch(`http://${core}${coreP2pRoutes.inboxNotification.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(nudge),
          signal: AbortSignal.timeout(2000),
        });
        await res.body?.cancel();
      } catch (e) {
        logger.debug({ core, err: (e as Error).message }, 'inbox notification failed');
      }
    });
    directory.onAppend = (_entry, _bytes, object) => {
      if (object?.type === 'dsm/signed-state@1' && object.state.op.kind === 'token.transfer')
        notifier.transferTo(object.state.op.to.toString());
    };
  }
  directory.onFork = (evidence) => {
    metrics.forks.inc();
    logger.warn(
      { identity: evidence.identity.toString(), n: evidence.n },
      'fork detected: identity marked forked',
    );
  };
  const { app, router, readiness } = createHttpApp({ service: 'dsm-storage', logger, registry });
  readiness.add('rocksdb', () => store.get(Buffer.from('meta\0probe')));
  readiness.add('restore', () => {
    if (restorer.active) throw new Error('a backup is being restored');
  });

  const status = () => {
    const stats = directory.stats();
    return {
      service: 'dsm-storage',
      version: VERSION,
      nodeId: config.nodeId,
      role: config.role,
      address,
      replicationFactor: config.replicationFactor,
      objects: stats.objects,
      bytes: stats.bytes,
      byType: stats.byType,
      forks: stats.forks,
      lastSeq: Number(stats.lastSeq),
      digest: directory.digestSummary().fingerprint,
      peers: replicator.status(),
    };
  };

  const sources = storageConfigSources(options.env ?? process.env, config.configDir);
  let settings = config;
  const adminRoutes = (r: Router) => {
    r.get(A.peers.path, (_req, res) => {
      res.json({ peers: replicator.status() });
    });
    r.post(A.addPeer.path, async (req, res) => {
      const peer = parsePeerAddress(parseParams(b.AddPeer, jsonBody(req) ?? {}).peer);
      const changed = await peers.add(peer);
      if (changed) void replicator.syncPeer(peer).catch(() => undefined);
      res.status(changed ? 201 : 200).json({ peer, changed, peers: peers.list() });
    });
    r.delete(A.removePeer.path, async (req, res) => {
      const peer = parsePeerAddress(String(req.params.peer));
      const changed = await peers.remove(peer);
      replicator.forget(peer);
      res.json({ peer, changed, peers: peers.list() });
    });
    r.post(S.sync.path, async (_req, res) => {
      await replicator.syncAll();
      res.json(status());
    });
    adminConfigRoutes(r, {
      path: A.config.path,
      schema: storageConfigSchema,
      sources,
      current: () => settings,
      apply: (next: StorageConfig) => {
        settings = next;
      },
      logger,
    });
  };

  const openapi = serviceDocuments(VERSION)['storage.json'];
  router.get(commonRoutes.openapi.path, (_req, res) => {
    res.json(openapi);
  });
  restoreGate(router, restorer);
  storageRoutes(router, {
    directory,
    replicator,
    peers,
    metrics,
    maxObjectBytes: config.maxObjectBytes,
    status,
    admin: adminGuard(config.adminTokenFile),
    peer: peerToken !== undefined ? adminAuth({ token: peerToken, name: 'peer' }) : openToPeers,
    topology: topologyAuth({
      ...(config.adminTokenFile ? { admin: readSecretFile(config.adminTokenFile, 'admin token file') } : {}),
      ...(peerToken !== undefined ? { peer: peerToken } : {}),
    }),
    adminRoutes,
  });
  // After storageRoutes, which puts every route's guard (admin token here) in front of its handler.
  backupRoutes(router, {
    directory,
    restorer,
    nodeId: config.nodeId,
    metrics: backupMetrics(registry),
    logger,
  });

  const server: ServerHandle = await serve(app, { port: config.port, host: config.host });
  replicator.start();
  logger.info(
    { address, url: server.url, peers: peers.list(), replicationFactor: config.replicationFactor },
    'storage node listening',
  );

  return {
    config,
    address,
    url: server.url,
    directory,
    replicator,
    peers,
    logger,
    async close() {
      readiness.shuttingDown();
      await server.close();
      await replicator.stop();
      await store.close();
    },
  };
}

/** DSM_STORAGE_RESTORE_FROM: the archive goes in before anything is served, into an empty directory only. */
async function restoreAtStart(file: string, restorer: Restorer, directory: Directory, logger: Logger) {
  if (!directory.isEmpty()) {
    logger.info({ file }, 'restoreFrom ignored: the directory already holds data');
    return;
  }
  if (!existsSync(file))
    throw new DsmError(
      'E_CONFIG',
      `restoreFrom: ${file} does not exist (a backup archive the node can read)`,
      {
        field: 'restoreFrom',
      },
    );
  logger.info({ file }, 'restoring a backup before serving');
  await restorer.restore(createReadStream(file));
}
