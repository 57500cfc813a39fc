// The objects of each example, byte for byte, against cdk8s/test/golden/<example>.yaml: a change to any
// construct shows up as a reviewable diff of these files. Regenerate them with
//   UPDATE_GOLDEN=1 node --experimental-vm-modules node_modules/jest/bin/jest.js cdk8s/test/golden
// The dashboards' JSON is left out (it changes with @dsm/dashboards; generated-files.test.ts checks it).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { desiredObjects, generatedSecrets, type KubeObject } from '@dsm/cdk8s';
import { manifestsYaml } from '../src/manifests.js';
import { ALL_CAPABILITIES, counterRandom, EXAMPLES, exampleCluster, type Example } from './helpers.js';

const GOLDEN_DIR = join(import.meta.dirname, 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

function withoutDashboardJson(object: KubeObject): KubeObject {
  if (object.kind !== 'ConfigMap' || !object.metadata.name.endsWith('-dashboards')) return object;
  const data = object.data as Record<string, string>;
  return {
    ...object,
    data: Object.fromEntries(Object.keys(data).map((file) => [file, `dashboards/${file}`])),
  };
}

function goldenText(example: Example): string {
  const cluster = exampleCluster(example);
  const objects = [
    ...generatedSecrets(cluster, counterRandom()),
    ...desiredObjects(cluster, { capabilities: ALL_CAPABILITIES, operatorNamespace: 'dsm-system' }),
  ].map(withoutDashboardJson);
  return (
    `# ${example}.yaml in namespace dsm, uid set, every capability, operator in dsm-system (golden.test.ts).\n` +
    manifestsYaml(objects)
  );
}

describe('golden manifests', () => {
  it.each(EXAMPLES)('%s equals test/golden/%s.yaml', (example) => {
    const file = join(GOLDEN_DIR, `${example}.yaml`);
    const text = goldenText(example);
    if (update) writeFileSync(file, text);
    expect(text).toBe(readFileSync(file, 'utf8'));
  });
});
