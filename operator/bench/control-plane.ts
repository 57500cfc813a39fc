/**
 * The benchmark's own control plane (e2e/cluster/up.sh with a DSM_CLUSTER_DIR of its own, never the one the
 * cluster tests share), its binaries (build.sh: cached, or built here), kubectl, and plain-JSON requests to
 * the apiserver (as the operator's writer sends them: client-node's typed serializer drops fields).
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
} from '@kubernetes/client-node';

const exec = promisify(execFile);
const REPO = join(import.meta.dirname, '../../..');
const CLUSTER = join(REPO, 'e2e/cluster');
/** Not /tmp/dsm-cluster: that is the cluster tests' control plane (they may run at the same time). */
export const CLUSTER_DIR = '/tmp/dsm-bench-cluster';
const clusterEnv = () => ({ ...process.env, DSM_CLUSTER_DIR: CLUSTER_DIR });

export const log = (message: string) => process.stderr.write(`bench(operator): ${message}\n`);

/** Runs a script, its stderr passed on (progress), its stdout returned; bounded by `timeoutMs`. */
function script(
  path: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path, ...args], { env: clusterEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${path} exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
}

export interface Binaries {
  bin: string;
  /** What build.sh had to build (empty when every binary was cached). */
  built: string[];
  seconds: number;
}

/** The control plane's binaries and kubectl: built once by build.sh (~7 min cold), cached afterwards. */
export async function binaries(): Promise<Binaries> {
  const started = performance.now();
  const components = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'];
  const { stdout, stderr } = await script(join(CLUSTER, 'build.sh'), components, 45 * 60_000);
  const built = [...stderr.matchAll(/build\.sh: building (\S+)/g)].map((m) => m[1]!);
  return { bin: stdout.trim().split('\n').pop()!, built, seconds: (performance.now() - started) / 1000 };
}

/** Starts the benchmark's control plane (after clearing a leftover one of its own): its kubeconfig path. */
export async function up(): Promise<string> {
  await down();
  const { stdout } = await script(join(CLUSTER, 'up.sh'), [], 5 * 60_000);
  return stdout.trim().split('\n').pop()!;
}

export async function down(): Promise<void> {
  await script(join(CLUSTER, 'down.sh'), [], 60_000).catch((e: unknown) => log(`down.sh: ${String(e)}`));
}

export function kubectl(bin: string, kubeconfig: string, args: string[]): Promise<{ stdout: string }> {
  return exec(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
    cwd: REPO,
  });
}

/** The DSMCluster CRD as the repository ships it (crds/), established. */
export async function installCrd(bin: string, kubeconfig: string): Promise<void> {
  await kubectl(bin, kubeconfig, ['apply', '--server-side', '-f', 'crds/dsm.io_dsmclusters.yaml']);
  await kubectl(bin, kubeconfig, [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/dsmclusters.dsm.io',
  ]);
}

export function kubeConfigFrom(path: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(path);
  return config;
}

const http = new IsomorphicFetchHttpLibrary();

/** `method path` with a JSON body; the parsed answer, or an ApiException with the apiserver's message. */
export async function request<T = unknown>(
  config: KubeConfig,
  method: HttpMethod,
  path: string,
  options: { query?: Record<string, string>; body?: unknown; contentType?: string } = {},
): Promise<T> {
  const url = new URL(config.getCurrentCluster()!.server + path);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const context = new RequestContext(url.toString(), method);
  context.setHeaderParam('Accept', 'application/json');
  if (options.body !== undefined) {
    context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
    context.setBody(JSON.stringify(options.body));
  }
  await config.applySecurityAuthentication(context);
  const response = await http.send(context).toPromise();
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: the text goes into the error
  }
  if (response.httpStatusCode < 200 || response.httpStatusCode > 299)
    throw new ApiException(
      response.httpStatusCode,
      `${method} ${path}: HTTP ${response.httpStatusCode}: ${(parsed as { message?: string })?.message ?? text}`,
      parsed,
      response.headers,
    );
  return parsed as T;
}

export { HttpMethod };

/** The REST collection of a built-in kind (or the DSMCluster), in `namespace` or across all of them. */
export function collectionOf(apiVersion: string, kind: string, namespace?: string): string {
  const lower = kind.toLowerCase();
  const plural = lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${prefix}${namespace !== undefined ? `/namespaces/${namespace}` : ''}/${plural}`;
}
