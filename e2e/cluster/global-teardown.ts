/** Stops the control plane global-setup.ts started (kept with DSM_CLUSTER_KEEP=1 for a look around). */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export default function globalTeardown(): void {
  if (process.env.DSM_CLUSTER_STARTED !== '1' || process.env.DSM_CLUSTER_KEEP === '1') return;
  execFileSync('bash', [join(here, 'down.sh')], { stdio: 'inherit' });
}
