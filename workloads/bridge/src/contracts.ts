// `@dsm/bridge/contracts`: the EVM contracts' generated bindings (scripts/generate.mjs) and how they carry DSM
// ids, without the service (no RocksDB, no express): what the CLI and tests import.
export * from './generated/dsm-bridge.js';
export * from './generated/wrapped-dsm-token.js';
export { DSM_ID_PREFIX_HEX, dsmIdDigest, dsmIdFromDigest } from './dsm-id.js';
