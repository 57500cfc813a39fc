import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { configTable, replaceSection } from '@dsm/runtime/config';
import { loadOperatorConfig, operatorConfigSchema, podNamespace } from './config.js';

const readme = join(dirname(fileURLToPath(import.meta.url)), '../README.md');

describe('operator config', () => {
  it('has the documented defaults', () => {
    const config = loadOperatorConfig({ POD_NAMESPACE: 'dsm-system' });
    expect(config).toMatchObject({
      watchNamespaces: [],
      metricsPort: 8080,
      healthPort: 8081,
      leaseNamespace: 'dsm-system',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
      workers: 2,
      resyncMs: 300_000,
      logLevel: 'info',
    });
  });

  it('reads DSM_OPERATOR_* variables and refuses inconsistent lease timings naming the key', () => {
    const config = loadOperatorConfig({ DSM_OPERATOR_WATCH_NAMESPACES: 'a,b', DSM_OPERATOR_WORKERS: '4' });
    expect(config.watchNamespaces).toEqual(['a', 'b']);
    expect(config.workers).toBe(4);
    expect(() => loadOperatorConfig({ DSM_OPERATOR_RENEW_DEADLINE_MS: '20000' })).toThrow(/renewDeadlineMs/);
    expect(() => loadOperatorConfig({ DSM_OPERATOR_WATCH_NAMESPACES: 'Not_A_Namespace' })).toThrow(
      /watchNamespaces/,
    );
  });

  it('takes the Lease namespace from POD_NAMESPACE, else the service account file, else default', () => {
    expect(podNamespace({ POD_NAMESPACE: 'x' }, '/nonexistent')).toBe('x');
    expect(podNamespace({}, '/nonexistent')).toBe('default');
  });

  it('README settings table is current', () => {
    const text = readFileSync(readme, 'utf8');
    expect(replaceSection(text, 'settings', configTable(operatorConfigSchema))).toBe(text);
  });
});
