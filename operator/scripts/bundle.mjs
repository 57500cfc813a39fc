#!/usr/bin/env node
/**
 * Bundles the compiled operator (dist/main.js) into one file, dist/bundle/dsm-operator.mjs: what the image
 * runs, the tests run as a pod would, and the benchmark measures. What a process loads is what it keeps
 * resident: the operator through node_modules loads all of client-node (every generated API and model,
 * ~60 MiB of RSS) for the few parts it calls. The bundle keeps only the code reachable from main.js.
 * Usage: node operator/scripts/bundle.mjs   (after `tsc -b`; the root build runs it)
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const operator = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = join(operator, 'dist/bundle/dsm-operator.mjs');

/**
 * client-node's modules do nothing when imported but define things (its package.json does not say so), so
 * the ones main.js never reaches can be left out. polyfill.js is the exception: it sets a global.
 */
const clientNodeSideEffectFree = {
  name: 'client-node-side-effect-free',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'resolved') return undefined;
      const fromClientNode = args.importer.includes('/node_modules/@kubernetes/client-node/');
      if (!fromClientNode && !args.path.startsWith('@kubernetes/client-node')) return undefined;
      const result = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'resolved',
      });
      const inPackage = result.path.includes('/node_modules/@kubernetes/client-node/dist/');
      if (!inPackage || result.path.endsWith('/polyfill.js')) return result;
      return { ...result, sideEffects: false };
    });
  },
};

/** @dsm/api reads its version from its package.json next to it at run time; the bundle has no such file. */
const inlineApiVersion = {
  name: 'inline-api-version',
  setup(build) {
    build.onLoad({ filter: /[/\\]workloads[/\\]api[/\\]dist[/\\]version\.js$/ }, (args) => {
      const pkg = JSON.parse(readFileSync(join(dirname(args.path), '../package.json'), 'utf8'));
      return { contents: `export const VERSION = ${JSON.stringify(pkg.version)};`, loader: 'js' };
    });
  },
};

export async function bundle() {
  await esbuild.build({
    entryPoints: [join(operator, 'dist/main.js')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Whitespace and syntax only: names stay, so stack traces and class names in logs still read.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies bundled into an ES module still call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __dsmCreateRequire } from 'node:module'; const require = __dsmCreateRequire(import.meta.url);",
    },
    plugins: [clientNodeSideEffectFree, inlineApiVersion],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
