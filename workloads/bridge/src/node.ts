/**
 * Wires a bridge: its RocksDB journal, its DSM identity and chain (through the core), the EVM side, the
 * deposit and withdrawal flows, the loop, and the HTTP API on 8768 (status, lookups, tokens, metrics,
 * probes, admin).
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as b from '@dsm/api';
import {
  BridgeApi,
  CoreApi,
  VERSION,
  adminRoutes as A,
  snapshotRoutes as SN,
  bridgeRoutes as R,
  commonRoutes,
  serviceDocuments,
} from '@dsm/api';
import { DsmError, parseId } from '@dsm/protocol';
import {
  ConfigError,
  Store,
  adminConfigRoutes,
  adminGuard,
  backupMetrics,
  prepareStore,
  snapshotRoute,
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  jsonBody,
  readSecretFile,
  serve,
  type Logger,
  type ServerHandle,
} from '@dsm/runtime';
import { HttpClient } from '@dsm/runtime/client';
import { parseParams } from '@dsm/runtime/params';
import type { Request } from 'express';
import { Bridge } from './bridge.js';
import { bridgeConfigSchema, bridgeConfigSources, type BridgeConfig } from './config.js';
import { Deposits } from './deposits.js';
import { BridgeChain } from './dsm-chain.js';
import { dsmIdDigest } from './dsm-id.js';
import { EvmSide } from './evm/evm-side.js';
import { bridgeIdentity, parseBridgeSeed } from './identity.js';
import { Journal, type DepositRecord, type WithdrawalRecord } from './journal.js';
import { bridgeMetrics } from './metrics.js';
import { Progress } from './progress.js';
import { Replication } from './replication.js';
import { StateRunner } from './state-runner.js';
import { Withdrawals } from './withdrawals.js';

export { VERSION, BridgeApi };

export interface BridgeNode {
  config: BridgeConfig;
  url: string;
  /** Undefined until its DSM chain is open (the core and the EVM node answered). */
  bridge: Bridge | undefined;
  logger: Logger;
  close(): Promise<void>;
}

/** The API's view of a record: what resuming needs stays inside. */
function depositView(record: DepositRecord): b.Deposit {
  const { seq: _seq, mintRaw: _raw, mintNonce: _nonce, closed: _closed, ...view } = record;
  return view;
}
function withdrawalView(record: WithdrawalRecord): b.Withdrawal {
  const { seq: _seq, ...view } = record;
  return view;
}

