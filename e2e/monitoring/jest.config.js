// `npm run test:e2e:monitoring`: the suites of e2e/monitoring with the repository's jest setup (swc, ESM,
// the @dsm/* mappings), one file at a time (the first may install Debian's prometheus package).
import base from '../../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/e2e/monitoring/**/*.test.ts'],
  testTimeout: 60_000,
};
