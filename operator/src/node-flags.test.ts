import { expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from './node-flags.js';

it("the image runs the operator with exactly these flags (the Dockerfile's operator CMD)", () => {
  const dockerfile = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8');
  const stage = dockerfile.slice(dockerfile.indexOf('FROM runtime AS operator'));
  const cmd = /^CMD (\[.*\])$/m.exec(stage.slice(0, stage.indexOf('\nFROM ')))?.[1];
  expect(JSON.parse(cmd!)).toEqual(['node', ...NODE_FLAGS, '/app/operator/dist/main.js']);
});
