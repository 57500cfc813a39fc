// @dsm/bridge: for now the EVM contracts' generated bindings (scripts/generate.mjs); the service comes next.
export * from './generated/dsm-bridge.js';
export * from './generated/wrapped-dsm-token.js';
export { DSM_ID_PREFIX_HEX, dsmIdDigest } from './dsm-id.js';
