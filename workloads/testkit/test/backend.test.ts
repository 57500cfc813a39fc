// The harness finds each service's built entry point through the service package's exports, the same
// way under jest (testkit/src) as from testkit/dist, and not by a path into the other package's folder.
import { expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { entryFile } from '@dsm/testkit';

const root = resolve(import.meta.dirname, '../../..');

it.each([
  ['@dsm/core/main.js', 'workloads/core/dist/main.js'],
  ['@dsm/storage/main.js', 'workloads/storage/dist/main.js'],
] as const)('%s is the built entry point %s', (entry, file) => {
  expect(entryFile(entry)).toBe(resolve(root, file));
  expect(existsSync(entryFile(entry))).toBe(true);
});

it('an entry point a package does not export is refused, not guessed', () => {
  expect(() => entryFile('@dsm/core/dist/main.js')).toThrow();
});
