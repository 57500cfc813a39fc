// The committed ABIs, bytecode and typed bindings are what scripts/generate.mjs makes today from
// contracts/*.sol with the pinned solc and @openzeppelin/contracts: recompiled here, compared byte for byte.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const pkg = join(import.meta.dirname, '..');

describe('generated contract artefacts', () => {
  it('artifacts/*.json and src/generated/*.ts match a fresh compile of contracts/*.sol', async () => {
    const run = promisify(execFile)(process.execPath, [join(pkg, 'scripts/generate.mjs'), '--check'], {
      cwd: pkg,
    });
    await expect(run).resolves.toBeDefined();
  }, 60_000);
});
