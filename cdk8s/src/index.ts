export * from './api/cluster.js';
export * from './api/names.js';
export * from './api/spec.js';
export * from './api/status.js';
export { CRD_NAME, clusterSchema, crdYaml, dsmClusterCrd, specSchema, statusSchema } from './crd.js';
export {
  desiredObjects,
  generatedSecrets,
  secretRefs,
  type DerivedSecrets,
  type DesiredOptions,
  type KubeObject,
  type OwnerReference,
  type SecretRefs,
} from './desired.js';
export { labelsOf, ownerReference, selectorOf, selectorString } from './context.js';
export { corePeers, storagePeers } from './settings.js';
export { podSecurityProblems } from './pss.js';
export { structuralProblems } from './schema/structural-check.js';
