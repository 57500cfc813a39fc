/**
 * Wires a core node: its own RocksDB (keystore, hosted identities, pending states), the storage client,
 * the World, the chains, the client API on 7545 and the P2P/admin/metrics server on 8765.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as b from '@dsm/api';
import {
  VERSION,
  adminRoutes as A,
  commonRoutes,
  coreP2pRoutes,
  serviceDocuments,
  snapshotRoutes as SN,
} from '@dsm/api';
import { DsmError, backendByName, parseId, type CID } from '@dsm/protocol';
import {
  Store,
  adminAuth,
  createHttpApp,
  createLogger,
  adminConfigRoutes,
  adminGuard,
  backupMetrics,
  prepareStore,
  snapshotRoute,
  createMetricsRegistry,
  jsonBody,
  parseHostPort,
  readSecretFile,
  saveConfigChanges,
  serve,
  type Logger,
  type ServerHandle,
} from '@dsm/runtime';
import type { RequestHandler } from 'express';
import { coreRoutes, parse } from './api.js';
import { Chains } from './chains.js';
import { coreConfigSchema, coreConfigSources, type CoreConfig } from './config.js';
import { CorePeers } from './core-peers.js';
import { Forwarder, httpRelay } from './forwarding.js';
import { Keystore } from './keystore.js';
import { coreMetrics, type MetricSources } from './metrics.js';
import { loadNodeId } from './node-id.js';
import { forwardingHandlers, peerRoutes } from './replica-routes.js';
import { StorageClient } from './storage-client.js';
import { StorageWorld } from './world.js';

export { VERSION };

export interface CoreNode {
  config: CoreConfig;
  apiUrl: string;
  p2pUrl: string;
  chains: Chains;
  storage: StorageClient;
  logger: Logger;
  close(): Promise<void>;
}

/** How often every inbox is read while storage nodes name recipients (see the poll loop). */
const SAFETY_LOOK_MS = 30_000;

