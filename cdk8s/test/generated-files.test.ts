// The files `npm run generate` writes for cdk8s are what the sources say now: the CRD (both copies), and
// the alert rules and dashboards embedded in src/generated/ (equal to compose/prometheus/rules/*.yml and to
// @dsm/dashboards' builders and dashboards/*.json). Run `npm run generate` when one fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { crdYaml } from '@dsm/cdk8s';
import { DASHBOARDS, dashboardText, loadRuleFiles } from '@dsm/dashboards';
import { DASHBOARD_FILES } from '../src/generated/dashboards.js';
import { RULE_GROUPS } from '../src/generated/rules.js';
import { REPO_ROOT } from './helpers.js';

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

describe('generated files (npm run generate)', () => {
  it.each(['crds/dsm.io_dsmclusters.yaml', 'charts/dsm-operator/crds/dsm.io_dsmclusters.yaml'])(
    '%s is the CRD of the current spec',
    (file) => {
      expect(read(file)).toBe(crdYaml());
    },
  );

  it('src/generated/rules.ts holds exactly the groups of compose/prometheus/rules/*.yml', () => {
    const files = loadRuleFiles(join(REPO_ROOT, 'compose', 'prometheus', 'rules'));
    expect(files.length).toBeGreaterThan(0);
    expect(RULE_GROUPS).toEqual(files.flatMap(({ groups }) => groups));
  });

  it('src/generated/dashboards.ts holds the dashboards of @dsm/dashboards, as dashboards/*.json has them', () => {
    const built = Object.fromEntries(
      Object.entries(DASHBOARDS).map(([file, build]) => [file, dashboardText(build())]),
    );
    expect(Object.keys(built).length).toBeGreaterThan(0);
    expect(DASHBOARD_FILES).toEqual(built);
    for (const [file, text] of Object.entries(DASHBOARD_FILES)) expect(read(`dashboards/${file}`)).toBe(text);
  });
});
