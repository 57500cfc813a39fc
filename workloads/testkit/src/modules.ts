/** Which modules an import really loads, for tests that keep light entry points light. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');

/** The modules (file URLs) that importing `specifier` from the repository root loads, in a fresh node. */
export function modulesLoadedBy(specifier: string): string[] {
  const script = `
import { registerHooks } from 'node:module';
const urls = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); urls.push(r.url); return r; } });
await import(${JSON.stringify(specifier)});
process.stdout.write(JSON.stringify(urls));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`node failed to import ${specifier}: ${child.stderr}`);
  return JSON.parse(child.stdout) as string[];
}

/** Modules a light entry point must not load: RocksDB, express and the HTTP logger. */
export const HEAVY_MODULES = /\/node_modules\/(rocksdb-native|express|pino-http)\//;