/** What runService does with a start-up failure, for one found once the API already serves. */
function exitOn(error: Error): never {
  console.error(`dsm-bridge: ${error.message}`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}

const notFound = (what: string, ref: string) =>
  new DsmError('E_NOT_FOUND', `no ${what} matches ${ref}`, { ref: ref.slice(0, 100) });

export async function startBridgeNode(
  initial: BridgeConfig,
  options: {
    env?: NodeJS.ProcessEnv;
    logger?: Logger;
    /** A configuration fault found after the start (a chain id that is not the node's); default: exit. */
    onFatal?: (error: Error) => void;
  } = {},
): Promise<BridgeNode> {
  let config = initial;
  const logger = options.logger ?? createLogger({ service: 'dsm-bridge', level: config.logLevel });
  for (const dir of [config.dataDir, config.configDir]) await mkdir(dir, { recursive: true });
  const rpcUrl =
    config.ethereumRpc ??
    (config.ethereumRpcFile ? readSecretFile(config.ethereumRpcFile, 'ethereumRpcFile') : undefined);
  if (rpcUrl === undefined) {
    throw new DsmError(
      'E_CONFIG',
      'set DSM_BRIDGE_ETHEREUM_RPC (or DSM_BRIDGE_ETHEREUM_RPC_FILE) to the EVM node',
      {
        key: 'ethereumRpc',
      },
    );
  }
  const owner = bridgeIdentity(parseBridgeSeed(readSecretFile(config.dsmKeyFile, 'dsmKeyFile')));
  const evm = new EvmSide({
    url: rpcUrl,
    chainId: config.chainId,
    contract: config.contract,
    senderKey: readSecretFile(config.evmKeyFile, 'evmKeyFile').trim(),
    attesterKeys: config.attesterKeyFiles.map((file) => readSecretFile(file, 'attesterKeyFiles').trim()),
    timeoutMs: config.rpcTimeoutMs,
    fromBlock: config.fromBlock,
  });
  const core = new CoreApi(
    new HttpClient({ baseUrl: `http://${config.dsmNode}`, timeoutMs: config.rpcTimeoutMs, retries: 1 }),
  );
  const db = await Store.open(join(config.dataDir, 'rocksdb'));
  await prepareStore(db, { service: 'dsm-bridge', restoreFrom: config.restoreFrom, logger });
  const journal = await Journal.open(db);
  const registry = createMetricsRegistry();

  // The gauges read the bridge, which needs the metrics: it is filled in below.
  const live: { bridge?: Bridge } = {};
  const metrics = bridgeMetrics(registry, {
    pending: () => live.bridge?.gauges().pending() ?? { deposits: 0, withdrawals: 0 },
    lag: () => live.bridge?.gauges().lag() ?? null,
    lastProcessedBlock: () => live.bridge?.gauges().lastProcessedBlock() ?? null,
    gaps: () => live.bridge?.gauges().gaps() ?? [],
    halted: () => live.bridge?.gauges().halted() ?? false,
    up: () => live.bridge?.gauges().up() ?? { evm: false, dsm: false },
  });

  // The bridge is assembled once its DSM chain is open, which needs the core (and a check of the EVM node).
  // The first attempt is made now, so a wrong chain id or contract stops the start; if a side does not
  // answer, the API serves (not ready) and the opening is retried in the background.
  const progress = new Progress();
  const open = async (): Promise<Bridge> => {
    await evm.checkChain();
    const chain = await BridgeChain.open(owner, core, journal);
    const states = new StateRunner(chain, journal, metrics, progress);
    const replication = new Replication(config.storageNodes, config.replicationFactor, config.rpcTimeoutMs);
    const deposits = new Deposits(journal, core, evm, states, replication, metrics, progress, {
      chainId: config.chainId,
      confirmations: config.confirmations,
      autoDeploy: () => config.autoDeploy,
    });
    const withdrawals = new Withdrawals(journal, evm, states, metrics, {
      chainId: config.chainId,
      confirmations: config.confirmations,
      fromBlock: config.fromBlock,
      logBlockRange: config.logBlockRange,
    });
    const bridge = new Bridge({
      journal,
      core,
      evm,
      states,
      deposits,
      withdrawals,
      metrics,
      progress,
      logger,
      confirmations: config.confirmations,
    });
    await bridge.start();
    return bridge;
  };
  // A bad setting, or a data volume that does not match the network (an old snapshot): waiting cannot help.
  const isConfigProblem = (e: unknown) =>
    e instanceof DsmError && (e.code === 'E_CONFIG' || e.code === 'E_CONFLICT');
  let openError: string | undefined;
  try {
    live.bridge = await open();
  } catch (e) {
    if (isConfigProblem(e)) {
      await db.close();
      throw e;
    }
    openError = (e as Error).message;
    logger.warn({ err: openError }, 'waiting for the core and the EVM node');
  }
  /** The bridge, or a 503 saying what it waits for. */
  const need = (): Bridge => {
    if (live.bridge) return live.bridge;
    throw new DsmError('E_UNAVAILABLE', `the bridge is starting: ${openError ?? 'opening its DSM chain'}`);
  };

  // ---- HTTP (8768)
  const http = createHttpApp({ service: 'dsm-bridge', logger, registry });
  http.readiness.add(
    'evm',
    () => need().ready.evm || Promise.reject(new Error('the EVM node is not answering')),
  );
  http.readiness.add(
    'dsm',
    () => need().ready.dsm || Promise.reject(new Error('the core node is not answering')),
  );
  const documents = serviceDocuments(VERSION);
  http.router.get(commonRoutes.status.path, (_req, res) => {
    res.json(need().status());
  });
  http.router.get(commonRoutes.openapi.path, (_req, res) => {
    res.json(documents['bridge.json']);
  });
  const limitOf = (req: Request) => parseParams(b.params.bridgeList, req.query).limit;
  http.router.get(R.deposits.path, async (req, res) => {
    res.json({ deposits: (await journal.recentDeposits(limitOf(req))).map(depositView) });
  });
  http.router.get(R.deposit.path, async (req, res) => {
    const ref = String(req.params.ref);
    const found = /^0x[0-9a-fA-F]{64}$/.test(ref)
      ? await journal.depositByMintTx(ref.toLowerCase())
      : await journal.deposit(ref);
    if (!found) throw notFound('deposit', ref);
    res.json({ deposits: [depositView(found)] });
  });
  http.router.get(R.withdrawals.path, async (req, res) => {
    res.json({ withdrawals: (await journal.recentWithdrawals(limitOf(req))).map(withdrawalView) });
  });
  http.router.get(R.withdrawal.path, async (req, res) => {
    const ref = String(req.params.ref);
    let found: WithdrawalRecord[];
    if (/^0x[0-9a-fA-F]{64}:[0-9]+$/.test(ref)) {
      const one = await journal.withdrawal(ref.toLowerCase());
      found = one ? [one] : [];
    } else if (/^0x[0-9a-fA-F]{64}$/.test(ref)) {
      found = await journal.withdrawalsOfTx(ref.toLowerCase());
    } else {
      const one = await journal.withdrawalByRelease(ref);
      found = one ? [one] : [];
    }
    if (found.length === 0) throw notFound('withdrawal', ref);
    res.json({ withdrawals: found.map(withdrawalView) });
  });
  http.router.get(R.tokens.path, async (_req, res) => {
    res.json({ tokens: await journal.tokens() });
  });

  const admin = adminGuard(config.adminTokenFile);
  for (const route of [R.deployToken, R.resume, A.config, A.setConfig, SN.snapshot])
    http.router[route.method](route.path, admin);
  snapshotRoute(http.router, SN.snapshot.path, {
    store: db,
    service: 'dsm-bridge',
    nodeId: () => hostname(),
    metrics: backupMetrics(registry),
    logger,
  });
  http.router.post(R.deployToken.path, async (req, res) => {
    const { token } = parseParams(b.DeployToken, jsonBody(req) ?? {});
    const id = parseId(token, 'token');
    const known = await journal.token(id.toString());
    if (known) {
      res.status(200).json({ ...known, deployed: false });
      return;
    }
    const definition = await core.token(id.toString());
    const digest = dsmIdDigest(id.bytes);
    const existing = await evm.wrappedToken(digest);
    const wrapped = existing ?? (await need().deploy(digest, definition));
    const record = {
      token: id.toString(),
      wrapped,
      symbol: definition.symbol,
      name: definition.name,
      decimals: definition.decimals,
    };
    const batch = journal.batch();
    journal.putToken(batch, record);
    await journal.write(batch);
    res.status(existing ? 200 : 201).json({ ...record, deployed: existing === undefined });
  });
  http.router.post(R.resume.path, async (_req, res) => {
    const bridge = need();
    await bridge.resume();
    void bridge.pass();
    res.json(bridge.status());
  });
  adminConfigRoutes(http.router, {
    path: A.config.path,
    schema: bridgeConfigSchema,
    sources: bridgeConfigSources(options.env ?? process.env, config.configDir),
    current: () => config,
    apply: (next: BridgeConfig) => {
      config = next;
    },
    logger,
  });

  const server: ServerHandle = await serve(http.app, { port: config.port, host: config.host });

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = async () => {
    if (!live.bridge) {
      try {
        live.bridge = await open();
        logger.info({ identity: owner.identity.toString() }, 'bridge chain open');
      } catch (e) {
        if (isConfigProblem(e)) {
          (options.onFatal ?? exitOn)(e as Error);
          return;
        }
        openError = (e as Error).message;
      }
    }
    await live.bridge
      ?.pass()
      .catch((e: unknown) => logger.error({ err: (e as Error).message }, 'bridge pass failed'));
    if (!stopped) timer = setTimeout(() => void loop(), config.pollMs);
  };
  void loop();

  logger.info(
    { url: server.url, identity: owner.identity.toString(), chainId: config.chainId, contract: evm.address },
    'bridge listening',
  );
  return {
    get config() {
      return config;
    },
    url: server.url,
    get bridge() {
      return live.bridge;
    },
    logger,
    async close() {
      stopped = true;
      http.readiness.shuttingDown();
      if (timer) clearTimeout(timer);
      await server.close();
      await live.bridge?.idle();
      evm.destroy();
      await db.close();
    },
  };
}
