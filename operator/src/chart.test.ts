import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { formatJson } from '@dsm/runtime/config';
import { chartValuesSchema, configEnvTemplate, configValuesTable, valuesJsonSchema } from './chart.js';

const chart = join(import.meta.dirname, '../../charts/dsm-operator');
const read = (file: string) => readFileSync(join(chart, file), 'utf8');

describe('the Helm chart values', () => {
  it('values.yaml is exactly the schema defaults, so the documented file and the schema never drift', () => {
    const values = parse(read('values.yaml')) as unknown;
    expect(chartValuesSchema.parse(values)).toEqual(chartValuesSchema.parse({}));
    expect(chartValuesSchema.parse(values)).toEqual(values);
  });

  it('the generated files are fresh (npm run generate rewrites them)', () => {
    expect(read('values.schema.json')).toBe(formatJson(valuesJsonSchema()));
    expect(read('templates/_config-env.tpl')).toBe(configEnvTemplate());
    expect(read('README.md')).toContain(configValuesTable());
  });

  it("carries the dashboards/ folder's dashboards, byte for byte (helm reads files inside the chart only)", () => {
    const top = join(chart, '../../dashboards');
    const files = readdirSync(top).filter((f) => f.endsWith('.json'));
    expect(readdirSync(join(chart, 'dashboards')).sort()).toEqual(files.sort());
    for (const file of files) expect(read(`dashboards/${file}`)).toBe(readFileSync(join(top, file), 'utf8'));
  });

  it('refuses unknown keys and out-of-range settings with the field named', () => {
    const bad = chartValuesSchema.safeParse({ replicas: 2, config: { workers: 0 } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.code}`);
    expect(paths).toEqual(expect.arrayContaining(['config.workers: too_small', ': unrecognized_keys']));
  });

  it('documents every value in the JSON Schema helm validates with', () => {
    const schema = valuesJsonSchema() as { properties: Record<string, { description?: string }> };
    const undocumented = Object.entries(schema.properties)
      .filter(([, p]) => !p.description)
      .map(([k]) => k);
    expect(undocumented).toEqual([]);
  });
});
