/**
 * The operator (its bundle, dist/bundle/dsm-operator.mjs) as a child process, as a pod runs it: its own name, metrics and health on free
 * loopback ports, its output kept for the test to read. `env` adds the rest (lease, namespaces, ...);
 * `inherit: false` passes none of the test's own DSM_OPERATOR_*, POD_* or KUBECONFIG variables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_ENV, NODE_FLAGS } from '@dsm/operator';
import { freePort } from '@dsm/testkit';

export const MAIN =
  process.env.DSM_OPERATOR_MAIN ??
  join(dirname(fileURLToPath(import.meta.url)), '../../dist/bundle/dsm-operator.mjs');

export interface OperatorProcess {
  child: ChildProcess;
  name: string;
  metricsPort: number;
  healthPort: number;
  exited: Promise<number | null>;
  output: () => string;
}

export async function startOperator(
  name: string,
  env: Record<string, string>,
  options: { inherit?: boolean; logLevel?: string } = {},
): Promise<OperatorProcess> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (
      options.inherit !== false ||
      !(k.startsWith('DSM_OPERATOR_') || k.startsWith('POD_') || k === 'KUBECONFIG')
    )
      base[k] = v;
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN], {
    env: {
      ...base,
      ...NODE_ENV,
      POD_NAME: name,
      DSM_OPERATOR_METRICS_PORT: String(metricsPort),
      DSM_OPERATOR_HEALTH_PORT: String(healthPort),
      DSM_OPERATOR_HOST: '127.0.0.1',
      DSM_OPERATOR_LOG_LEVEL: options.logLevel ?? 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, name, metricsPort, healthPort, exited, output: () => out };
}

/** The settings of an operator watching one namespace with a short Lease there (takeover tests). */
export function shortLeaseEnv(namespace: string, lease: string, leaseMs: number): Record<string, string> {
  return {
    POD_NAMESPACE: namespace,
    DSM_OPERATOR_WATCH_NAMESPACES: namespace,
    DSM_OPERATOR_LEASE_NAME: lease,
    DSM_OPERATOR_LEASE_DURATION_MS: String(leaseMs),
    DSM_OPERATOR_RENEW_DEADLINE_MS: '4000',
    DSM_OPERATOR_RETRY_PERIOD_MS: '1000',
  };
}
