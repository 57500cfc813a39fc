export {
  ConfigError,
  loadConfig,
  parseConfigValue,
  readSecretFile,
  readSecretFromEnv,
  saveConfigChanges,
  writeFileAtomic,
  type ConfigProblem,
  type ConfigSources,
  type DeepPartial,
  type Env,
  type EnvNames,
} from './config.js';
export {
  LOG_LEVELS,
  REDACTED,
  createLogger,
  logLevelSchema,
  redactSecrets,
  redactUrl,
  setLogLevel,
  type LogLevel,
  type Logger,
  type LoggerOptions,
} from './log.js';
export {
  Counter,
  Gauge,
  HTTP_DURATION_BUCKETS,
  HTTP_REQUEST_DURATION,
  Histogram,
  Registry,
  createMetricsRegistry,
  httpRequestDuration,
  type HttpDurationLabels,
  type MetricsOptions,
} from './metrics.js';
export { DAG_CBOR, DAG_JSON } from './media.js';
export { codeForHttpStatus, httpStatusFor, isKnownErrorCode } from './status.js';
export {
  DEFAULT_RAW_LIMIT,
  createHttpApp,
  errorBody,
  jsonBody,
  rawBody,
  requestBytes,
  sendObject,
  serve,
  toDsmError,
  type ErrorBody,
  type HttpApp,
  type HttpAppOptions,
  type RawBodyOptions,
  type RequestLogOptions,
  type ServeOptions,
  type ServerHandle,
} from './http.js';
export { Batcher, type BatcherOptions, type Settled } from './batcher.js';
export { booleanParam, intParam, parseParams, u64Param, type IntParamOptions } from './params.js';
export { Readiness, type ReadinessCheck, type ReadinessReport } from './readiness.js';
export { adminAuth, type AdminAuthOptions } from './auth.js';
export { key, keyPrefix, prefixUpperBound, readU64be, u64be } from './keys.js';
export {
  Store,
  WriteBatch,
  type Entry,
  type Reader,
  type Snapshot,
  type RangeOptions,
  type StoreOptions,
  type WriteOptions,
} from './store.js';
export {
  HttpClient,
  parseErrorBody,
  type ClientOptions,
  type ClientResponse,
  type RequestOptions,
  type ResponseKind,
} from './client.js';
export { GracefulShutdown, type Closer, type ShutdownOptions } from './shutdown.js';
export { KeyedLocks } from './locks.js';
export { isHostPort, parseHostPort } from './address.js';
export { BoundedMap } from './bounded-map.js';
export {
  adminConfigRoutes,
  adminGuard,
  runService,
  type AdminConfigOptions,
  type RunningService,
} from './service.js';
export { limitedFetch } from './limited-fetch.js';
export { backupMetrics, type BackupMetrics } from './backup-metrics.js';
export {
  STORE_SNAPSHOT_FORMAT,
  decodeStoreSnapshotManifest,
  discardUnfinishedRestore,
  isEmptyStore,
  restoreStoreSnapshot,
  storeSnapshot,
  type StoreSnapshotManifest,
} from './store-snapshot.js';
export { sendBackup, snapshotRoute, type Outgoing } from './backup-stream.js';
export { prepareStore } from './restore-at-start.js';
