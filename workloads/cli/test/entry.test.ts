/**
 * The `dsm` command loads the client half of @dsm/runtime only: no RocksDB (a native addon) and no HTTP
 * server stack. Runs the built CLI (`npx tsc -b` first) under a preload that records every module the
 * process resolves (test/fixtures/record-loads.mjs), so what is checked is what Node loaded, not timings.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '../../..');
const recorder = pathToFileURL(join(import.meta.dirname, 'fixtures/record-loads.mjs')).href;

/** Packages only a service needs: the store and the HTTP server with its logging and metrics. */
const SERVER_ONLY = ['rocksdb-native', 'express', 'pino-http', 'prom-client'];

interface Load {
  url: string;
  parent: string | null;
}

/** Runs `node <file> ...args` under the recorder; every module resolved, and how the process ended. */
function run(file: string, ...args: string[]): { loads: Load[]; status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dsm-cli-loads-'));
  try {
    const out = join(dir, 'loads.json');
    const child = spawnSync(process.execPath, ['--import', recorder, join(root, file), ...args], {
      env: { PATH: process.env.PATH, DSM_RECORD_LOADS: out },
      encoding: 'utf8',
      timeout: 20_000,
    });
    const loads = JSON.parse(readFileSync(out, 'utf8')) as Load[];
    return { loads, status: child.status, output: child.stdout + child.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

/** For each server-only package that was loaded: the chain of importers that brought it in. */
function serverOnly(loads: Load[]): string[] {
  const parentOf = new Map<string, string | null>();
  for (const load of loads) if (!parentOf.has(load.url)) parentOf.set(load.url, load.parent);
  const short = (url: string) => url.replace(pathToFileURL(root).href + '/', '');
  const found = new Map<string, string>();
  for (const { url } of loads) {
    const name = packageOf(url);
    if (name === undefined || !SERVER_ONLY.includes(name) || found.has(name)) continue;
    const chain = [url];
    for (let p = parentOf.get(url); p && chain.length < 20; p = parentOf.get(p)) chain.push(p);
    found.set(name, `${name}: ${chain.map(short).join(' <- ')}`);
  }
  return [...found.values()];
}

describe('the built dsm command', () => {
  it('runs without loading rocksdb-native, express, pino-http or prom-client', () => {
    const { loads, status, output } = run('workloads/cli/dist/main.js', '--version');
    expect([status, output.trim()]).toEqual([0, '0.1.0']);
    // The recorder saw the program: commander and the CLI's use of @dsm/runtime.
    expect(loads.some((l) => packageOf(l.url) === 'commander')).toBe(true);
    expect(loads.some((l) => l.url.includes('/workloads/runtime/dist/'))).toBe(true);
    expect(serverOnly(loads)).toEqual([]);
  });

  it('as a library (@dsm/cli) loads none of them either', () => {
    const { loads, status } = run('workloads/cli/dist/index.js');
    expect(status).toBe(0);
    expect(serverOnly(loads)).toEqual([]);
  });

  it('is told apart from a service: the root of @dsm/runtime loads all of them', () => {
    const { loads, status } = run('workloads/runtime/dist/index.js');
    expect(status).toBe(0);
    expect(
      serverOnly(loads)
        .map((line) => line.split(':')[0])
        .sort(),
    ).toEqual([...SERVER_ONLY].sort());
  });
});
