// `npm run test:e2e`: the compose stack and the images, built and run on a real Docker engine
// (e2e/docker/prepare.sh installs and starts what they need first). One file at a time: they share the engine,
// the images and the published ports.
import base from '../jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  rootDir: '..',
  testMatch: ['<rootDir>/e2e/*.test.ts'],
  maxWorkers: 1,
  testTimeout: 900_000,
  slowTestThreshold: 600,
};
