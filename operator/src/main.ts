#!/usr/bin/env node
/**
 * `dsm-operator`: loads its settings and its key (the one Secret it reads, created when missing), serves
 * /metrics, /healthz and /readyz at once (a standby is ready too), campaigns for the leader Lease, and only as leader starts the informers and the controller. Losing
 * the Lease exits at once (the Deployment restarts the pod: no reconcile may run beside another leader's);
 * SIGTERM stops the workers, releases the Lease so the standby takes over without waiting, and exits 0.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '@dsm/runtime/config';
import { createHttpApp, serve, type ServerHandle } from '@dsm/runtime/http';
import { createLogger } from '@dsm/runtime/log';
import { createMetricsRegistry } from '@dsm/runtime/metrics';
import { Readiness } from '@dsm/runtime/readiness';
import { GracefulShutdown } from '@dsm/runtime/shutdown';
import { loadOperatorConfig, podName, type OperatorConfig } from './config.js';
import { Controller } from './controller/controller.js';
import { Informers } from './controller/informers.js';
import { PooledKubeConfig } from './controller/kube-config.js';
import { LeaderElector, holderIdentity } from './controller/leader.js';
import type { ControllerContext } from './controller/types.js';
import { KubeEventRecorder } from './events.js';
import { loadOperatorKey } from './key.js';
import { LOG } from './log-fields.js';
import { createOperatorMetrics } from './metrics.js';
import { createReconciler } from './reconcile/index.js';

export const SERVICE = 'dsm-operator';

function loadConfig(): OperatorConfig {
  try {
    return loadOperatorConfig();
  } catch (err) {
    console.error(`${SERVICE}: ${(err as Error).message}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
}

/** In a pod: the service account; elsewhere: KUBECONFIG or ~/.kube/config. */
function kubeConfig(): KubeConfig {
  const config = new PooledKubeConfig();
  config.loadFromDefault();
  if (!config.getCurrentCluster()) throw new Error('no Kubernetes cluster: not in a pod and no KUBECONFIG');
  return config;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ service: SERVICE, level: config.logLevel });
  const kc = kubeConfig();
  const registry = createMetricsRegistry();
  const metrics = createOperatorMetrics(registry);
  const pod = podName();
  const identity = holderIdentity(pod);
  // Without its key the operator cannot derive any cluster's peer token: exit, the Deployment retries.
  const { key: operatorKey, created } = await loadOperatorKey({
    kubeConfig: kc,
    namespace: config.leaseNamespace,
    name: config.keySecret,
    random: randomBytes,
  });
  log.info(
    { [LOG.name]: `${config.leaseNamespace}/${config.keySecret}`, created },
    created ? 'operator key created' : 'operator key read',
  );

  const informers = new Informers({
    kubeConfig: kc,
    namespaces: config.watchNamespaces,
    log,
    metrics,
    capabilityCheckMs: config.capabilityCheckMs,
  });
  const context: ControllerContext = {
    kubeConfig: kc,
    cache: informers,
    capabilities: () => informers.capabilities(),
    metrics,
    log,
    events: new KubeEventRecorder({
      kubeConfig: kc,
      reportingInstance: pod,
      log,
      metrics,
    }),
  };
  const controller = new Controller({
    reconciler: createReconciler(context, { operatorKey }),
    cache: informers,
    onEvent: (listener) => informers.onEvent(listener),
    metrics,
    log,
    workers: config.workers,
    resyncMs: config.resyncMs,
  });

  const shutdown = new GracefulShutdown({ logger: log });
  const elector = new LeaderElector({
    kubeConfig: kc,
    namespace: config.leaseNamespace,
    name: config.leaseName,
    identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    log,
    metrics,
    onStartedLeading: () => {
      // Reconcile only from a filled cache: every informer listed once.
      void informers
        .start()
        .then(() => informers.waitForSync())
        .then(() => controller.start());
    },
    onStoppedLeading: (reason) => {
      // Another replica may lead now: not one more reconcile here.
      log.fatal({ [LOG.reason]: reason }, 'leadership lost: exiting');
      process.exit(1);
    },
  });

  const readiness = new Readiness();
  readiness.add('informers', () => {
    if (elector.isLeader && !informers.hasSynced()) throw new Error('informers have not listed yet');
    return true;
  });
  const { app } = createHttpApp({ service: SERVICE, logger: log, registry, readiness });
  const servers: ServerHandle[] = [await serve(app, { port: config.metricsPort, host: config.host })];
  if (config.healthPort !== config.metricsPort)
    servers.push(await serve(app, { port: config.healthPort, host: config.host }));

  // Closers run last-registered first: workers, informers, Lease, then the servers.
  shutdown.register('http', async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  shutdown.register('lease', () => elector.release());
  shutdown.register('informers', () => informers.stop());
  shutdown.register('controller', async () => {
    readiness.shuttingDown();
    await controller.stop();
  });
  shutdown.listen();

  log.info(
    {
      [LOG.identity]: identity,
      [LOG.lease]: `${config.leaseNamespace}/${config.leaseName}`,
      watchNamespaces: config.watchNamespaces.length > 0 ? config.watchNamespaces : 'all',
      ports: servers.map((s) => s.port),
    },
    'operator started; campaigning for the lease',
  );
  elector.start();
}

main().catch((err: unknown) => {
  console.error(`${SERVICE}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
