/**
 * The shell scripts of the Docker and cluster tooling and of compose/ pass shellcheck (Debian's, installed by
 * e2e/docker/prepare.sh), and `npm run compose:init` makes each secret once: mode 0600, owned by the images'
 * user, never overwritten.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ok, root } from './docker/stack.js';

const SECRETS = [
  'admin-token',
  'api-token',
  'keystore-key',
  'storage-peer-token',
  'bridge-dsm-key',
  'bridge-evm-key',
  'evm-deployer-key',
];

describe('the scripts', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'dsm-e2e-secrets-')), 'secrets');
  afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('pass shellcheck', async () => {
    const shellScripts = (dir: string) =>
      readdirSync(join(root, dir))
        .filter((f) => f.endsWith('.sh'))
        .map((f) => `${dir}/${f}`);
    const scripts = [
      ...shellScripts('e2e/docker'),
      ...shellScripts('e2e/cluster'),
      ...shellScripts('e2e/cluster/node'),
      'compose/init-secrets.sh',
    ];
    // -x: the cluster scripts source their versions, helpers and addresses (source-path=SCRIPTDIR).
    await ok(`shellcheck -x ${scripts.join(' ')}`, { cwd: root });
  });

  it('npm run compose:init makes each secret once, 0600, for uid 1000, and never overwrites one', async () => {
    const init = () => ok('npm run --silent compose:init', { cwd: root, env: { DSM_COMPOSE_SECRETS: dir } });
    const first = await init();
    expect(first.stdout).toMatch(/7 created/);
    expect(readdirSync(dir).sort()).toEqual([...SECRETS].sort());
    for (const name of SECRETS) {
      const stat = statSync(join(dir, name));
      expect([name, (stat.mode & 0o777).toString(8)]).toEqual([name, '600']);
      if (process.getuid?.() === 0) expect([name, stat.uid, stat.gid]).toEqual([name, 1000, 1000]);
    }
    expect(readFileSync(join(dir, 'admin-token'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(readFileSync(join(dir, 'bridge-dsm-key'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(readFileSync(join(dir, 'bridge-evm-key'), 'utf8')).toMatch(/^0x[0-9a-f]{64}\n$/);
    // An existing file stays as it is; a missing one is made.
    writeFileSync(join(dir, 'admin-token'), 'mine\n');
    rmSync(join(dir, 'api-token'));
    const second = await init();
    expect(second.stdout).toMatch(/1 created/);
    expect(readFileSync(join(dir, 'admin-token'), 'utf8')).toBe('mine\n');
  });
});
