export { createProgram, run, VERSION } from './program.js';
export {
  Context,
  contextOf,
  DEFAULT_ADMIN_URL,
  DEFAULT_URL,
  type GlobalOptions,
  type Io,
} from './context.js';
export * from './amount.js';
export * from './client.js';
export * from './errors.js';
export * from './idempotency.js';
export * from './options.js';
export * from './output.js';
export * from './policy-file.js';
export * from './progress.js';
export * from './units.js';
