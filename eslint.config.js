import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Which of our packages each file may import (docs/architecture.md, "Data flows one way"):
// protocol ← runtime ← api ← services ← cli. Every package may name itself (its bench/ runs against its
// own build). workloads/testkit/test/boundaries.test.ts proves each rule fires.
const FLOW = 'data flows one way: protocol ← runtime ← api ← services ← cli (docs/architecture.md)';
const SERVICES = ['core', 'storage', 'bridge'];
const packages = (names) => `(${names.join('|')})(/|$)`;
const TESTKIT_IN_SRC = {
  regex: `^@dsm/${packages(['testkit'])}`,
  message: 'shipped code (src/) never imports the test harness @dsm/testkit: only test/ and bench/ do',
};

/** Files matching `files` import, of ours, only the `allowed` packages (`extra`: patterns checked as well). */
function importsOnly(files, allowed, why, extra = []) {
  const others = { regex: `^@dsm/(?!${packages(allowed)})`, message: `${why}; ${FLOW}` };
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [...extra, others] }] } };
}

/** Files matching `files` import, of ours, only what `allowed` (a regex of the part after `@dsm/`) matches. */
function importsMatching(files, allowed, why) {
  const others = { regex: `^@dsm/(?!${allowed})`, message: `${why}; ${FLOW}` };
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [others] }] } };
}

// One block per file for this rule (a later block replaces an earlier one's options): src/ after the package.
const boundaries = [
  importsOnly(['workloads/protocol/**'], ['protocol'], '@dsm/protocol imports nothing of ours'),
  importsOnly(['workloads/runtime/**'], ['protocol', 'runtime'], '@dsm/runtime imports only @dsm/protocol'),
  importsOnly(
    ['workloads/api/**'],
    ['protocol', 'runtime', 'api'],
    '@dsm/api imports only protocol and runtime',
  ),
  ...SERVICES.flatMap((service) => {
    const why =
      'a service imports only @dsm/protocol, @dsm/runtime and @dsm/api: services never import each other, they talk over HTTP through the clients of @dsm/api';
    const allowed = ['protocol', 'runtime', 'api', service, 'testkit'];
    return [
      importsOnly([`workloads/${service}/**`], allowed, why),
      importsOnly([`workloads/${service}/src/**`], allowed, why, [TESTKIT_IN_SRC]),
      // Unit tests next to the code are not shipped: they may use the harness.
      importsOnly([`workloads/${service}/src/**/*.test.ts`], allowed, why),
    ];
  }),
  {
    files: ['workloads/cli/src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [TESTKIT_IN_SRC] }] },
  },
  // cdk8s ← operator: the constructs read the services' settings schemas (their `/config` subpaths: no
  // RocksDB, no express) and the dashboards, nothing that runs a service.
  importsMatching(
    ['cdk8s/**'],
    '(runtime|core|storage|bridge)/config$|dashboards$|cdk8s(/|$)',
    '@dsm/cdk8s imports only the config schemas (@dsm/{runtime,core,storage,bridge}/config) and @dsm/dashboards',
  ),
  importsOnly(
    ['operator/**'],
    ['cdk8s', 'runtime', 'api', 'operator'],
    '@dsm/operator imports only @dsm/cdk8s, @dsm/runtime (and its subpaths) and @dsm/api',
  ),
  // Its cluster tests and benchmark run real storage nodes from the harness; shipped code does not.
  importsOnly(
    ['operator/test/**', 'operator/bench/**'],
    ['cdk8s', 'runtime', 'api', 'operator', 'testkit'],
    '@dsm/operator imports only @dsm/cdk8s, @dsm/runtime and @dsm/api (its tests and bench also @dsm/testkit)',
  ),
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'workloads/*/src/**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...boundaries,
);
