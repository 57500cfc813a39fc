/**
 * The import boundaries of eslint.config.js fire: data flows one way (protocol ← runtime ← api ←
 * services ← cli), services never import each other, and shipped code (src/) never imports this harness.
 * Snippets are linted as if they were files at those paths, by eslint in a child process.
 */
import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

type Verdict = 'allowed' | 'refused';

// [file the snippet pretends to be, import source, verdict]
const CASES: [string, string, Verdict][] = [
  ['workloads/protocol/src/x.ts', '@dsm/runtime', 'refused'],
  ['workloads/protocol/src/x.ts', '@dsm/api', 'refused'],
  ['workloads/protocol/test/x.test.ts', '@dsm/testkit', 'refused'],
  ['workloads/protocol/bench/run.ts', '@dsm/protocol', 'allowed'],
  ['workloads/runtime/src/x.ts', '@dsm/protocol', 'allowed'],
  ['workloads/runtime/src/x.ts', '@dsm/api', 'refused'],
  ['workloads/runtime/src/x.ts', '@dsm/storage', 'refused'],
  ['workloads/runtime/test/x.test.ts', '@dsm/testkit', 'refused'],
  ['workloads/runtime/src/x.ts', 'express', 'allowed'],
  ['workloads/api/src/x.ts', '@dsm/runtime/client', 'allowed'],
  ['workloads/api/src/x.ts', '@dsm/protocol', 'allowed'],
  ['workloads/api/src/x.ts', '@dsm/core', 'refused'],
  ['workloads/api/src/x.ts', '@dsm/cli', 'refused'],
  ['workloads/storage/src/x.ts', '@dsm/runtime', 'allowed'],
  ['workloads/storage/src/x.ts', '@dsm/runtime/store', 'allowed'],
  ['workloads/storage/src/x.ts', '@dsm/api', 'allowed'],
  ['workloads/storage/src/x.ts', '@dsm/core', 'refused'],
  ['workloads/storage/src/x.ts', '@dsm/core/config', 'refused'],
  ['workloads/storage/src/x.ts', '@dsm/cli', 'refused'],
  ['workloads/storage/src/x.ts', '@dsm/testkit', 'refused'],
  ['workloads/storage/src/x.test.ts', '@dsm/testkit', 'allowed'],
  ['workloads/storage/test/x.test.ts', '@dsm/testkit', 'allowed'],
  ['workloads/storage/test/x.test.ts', '@dsm/core', 'refused'],
  ['workloads/storage/bench/run.ts', '@dsm/testkit', 'allowed'],
  ['workloads/storage/bench/run.ts', '@dsm/storage', 'allowed'],
  ['workloads/core/src/x.ts', '@dsm/storage', 'refused'],
  ['workloads/core/src/x.ts', '@dsm/testkit', 'refused'],
  ['workloads/core/src/x.test.ts', '@dsm/testkit', 'allowed'],
  ['workloads/core/src/x.test.ts', '@dsm/storage', 'refused'],
  ['workloads/core/src/x.ts', '@dsm/core', 'allowed'],
  ['workloads/core/bench/run.ts', '@dsm/testkit', 'allowed'],
  ['workloads/core/test/x.test.ts', '@dsm/storage', 'refused'],
  ['workloads/bridge/src/x.ts', '@dsm/core', 'refused'],
  ['workloads/bridge/src/x.ts', '@dsm/testkit', 'refused'],
  ['workloads/cli/src/x.ts', '@dsm/testkit', 'refused'],
  ['workloads/cli/src/x.ts', '@dsm/runtime/log', 'allowed'],
  ['workloads/cli/test/x.test.ts', '@dsm/testkit', 'allowed'],
];

/** The `no-restricted-imports` messages eslint gives each snippet. */
function lint(snippets: { file: string; code: string }[]): string[][] {
  const child = spawnSync(process.execPath, [join(import.meta.dirname, 'fixtures/lint.mjs')], {
    input: JSON.stringify(snippets),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`eslint failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as string[][];
}

it('refuses every import against the direction of the data flow, and only those', () => {
  const results = lint(
    CASES.map(([file, source]) => ({ file, code: `import { a } from '${source}';\nexport const b = a;\n` })),
  );
  const verdicts = CASES.map(
    ([file, source], i) => `${file} imports ${source}: ${results[i]!.length > 0 ? 'refused' : 'allowed'}`,
  );
  expect(verdicts).toEqual(CASES.map(([file, source, verdict]) => `${file} imports ${source}: ${verdict}`));
  // One error per import, saying why.
  for (const messages of results) expect(messages.length).toBeLessThanOrEqual(1);
}, 60_000);

it('says why, and catches type imports and re-exports too', () => {
  const [testkit, service, reexport, typeOnly, protocol] = lint([
    { file: 'workloads/storage/src/x.ts', code: "export { a } from '@dsm/testkit';\n" },
    { file: 'workloads/storage/src/x.ts', code: "export * from '@dsm/core';\n" },
    { file: 'workloads/cli/src/x.ts', code: "export * from '@dsm/testkit';\n" },
    { file: 'workloads/core/src/x.ts', code: "import type { A } from '@dsm/storage';\nexport type B = A;\n" },
    { file: 'workloads/protocol/src/x.ts', code: "import '@dsm/runtime/log';\n" },
  ]);
  expect(testkit).toEqual([expect.stringContaining('never imports the test harness')]);
  expect(service).toEqual([expect.stringContaining('services never import each other')]);
  expect(reexport).toEqual([expect.stringContaining('never imports the test harness')]);
  expect(typeOnly).toEqual([expect.stringContaining('services never import each other')]);
  expect(protocol).toEqual([expect.stringContaining('@dsm/protocol imports nothing of ours')]);
}, 60_000);
