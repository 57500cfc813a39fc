/**
 * kubeconform with schemas from the test cluster itself: every kind the apiserver serves (our CRD's
 * included, once installed) written as a strict JSON Schema (unknown fields refused, as kubeconform's
 * `-strict` schemas do), so manifests are validated offline against exactly the API they will meet,
 * with no schema download (our machines reach no schema registry).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubectl } from './kube.js';

const run = promisify(execFile);

type Schema = Record<string, unknown>;

/** Adds `additionalProperties: false` wherever an object lists its properties and says nothing else. */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node))
    out[key] = key === 'properties' ? mapValues(value, strict) : strict(value);
  if (
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  )
    out.additionalProperties = false;
  return out;
}

const mapValues = (value: unknown, f: (v: unknown) => unknown) =>
  Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, f(v)]));

/** Writes `<kind>_<group or v1>_<version>.json` for every kind served; returns kubeconform's -schema-location. */
export async function writeSchemas(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const index = JSON.parse((await kubectl(['get', '--raw', '/openapi/v3'])).stdout) as {
    paths: Record<string, { serverRelativeURL: string }>;
  };
  for (const [path, { serverRelativeURL }] of Object.entries(index.paths)) {
    const match = /^(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (!match) continue;
    const [group, version] = match[1] ? ['', match[1]] : [match[2]!, match[3]!];
    const doc = JSON.parse((await kubectl(['get', '--raw', serverRelativeURL])).stdout) as {
      components?: { schemas?: Record<string, Schema> };
    };
    const schemas = mapValues(doc.components?.schemas ?? {}, strict) as Record<string, Schema>;
    for (const schema of Object.values(schemas)) {
      const kinds = (schema['x-kubernetes-group-version-kind'] ?? []) as {
        group: string;
        version: string;
        kind: string;
      }[];
      for (const gvk of kinds.filter((k) => k.group === group && k.version === version)) {
        // kubeconform names the group of `v1` "v1" (the first part of apiVersion).
        const file = `${gvk.kind.toLowerCase()}_${group || version}_${version}.json`;
        writeFileSync(join(dir, file), JSON.stringify({ ...schema, components: { schemas } }));
      }
    }
  }
  return join(dir, '{{ .ResourceKind }}_{{ .Group }}_{{ .ResourceAPIVersion }}.json');
}

export interface KubeconformResult {
  valid: number;
  invalid: number;
  errors: number;
  skipped: number;
  messages: string[];
}

/** Runs the pinned kubeconform (strict, no kind skipped) over `files`. */
export async function kubeconform(schemaLocation: string, files: string[]): Promise<KubeconformResult> {
  const bin = join(process.env.DSM_CLUSTER_BIN ?? '', 'kubeconform');
  const args = ['-strict', '-summary', '-output', 'json', '-schema-location', schemaLocation, ...files];
  const { stdout } = await run(bin, args, { encoding: 'utf8' }).catch((error: { stdout?: string }) => ({
    stdout: error.stdout ?? '',
  }));
  const report = JSON.parse(stdout) as {
    resources?: { filename: string; kind: string; name: string; status: string; msg: string }[];
    summary: { valid: number; invalid: number; errors: number; skipped: number };
  };
  return {
    ...report.summary,
    messages: (report.resources ?? []).map((r) => `${r.filename}: ${r.kind}/${r.name} ${r.status}: ${r.msg}`),
  };
}
