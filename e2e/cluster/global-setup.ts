/**
 * Starts the control plane (up.sh) unless DSM_TEST_KUBECONFIG names one already running, and hands every
 * test file its kubeconfig through KUBECONFIG (test workers inherit this process's environment).
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default function globalSetup(): void {
  const given = process.env.DSM_TEST_KUBECONFIG;
  const kubeconfig =
    given ??
    execFileSync('bash', [join(here, 'up.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  process.env.KUBECONFIG = kubeconfig;
  process.env.DSM_CLUSTER_BIN = execFileSync('bash', [join(here, 'build.sh'), 'kubectl'], {
    encoding: 'utf8',
  }).trim();
  if (given === undefined) process.env.DSM_CLUSTER_STARTED = '1';
}
