export * from './bodies.js';
export {
  DETAILS,
  ErrorBody,
  ErrorCode,
  ErrorDetails,
  isMissingDependency,
  isPolicyViolation,
  isRefusal,
  MISSING_DEPENDENCY,
} from './errors.js';
export {
  adminRoutes,
  CBOR,
  commonRoutes,
  coreP2pRoutes,
  coreRoutes,
  DAG,
  params,
  pathOf,
  storageRoutes,
  type Route,
} from './routes.js';
export { documentText, openApiDocument, serviceDocuments, type ServiceInfo } from './openapi.js';
export {
  AdminApi,
  call,
  CoreApi,
  StorageApi,
  type Accepted,
  type Balance,
  type CallArgs,
  type ChainPage,
  type CreateTokenBody,
  type Forks,
  type Head,
  type HostedIdentity,
  type IdentityDetails,
  type InboxEntry,
  type Peer,
  type PeerChange,
  type ReceivedAll,
  type Status,
  type TokenInfo,
  type TokenRecord,
  type TransferEntry,
  type WriteAck,
} from './clients.js';
export { VERSION } from './version.js';
