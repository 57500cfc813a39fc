import { describe, expect, it } from '@jest/globals';
import { EventSeries, REPORTING_CONTROLLER, SERIES_WINDOW_MS, eventObject, truncateBytes } from './events.js';

const cluster = { metadata: { name: 'dsm', namespace: 'prod', uid: 'u-1', resourceVersion: '42' } };
const T = Date.parse('2030-01-01T00:00:00Z');

describe('EventSeries', () => {
  it('creates the first Event, bumps repeats within 10 minutes of the last, and starts over after', () => {
    const series = new EventSeries();
    const key = EventSeries.key(cluster, 'Warning', 'ScaleDownRefused', 'storage would lose its quorum');
    expect(series.decide(key, T)).toEqual({ action: 'create' });
    series.record(key, { name: 'dsm.1', namespace: 'prod', count: 1, lastObserved: T });
    expect(series.decide(key, T + 60_000)).toEqual({ action: 'bump', count: 2 });
    series.record(key, { name: 'dsm.1', namespace: 'prod', count: 2, lastObserved: T + 60_000 });
    expect(series.decide(key, T + 60_000 + SERIES_WINDOW_MS)).toEqual({ action: 'bump', count: 3 });
    expect(series.decide(key, T + 60_001 + SERIES_WINDOW_MS)).toEqual({ action: 'create' });
  });

  it('keeps other reasons, messages, types and clusters apart', () => {
    const keys = new Set([
      EventSeries.key(cluster, 'Warning', 'A', 'm'),
      EventSeries.key(cluster, 'Normal', 'A', 'm'),
      EventSeries.key(cluster, 'Warning', 'B', 'm'),
      EventSeries.key(cluster, 'Warning', 'A', 'n'),
      EventSeries.key({ metadata: { ...cluster.metadata, name: 'other' } }, 'Warning', 'A', 'm'),
      // A cluster deleted and created again under the same name is another object.
      EventSeries.key({ metadata: { ...cluster.metadata, uid: 'u-2' } }, 'Warning', 'A', 'm'),
    ]);
    expect(keys.size).toBe(6);
  });

  it('holds at most its bound of entries, forgetting the least recently used', () => {
    const series = new EventSeries(SERIES_WINDOW_MS, 3);
    for (const n of [1, 2, 3])
      series.record(`k${n}`, { name: `e${n}`, namespace: 'p', count: 1, lastObserved: T });
    series.record('k1', { name: 'e1', namespace: 'p', count: 2, lastObserved: T + 1 });
    series.record('k4', { name: 'e4', namespace: 'p', count: 1, lastObserved: T + 2 });
    expect(series.size).toBe(3);
    expect(series.entry('k2')).toBeUndefined();
    expect(series.entry('k1')?.count).toBe(2);
  });
});

describe('eventObject', () => {
  it('is an events.k8s.io/v1 Event regarding the DSMCluster, reported by this replica', () => {
    const event = eventObject(cluster, 'Normal', 'Created', 'created 12 objects', 'dsm-operator-abc', T, 7);
    expect(event).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { namespace: 'prod' },
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'dsm-operator-abc',
      action: 'Reconcile',
      reason: 'Created',
      note: 'created 12 objects',
      type: 'Normal',
      regarding: {
        apiVersion: 'dsm.io/v1alpha1',
        kind: 'DSMCluster',
        name: 'dsm',
        namespace: 'prod',
        uid: 'u-1',
      },
    });
    expect(event.metadata?.name).toMatch(/^dsm\.[0-9a-f]+$/);
    // MicroTime: six fractional digits, as the apiserver requires.
    expect(JSON.stringify(event.eventTime)).toBe('"2030-01-01T00:00:00.000000Z"');
    const again = eventObject(cluster, 'Normal', 'Created', 'x', 'i', T, 8);
    expect(again.metadata?.name).not.toBe(event.metadata?.name);
  });

  it('cuts notes to 1 kB without splitting a character', () => {
    const note = eventObject(cluster, 'Warning', 'R', 'é'.repeat(2000), 'i', T, 0).note!;
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    expect(note.endsWith('...')).toBe(true);
    expect(truncateBytes('short', 1024)).toBe('short');
  });
});
