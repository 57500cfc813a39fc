// `npm run test:cluster`: the operator, its CRD and its Helm chart against a real kube-apiserver,
// etcd and kube-controller-manager on loopback (global-setup.ts starts them through up.sh once per run).
// One file at a time: they share the control plane (each test file works in namespaces of its own).
import base from '../../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  rootDir: '../..',
  testMatch: [
    '<rootDir>/e2e/cluster/*.test.ts',
    '<rootDir>/operator/test/cluster/**/*.test.ts',
    '<rootDir>/charts/*/test/*.test.ts',
  ],
  globalSetup: '<rootDir>/e2e/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/e2e/cluster/global-teardown.ts',
  maxWorkers: 1,
  testTimeout: 300_000,
  slowTestThreshold: 120,
};
