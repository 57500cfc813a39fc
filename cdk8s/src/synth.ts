#!/usr/bin/env node
/**
 * `npm run synth -- <dsmcluster.yaml> [--out <file or dir>] [--namespace <ns>] [--service-monitor]
 * [--prometheus-rule]`: the static manifests of a DSMCluster, for users who do not run the operator.
 * Secrets are generated afresh at every run: apply the output once, then keep the Secrets (or name your own
 * in spec.secrets).
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterFileError, manifestsYaml, parseClusterYaml, staticManifests } from './manifests.js';

const USAGE =
  'usage: npm run synth -- <dsmcluster.yaml> [--out <file.yaml or dir>] [--namespace <ns>] ' +
  '[--service-monitor] [--prometheus-rule]';

function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        namespace: { type: 'string', short: 'n' },
        'service-monitor': { type: 'boolean', default: false },
        'prometheus-rule': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const file = positionals[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    console.error(`${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  try {
    const cluster = parseClusterYaml(text, file, values.namespace);
    const yaml = manifestsYaml(
      staticManifests(cluster, {
        capabilities: {
          serviceMonitor: values['service-monitor'],
          prometheusRule: values['prometheus-rule'],
        },
      }),
    );
    if (values.out === undefined) {
      process.stdout.write(yaml);
      return 0;
    }
    const target = /\.ya?ml$/.test(values.out)
      ? values.out
      : join(values.out, `${cluster.metadata.name}.yaml`);
    if (target !== values.out) mkdirSync(values.out, { recursive: true });
    else if (statSync(values.out, { throwIfNoEntry: false })?.isDirectory()) {
      console.error(`${values.out} is a directory`);
      return 1;
    }
    writeFileSync(target, yaml, { mode: 0o600 });
    console.error(`wrote ${target} (it holds generated Secrets: keep it private)`);
    return 0;
  } catch (err) {
    if (err instanceof ClusterFileError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

process.exitCode = main(process.argv.slice(2));
