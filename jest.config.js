// One jest run over every workspace: unit tests sit next to the code (src/**/*.test.ts),
// integration tests in each package's test/. TypeScript is compiled by swc in native ESM mode.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'es6' },
  },
];

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    // The two top-level packages (architecture.md's layout) before the workloads/ pattern.
    '^@dsm/(cdk8s|operator)$': '<rootDir>/$1/src/index.ts',
    '^@dsm/(cdk8s|operator)/([a-z-]+)$': '<rootDir>/$1/src/$2.ts',
    '^@dsm/([a-z-]+)$': '<rootDir>/workloads/$1/src/index.ts',
    // Subpath exports (`@dsm/runtime/config`) map to the module of that name in src/.
    '^@dsm/([a-z-]+)/([a-z-]+)$': '<rootDir>/workloads/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: [
    '<rootDir>/workloads/*/src/**/*.test.ts',
    '<rootDir>/workloads/*/test/**/*.test.ts',
    // compose/.env.example and the compose file's facts (no Docker: e2e/ runs the stack).
    '<rootDir>/compose/test/*.test.ts',
    '<rootDir>/cdk8s/src/**/*.test.ts',
    '<rootDir>/cdk8s/test/**/*.test.ts',
    '<rootDir>/operator/src/**/*.test.ts',
    // operator/test/cluster/ needs a kube-apiserver: `npm run test:cluster` (e2e/cluster/jest.config.js).
    '<rootDir>/operator/test/unit/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 30000,
};
