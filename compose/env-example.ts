/**
 * compose/.env.example, generated from the services' config schemas: every variable docker-compose.yml reads,
 * with its default and what it does. `npm run generate` writes it (scripts/generate.mjs);
 * compose/test/env-example.test.ts fails when the committed copy is stale or when docker-compose.yml and this
 * list disagree. Runs under Node's type stripping as well as tsc: package imports only.
 */
import { formOf, kebabCase, settingsOf, type Setting, type SettingForm } from '@dsm/runtime/config';
import type { z } from 'zod';

export type ServiceKind = 'core' | 'storage' | 'bridge';

/** The compose services of each kind. */
export const SERVICES: Readonly<Record<ServiceKind, readonly string[]>> = {
  core: ['dsm-core'],
  storage: ['dsm-storage-primary', 'dsm-storage-replica', 'dsm-storage-extra'],
  bridge: ['dsm-ethereum-bridge'],
};

/**
 * Settings docker-compose.yml sets itself (or leaves to the image): the wiring of the stack (listen addresses,
 * ports inside its networks, the volumes' folders, peers, secret files). Every other setting of a service
 * is passed through from the environment or .env as `NAME: ${NAME:-default}`.
 */
export const WIRED: Readonly<Record<ServiceKind, readonly string[]>> = {
  core: [
    'host',
    'apiPort',
    'p2pPort',
    'dataDir',
    'configDir',
    'policiesDir',
    'storageNodes',
    // compose runs one core node: its peer list is wiring, like its storage nodes.
    'corePeers',
    'keystoreKeyFile',
    'adminTokenFile',
    'apiTokenFile',
  ],
  storage: [
    'nodeId',
    'role',
    'host',
    'port',
    'advertise',
    'dataDir',
    'configDir',
    'syncWith',
    'connectPeers',
    'notify',
    'adminTokenFile',
    'peerTokenFile',
  ],
  bridge: [
    'host',
    'port',
    'dataDir',
    'configDir',
    'dsmNode',
    'storageNodes',
    'ethereumRpcFile',
    'dsmKeyFile',
    'evmKeyFile',
    'attesterKeyFiles',
    'adminTokenFile',
  ],
};

/** Where the compose stack's default differs from the service's own (the dev chain). */
export const COMPOSE_DEFAULTS: Readonly<Record<ServiceKind, Readonly<Record<string, string>>>> = {
  core: {},
  storage: {},
  bridge: { ethereumRpc: 'http://evm-devchain:8545', chainId: '31337' },
};

/** What the docs say where a setting has no default in compose either. */
const COMPOSE_DEFAULT_DOCS: Readonly<Record<ServiceKind, Readonly<Record<string, string>>>> = {
  core: {},
  storage: {},
  bridge: {
    contract: 'the DsmBridge that compose/dev-chain/bridge.mjs deploys on the dev chain',
    fromBlock: "that deployment's block",
  },
};

export interface ComposeVariable {
  name: string;
  default: string;
  description: string;
}

