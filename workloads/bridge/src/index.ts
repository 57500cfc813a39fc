// @dsm/bridge: the bridge service (port 8768), its configuration, and the EVM contracts' bindings.
export * from './contracts.js';
export * from './config.js';
export { startBridgeNode, type BridgeNode } from './node.js';
export { bridgeIdentity, parseBridgeSeed, formatBridgeSeed } from './identity.js';
export { depositMemo, parseDepositMemo, releaseMemo, refundMemo } from './steps/memo.js';
