import { describe, expect, it } from '@jest/globals';
import { differs, stamp } from '../reconcile/differs.js';
import { DIGEST_OVER, digestValue, slim } from './slim.js';

const dashboards = 'x'.repeat(80_000);
const configMap = (data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'demo-dashboards', namespace: 'ns', labels: { 'dsm.io/cluster': 'demo' } },
  data,
});
const live = (data: Record<string, string>) => ({
  ...configMap(data),
  metadata: {
    ...configMap(data).metadata,
    uid: 'u',
    managedFields: [{ manager: 'dsm-operator', operation: 'Apply', fieldsV1: { 'f:data': {} } }],
  },
});

describe('slim', () => {
  it('drops managedFields and keeps long ConfigMap values as their digest only', () => {
    const slimmed = slim(live({ 'dsm.json': dashboards, small: 'a: 1' }));
    expect(slimmed.metadata.managedFields).toBeUndefined();
    expect(slimmed.metadata.uid).toBe('u');
    expect(slimmed.data.small).toBe('a: 1');
    expect(slimmed.data['dsm.json']).toBe(digestValue(dashboards));
    expect(slimmed.data['dsm.json']!.length).toBeLessThan(64);
    expect(digestValue('y'.repeat(DIGEST_OVER))).toBe('y'.repeat(DIGEST_OVER));
  });

  it('leaves other kinds’ data alone', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: dashboards } };
    expect(slim(structuredClone(secret)).data.k).toBe(dashboards);
  });

  it('a slimmed live ConfigMap matches its desired object, and a value edited by hand still differs', () => {
    const desired = stamp(configMap({ 'dsm.json': dashboards, small: 'a: 1' }));
    const same = slim({ ...live(desired.data), metadata: { ...desired.metadata, managedFields: [] } });
    expect(differs(desired, same)).toBe(false);
    const edited = slim({
      ...live({ ...desired.data, 'dsm.json': `${dashboards}!` }),
      metadata: desired.metadata,
    });
    expect(differs(desired, edited)).toBe(true);
    const shortened = slim({ ...live({ ...desired.data, 'dsm.json': 'gone' }), metadata: desired.metadata });
    expect(differs(desired, shortened)).toBe(true);
  });
});