/** The variables of docker-compose.yml itself (not settings of a service). */
export const COMPOSE_VARIABLES: readonly ComposeVariable[] = [
  {
    name: 'COMPOSE_PROFILES',
    default: '',
    description:
      'Profiles `docker compose up` starts besides the DSM services: monitoring (Prometheus, Grafana), extra (dsm-storage-extra), backup (dsm-backup, a one-off CLI)',
  },
  {
    name: 'COMPOSE_PROJECT_NAME',
    default: 'dsm',
    description:
      "Prefix of the containers, networks and volumes (without it: the folder's name, compose; keep one name for one stack)",
  },
  {
    name: 'DSM_PUBLISH_ADDRESS',
    default: '127.0.0.1',
    description: 'Host address the published ports listen on (0.0.0.0: every interface of this machine)',
  },
  { name: 'DSM_PUBLISH_CORE_API', default: '7545', description: "Host port of the core's client API" },
  {
    name: 'DSM_PUBLISH_CORE_P2P',
    default: '8765',
    description: "Host port of the core's P2P, admin and metrics port",
  },
  {
    name: 'DSM_PUBLISH_STORAGE_PRIMARY',
    default: '8766',
    description: "Host port of dsm-storage-primary's API (8765 inside)",
  },
  {
    name: 'DSM_PUBLISH_STORAGE_REPLICA',
    default: '8767',
    description: "Host port of dsm-storage-replica's API (8765 inside)",
  },
  { name: 'DSM_PUBLISH_BRIDGE', default: '8768', description: "Host port of the bridge's API" },
  { name: 'DSM_PUBLISH_EVM', default: '8545', description: "Host port of the EVM dev chain's JSON-RPC" },
  { name: 'DSM_PUBLISH_PROMETHEUS', default: '9090', description: 'Host port of Prometheus' },
  { name: 'DSM_PUBLISH_GRAFANA', default: '3000', description: 'Host port of Grafana' },
  {
    name: 'DSM_IMAGE_TAG',
    default: 'local',
    description: 'Tag of the images `docker compose build` makes and runs',
  },
  {
    name: 'DSM_REVISION',
    default: 'unknown',
    description: 'The images\' org.opencontainers.image.revision label (e.g. "$(git rev-parse HEAD)")',
  },
  {
    name: 'DSM_CORE_CPUS',
    default: '2',
    description: 'CPU limit of dsm-core (at most the CPUs of this machine)',
  },
  { name: 'DSM_CORE_MEMORY', default: '2g', description: 'Memory limit of dsm-core' },
  { name: 'DSM_STORAGE_CPUS', default: '1', description: 'CPU limit of each storage node' },
  { name: 'DSM_STORAGE_MEMORY', default: '1g', description: 'Memory limit of each storage node' },
  { name: 'DSM_BRIDGE_CPUS', default: '1', description: 'CPU limit of dsm-ethereum-bridge' },
  { name: 'DSM_BRIDGE_MEMORY', default: '1g', description: 'Memory limit of dsm-ethereum-bridge' },
  {
    name: 'DSM_BACKUP_DIR',
    default: './backups',
    description:
      'Host folder of backups: dsm-backup writes there, the services read it at /backups (DSM_*_RESTORE_FROM)',
  },
  { name: 'DSM_BACKUP_CPUS', default: '1', description: 'CPU limit of dsm-backup' },
  { name: 'DSM_BACKUP_MEMORY', default: '512m', description: 'Memory limit of dsm-backup' },
  { name: 'DSM_EVM_CPUS', default: '1', description: 'CPU limit of the EVM dev chain' },
  { name: 'DSM_EVM_MEMORY', default: '1g', description: 'Memory limit of the EVM dev chain' },
  { name: 'PROMETHEUS_CPUS', default: '1', description: 'CPU limit of Prometheus' },
  { name: 'PROMETHEUS_MEMORY', default: '1g', description: 'Memory limit of Prometheus' },
  { name: 'GRAFANA_CPUS', default: '0.5', description: 'CPU limit of Grafana' },
  { name: 'GRAFANA_MEMORY', default: '512m', description: 'Memory limit of Grafana' },
];

export type Schemas = Readonly<Record<ServiceKind, z.ZodObject>>;

/** A service setting that .env may set. */
export interface Tunable {
  kind: ServiceKind;
  setting: Setting;
  /** The value the compose file falls back to (`${NAME:-value}`); '' leaves the service's own default. */
  composeDefault: string;
}

/** The settings of each kind that docker-compose.yml passes through, in schema order. */
export function tunables(schemas: Schemas): Tunable[] {
  return (Object.keys(SERVICES) as ServiceKind[]).flatMap((kind) =>
    settingsOf(schemas[kind])
      .filter((s) => !WIRED[kind].includes(s.key))
      .map((setting) => ({ kind, setting, composeDefault: COMPOSE_DEFAULTS[kind][setting.key] ?? '' })),
  );
}

