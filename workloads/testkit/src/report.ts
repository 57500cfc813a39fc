/** Benchmarks' output: the JSON report on stdout and in `bench-results/<name>.json` (or `DSM_BENCH_DIR`). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeBenchReport(name: string, report: unknown): void {
  const dir = process.env.DSM_BENCH_DIR ?? join(import.meta.dirname, '../../../bench-results');
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(report, null, 2);
  writeFileSync(join(dir, `${name}.json`), text + '\n');
  console.log(text);
}
