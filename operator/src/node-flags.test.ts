import { expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_ENV, NODE_FLAGS } from './node-flags.js';

const dockerfile = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8');
const from = dockerfile.slice(dockerfile.indexOf('FROM runtime AS operator'));
const stage = from.slice(0, from.indexOf('\nFROM '));

it("the image runs the operator with exactly these flags (the Dockerfile's operator CMD)", () => {
  const cmd = /^CMD (\[.*\])$/m.exec(stage)?.[1];
  expect(JSON.parse(cmd!)).toEqual(['node', ...NODE_FLAGS, '/app/dsm-operator.mjs']);
});

it("the image sets the operator's environment (the Dockerfile's operator ENV)", () => {
  for (const [name, value] of Object.entries(NODE_ENV))
    expect(stage).toMatch(new RegExp(`^ENV ${name}=${value}$`, 'm'));
});