const KIND_TITLES: Readonly<Record<ServiceKind, string>> = {
  core: 'dsm-core',
  storage: 'the storage nodes (dsm-storage-primary, dsm-storage-replica, dsm-storage-extra)',
  bridge: 'dsm-ethereum-bridge',
};

function valueText(kind: ServiceKind, setting: Setting, composeDefault: string): string {
  if (composeDefault !== '') return composeDefault;
  if (COMPOSE_DEFAULT_DOCS[kind][setting.key] !== undefined) return '';
  if (setting.default === undefined) return '';
  return Array.isArray(setting.default) ? setting.default.join(',') : String(setting.default);
}

function formText(form: SettingForm): string {
  switch (form.kind) {
    case 'integer':
    case 'number': {
      const what = form.kind === 'integer' ? 'An integer' : 'A number';
      if (form.minimum !== undefined && form.maximum !== undefined)
        return `${what} from ${form.minimum} to ${form.maximum}`;
      return what;
    }
    case 'boolean':
      return 'True or false';
    case 'enum':
      return `One of ${form.values.join(', ')}`;
    case 'string':
      return 'Text';
    case 'list':
      return 'A comma-separated list';
    case 'object':
      return 'A JSON object';
  }
}

/** How a run-time setting is changed without a restart: the CLI for the core and storage nodes. */
function runtimeText(kind: ServiceKind, setting: Setting): string {
  return kind === 'bridge'
    ? "Also at run time, through the bridge's admin API (PUT /v1/admin/config)."
    : `Also at run time: cli config set --${kebabCase(setting.key)}.`;
}

function wrap(text: string, width = 110): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

function entry(name: string, value: string, description: string): string[] {
  return [...wrap(description), `# ${name}=${value}`];
}

export function renderEnvExample(schemas: Schemas): string {
  const all = tunables(schemas);
  // A variable several kinds read (DSM_LOG_LEVEL) is listed once, under the first, naming the others.
  const kindsOf = new Map<string, ServiceKind[]>();
  for (const t of all) kindsOf.set(t.setting.env, [...(kindsOf.get(t.setting.env) ?? []), t.kind]);
  const out: string[] = [
    '# Every variable compose/docker-compose.yml reads, with its default: copy this file to compose/.env and',
    '# uncomment what you change (or set them in the environment of `docker compose`). Unset or empty, a',
    "# variable leaves the default shown. Generated from the services' config schemas (compose/env-example.ts,",
    '# `npm run generate`); the compose file sets the wiring itself (addresses, ports inside its networks,',
    '# folders, peers, secret files: `npm run compose:init` makes those).',
    '',
    '## The stack',
    '',
  ];
  for (const v of COMPOSE_VARIABLES) out.push(...entry(v.name, v.default, v.description), '');
  const listed = new Set<string>();
  for (const kind of Object.keys(SERVICES) as ServiceKind[]) {
    out.push(`## ${KIND_TITLES[kind]}`, '');
    for (const t of all.filter((x) => x.kind === kind)) {
      const { setting } = t;
      if (listed.has(setting.env)) continue;
      listed.add(setting.env);
      const others = (kindsOf.get(setting.env) ?? []).filter((k) => k !== kind);
      const defaultDoc = COMPOSE_DEFAULT_DOCS[kind][setting.key];
      const parts = [
        `${setting.description}.`,
        `${setting.secretFile ? 'A file path' : formText(formOf(setting.schema))}.`,
        ...(defaultDoc !== undefined ? [`Default when unset: ${defaultDoc}.`] : []),
        ...(defaultDoc === undefined && setting.defaultDoc !== undefined && t.composeDefault === ''
          ? [`Default: ${setting.defaultDoc}.`]
          : []),
        ...(setting.runtime ? [runtimeText(kind, setting)] : []),
        ...(others.length > 0 ? [`Read by ${others.map((k) => KIND_TITLES[k]).join(' and ')} too.`] : []),
      ];
      out.push(...entry(setting.env, valueText(kind, setting, t.composeDefault), parts.join(' ')), '');
    }
  }
  return out.join('\n');
}