export async function startCoreNode(
  initial: CoreConfig,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {},
): Promise<CoreNode> {
  let config = initial;
  const logger = options.logger ?? createLogger({ service: 'dsm-core', level: config.logLevel });
  for (const dir of [config.dataDir, config.configDir, config.policiesDir])
    await mkdir(dir, { recursive: true });
  const keystore = new Keystore(readSecretFile(config.keystoreKeyFile, 'keystoreKeyFile'));
  const db = await Store.open(join(config.dataDir, 'rocksdb'));
  await prepareStore(db, { service: 'dsm-core', restoreFrom: config.restoreFrom, logger });
  const storage = new StorageClient(config.storageNodes, config.storageTimeoutMs, (node, what) =>
    logger.warn({ node, misbehaviour: what }, 'storage node answer not believed'),
  );
  const registry = createMetricsRegistry();
  const world = new StorageWorld(
    storage,
    { maxSize: config.policyCacheSize, ttlSeconds: config.policyTtl },
    config.policiesDir,
  );
  const metricSources: MetricSources = {};
  const metrics = coreMetrics(registry, world.policies, metricSources);
  const backend = backendByName(config.cryptoBackend);
  storage.proveState = (identity, bytes, claim) => world.proveState(backend, identity, bytes, claim);
  const chains = new Chains(db, storage, world, keystore, backend, metrics, {
    maxClockSkewMs: config.maxClockSkewMs,
  });
  metricSources.receiveBacklog = () => chains.receiveBacklog();
  // Several core nodes: each hosts the identities it created; a request for another's goes to it.
  const self = { nodeId: await loadNodeId(config.dataDir), apiPort: config.apiPort };
  const peers = new CorePeers(config.corePeers, self);
  // Long enough for the owner's own storage writes (each up to the storage timeout, hedged).
  const forwarder = new Forwarder(peers, httpRelay(4 * config.storageTimeoutMs), (outcome) =>
    metrics.forwarded(outcome),
  );

  const status = async () => ({
    service: 'dsm-core',
    version: VERSION,
    nodeId: self.nodeId,
    hostedIdentities: (await chains.hosted()).length,
    policyCache: world.policies.stats(),
    autoReceive: config.autoReceive,
    storage: await storage.statuses(),
  });

  // ---- client API (7545)
  const api = createHttpApp({ service: 'dsm-core', logger, registry });
  // Ready when enough storage nodes answer to take a write, whatever the others do.
  api.readiness.add('storage', () => storage.ready());
  const documents = serviceDocuments(VERSION);
  api.router.get(commonRoutes.status.path, async (_req, res) => {
    res.json(await status());
  });
  api.router.get(commonRoutes.openapi.path, (_req, res) => {
    res.json(documents['core.json']);
  });
  const custodial: RequestHandler = config.apiTokenFile
    ? adminAuth({ tokenFile: config.apiTokenFile, name: 'api' })
    : (_req, _res, next) =>
        next(
          new DsmError(
            'E_UNAUTHORIZED',
            'custodial operations are disabled: no API token file is configured (DSM_API_TOKEN_FILE)',
          ),
        );
  coreRoutes(api.router, chains, storage, custodial, {
    forwarding: forwardingHandlers(forwarder, chains),
    hostedIdentities: async () => peers.hostedEverywhere(await chains.hosted()),
  });

  // ---- P2P, admin, metrics (8765)
  const p2p = createHttpApp({ service: 'dsm-core-p2p', logger, registry, readiness: api.readiness });
  p2p.router.get(commonRoutes.status.path, async (_req, res) => {
    res.json(await status());
  });
  p2p.router.get(commonRoutes.openapi.path, (_req, res) => {
    res.json(documents['core-p2p.json']);
  });
  p2p.router.post(coreP2pRoutes.inboxNotification.path, async (req, res) => {
    // A storage node tells us transfers arrived: receive now instead of at the next poll, for the
    // recipients it names (or, naming none, for every hosted identity). The names only say whose inbox to
    // read: what is received comes from the storage nodes' inboxes.
    const { recipients } = parse(b.InboxNotification, jsonBody(req));
    if (config.autoReceive) {
      if (recipients === undefined) void receiveNow();
      else receiveSoon(recipients.map((r) => parseId(r, 'recipients')));
    }
    res.status(202).json({ accepted: config.autoReceive });
  });
  peerRoutes(p2p.router, self, chains);
  const sources = coreConfigSources(options.env ?? process.env, config.configDir);
  // Every admin route needs the admin token (`auth` in the route table).
  const admin = adminGuard(config.adminTokenFile);
  for (const route of [...Object.values(A), SN.snapshot]) p2p.router[route.method](route.path, admin);
  snapshotRoute(p2p.router, SN.snapshot.path, {
    store: db,
    service: 'dsm-core',
    nodeId: () => self.nodeId,
    metrics: backupMetrics(registry),
    logger,
  });
  adminConfigRoutes(p2p.router, {
    path: A.config.path,
    schema: coreConfigSchema,
    sources,
    current: () => config,
    apply: (next: CoreConfig) => {
      config = next;
      world.policies.resize(config.policyCacheSize);
      world.policies.setTtl(config.policyTtl);
    },
    logger,
  });
  // The admin API's peers are this node's storage nodes.
  const peerList = async () =>
    (await storage.statuses()).map((s) => ({
      address: s.node,
      up: s.up,
      ...(typeof (s.status as { nodeId?: unknown } | undefined)?.nodeId === 'string'
        ? { nodeId: (s.status as { nodeId: string }).nodeId }
        : {}),
      ...(s.error !== undefined ? { lastError: s.error } : {}),
    }));
  p2p.router.get(A.peers.path, async (_req, res) => {
    res.json({ peers: await peerList() });
  });
  p2p.router.post(A.addPeer.path, async (req, res) => {
    const peer = parseHostPort(parse(b.AddPeer, jsonBody(req)).peer);
    const changed = storage.add(peer);
    await saveConfigChanges(coreConfigSchema, sources, { storageNodes: storage.list() });
    res.status(changed ? 201 : 200).json({ peer, changed, peers: storage.list() });
  });
  p2p.router.delete(A.removePeer.path, async (req, res) => {
    const peer = parseHostPort(String(req.params.peer));
    if (storage.list().length === 1 && storage.list()[0] === peer) {
      throw new DsmError('E_CONFLICT', 'cannot remove the last storage node', { peer });
    }
    const changed = storage.remove(peer);
    await saveConfigChanges(coreConfigSchema, sources, { storageNodes: storage.list() });
    res.json({ peer, changed, peers: storage.list() });
  });

  // Learn the storage nodes' replication factor now: read quorums depend on it.
  void storage.statuses();
  const apiServer: ServerHandle = await serve(api.app, { port: config.apiPort, host: config.host });
  const p2pServer: ServerHandle = await serve(p2p.app, { port: config.p2pPort, host: config.host });

  // ---- background work: auto-receive, finishing what a crash or an outage left pending, expiring keys
  let receiving: Promise<void> | undefined;
  const receiveNow = () => {
    receiving ??= chains
      .receiveAll()
      .then((n) => {
        if (n > 0) logger.info({ received: n }, 'received incoming transfers');
      })
      .catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'auto-receive failed'))
      .finally(() => {
        receiving = undefined;
      });
    return receiving;
  };
  // Recipients named by notifications, received from in rounds: those named during a round wait for the next.
  const named = new Map<string, CID>();
  let receivingNamed: Promise<void> | undefined;
  let namedAt = 0;
  const receiveSoon = (identities: CID[]) => {
    namedAt = Date.now();
    for (const identity of identities) named.set(identity.toString(), identity);
    receivingNamed ??= (async () => {
      while (named.size > 0) {
        const round = [...named.values()];
        named.clear();
        const { unfinished } = await chains.receiveFor(round);
        // A storage outage stopped the round: those identities are tried again after a poll interval.
        if (unfinished.length > 0) setTimeout(() => receiveSoon(unfinished), config.receivePollMs).unref();
      }
    })()
      .catch((e: unknown) => {
        // Not even an inbox could be read: the next poll looks at every one.
        namedAt = 0;
        logger.warn({ err: (e as Error).message }, 'auto-receive failed');
      })
      .finally(() => {
        receivingNamed = undefined;
      });
  };
  let maintaining: Promise<void> | undefined;
  let prunedAt = 0;
  const maintain = () => {
    maintaining ??= (async () => {
      const finished = await chains.finishAllPending();
      if (finished > 0) logger.info({ finished }, 'finished pending states');
      if (Date.now() - prunedAt > 60 * 60 * 1000) {
        prunedAt = Date.now();
        const expired = await chains.requests.prune();
        if (expired > 0) logger.info({ expired }, 'expired idempotency keys');
      }
    })()
      .catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'finishing pending states failed'))
      .finally(() => {
        maintaining = undefined;
      });
  };
  let timer: NodeJS.Timeout | undefined;
  // Reading every hosted identity's inbox costs one storage request each. While storage nodes name the
  // recipients of new transfers, their nudges do that work and the full look is only the safety net for a
  // nudge that was lost (a restart, a timeout): every SAFETY_LOOK_MS instead of every poll.
  let lookedAt = 0;
  const loop = () => {
    maintain();
    const interval = Date.now() - namedAt < SAFETY_LOOK_MS ? SAFETY_LOOK_MS : 0;
    if (config.autoReceive && Date.now() - lookedAt >= interval) {
      lookedAt = Date.now();
      void receiveNow();
    }
    timer = setTimeout(loop, config.receivePollMs);
    timer.unref();
  };
  loop();

  logger.info(
    {
      api: apiServer.url,
      p2p: p2pServer.url,
      storage: storage.list(),
      nodeId: self.nodeId,
      corePeers: peers.peers,
    },
    'core node listening',
  );
  return {
    get config() {
      return config;
    },
    apiUrl: apiServer.url,
    p2pUrl: p2pServer.url,
    chains,
    storage,
    logger,
    async close() {
      api.readiness.shuttingDown();
      if (timer) clearTimeout(timer);
      await Promise.all([apiServer.close(), p2pServer.close()]);
      await Promise.all([receiving, maintaining]);
      await db.close();
    },
  };
}
