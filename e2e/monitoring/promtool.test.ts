/**
 * promtool on what we ship: compose/prometheus/prometheus.yml (and the rule files it loads) is valid, every
 * rule file is, and every promtool unit test of compose/prometheus/tests/ passes.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, ensurePrometheus, promtool } from './tools.js';

const ymls = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => `${dir}/${f}`);

beforeAll(() => ensurePrometheus(), 300_000);

describe('promtool', () => {
  it('check config compose/prometheus/prometheus.yml', () => {
    const { status, output } = promtool('check', 'config', 'compose/prometheus/prometheus.yml');
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it.each(ymls('compose/prometheus/rules'))('check rules %s', (file) => {
    const { status, output } = promtool('check', 'rules', file);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it.each(ymls('compose/prometheus/tests'))('test rules %s', (file) => {
    const { status, output } = promtool('test', 'rules', file);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});
