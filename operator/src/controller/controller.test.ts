import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { createLogger } from '@dsm/runtime/log';
import { createMetricsRegistry } from '@dsm/runtime/metrics';
import { createOperatorMetrics } from '../metrics.js';
import { Controller, countByPhase } from './controller.js';
import type { InformerListener } from './informers.js';
import type { ClusterKey, ObjectCache, ReconcileTrigger } from './types.js';

const log = createLogger({ service: 'test', level: 'silent' });

function setup(
  reconcile: (key: ClusterKey, trigger?: ReconcileTrigger) => Promise<{ requeueAfterMs?: number }>,
  resyncMs = 0,
) {
  const clusters: KubernetesObject[] = [{ metadata: { namespace: 'prod', name: 'a' } }];
  const cache = { get: () => undefined, list: () => clusters } as unknown as ObjectCache;
  let emit: InformerListener = () => undefined;
  const metrics = createOperatorMetrics(createMetricsRegistry({ defaultMetrics: false }));
  const controller = new Controller({
    reconciler: { reconcile },
    cache,
    onEvent: (listener) => (emit = listener),
    metrics,
    log,
    workers: 3,
    resyncMs,
  });
  return { controller, metrics, emit: (...args: Parameters<InformerListener>) => emit(...args) };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('Controller', () => {
  it('reconciles every cluster at start and the owner of an object that changed, never one key twice at once', async () => {
    const running = new Set<string>();
    const seen: string[] = [];
    const { controller, emit } = setup(async (key) => {
      const k = `${key.namespace}/${key.name}`;
      expect(running.has(k)).toBe(false);
      running.add(k);
      seen.push(k);
      await new Promise((r) => setTimeout(r, 5));
      running.delete(k);
      return {};
    });
    controller.start();
    const pod = { metadata: { namespace: 'prod', name: 'b-core-0', labels: { 'dsm.io/cluster': 'b' } } };
    for (let i = 0; i < 20; i++) emit('Pod', 'update', pod);
    emit('ConfigMap', 'add', { metadata: { namespace: 'prod', name: 'unrelated' } });
    await until(() => seen.includes('prod/a') && seen.includes('prod/b'));
    await controller.stop();
    // 20 events while queued or in flight: far fewer reconciles.
    expect(seen.filter((k) => k === 'prod/b').length).toBeLessThanOrEqual(3);
    expect(seen.every((k) => k === 'prod/a' || k === 'prod/b')).toBe(true);
  });

  it('retries a failing reconcile with backoff and counts it, then forgets the failures on success', async () => {
    let calls = 0;
    const { controller, metrics } = setup(async () => {
      calls++;
      if (calls < 4) throw new Error('apiserver said no');
      return {};
    });
    controller.start();
    await until(() => calls === 4);
    await new Promise((r) => setTimeout(r, 50));
    await controller.stop();
    expect(calls).toBe(4);
    expect((await metrics.reconcileErrors.get()).values[0]?.value).toBe(3);
    const totals = Object.fromEntries(
      (await metrics.reconcileTotal.get()).values.map((v) => [v.labels.result, v.value]),
    );
    expect(totals).toEqual({ error: 3, success: 1 });
    expect(controller.queue.retries('prod/a')).toBe(0);
  });

  it('reconciles again after requeueAfterMs without an event', async () => {
    let calls = 0;
    const { controller } = setup(async () => (++calls < 3 ? { requeueAfterMs: 10 } : {}));
    controller.start();
    await until(() => calls === 3);
    await controller.stop();
  });

  it('tells the reconciler which reconciles the periodic resync asked for, and only those', async () => {
    const triggers: string[] = [];
    const { controller, emit } = setup(async (key, trigger) => {
      triggers.push(`${key.name}:${trigger?.resync === true ? 'resync' : 'event'}`);
      return {};
    }, 30);
    controller.start();
    await until(() => triggers.includes('a:event'));
    emit('Pod', 'update', {
      metadata: { namespace: 'prod', name: 'b-core-0', labels: { 'dsm.io/cluster': 'b' } },
    });
    await until(() => triggers.includes('a:resync') && triggers.includes('b:event'));
    await controller.stop();
    // The start enqueues every cluster as well, but that is no resync; b is not in the cache: never resynced.
    expect(triggers[0]).toBe('a:event');
    expect(triggers).not.toContain('b:resync');
  });

  it('counts clusters by phase', () => {
    const counts = countByPhase([{ status: { phase: 'Ready' } }, { status: { phase: 'Ready' } }, {}]);
    expect(Object.fromEntries(counts)).toEqual({ Ready: 2, Unknown: 1 });
  });
});
