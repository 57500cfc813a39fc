/**
 * What the deployment guide promises of the compose stack and its images, read from docker-compose.yml and
 * the Dockerfile (no Docker here: e2e/compose.test.ts runs the stack, e2e/images.test.ts the images): the
 * services, ports and volumes it names, the hardening list, health checks gating start-up, storage on an
 * internal network, secrets as files, the monitoring mounts, and image labels that follow the packages.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  profiles?: string[];
  user?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number>;
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  networks?: string[];
  deploy?: { resources: { limits: { cpus: string; memory: string } } };
  logging?: { driver: string; options: Record<string, string> };
}
const compose = parse(read('compose/docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean }>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
};
const services = compose.services;
const DSM = [
  'dsm-core',
  'dsm-storage-primary',
  'dsm-storage-replica',
  'dsm-storage-extra',
  'dsm-ethereum-bridge',
  'evm-devchain',
];
const STORAGE = ['dsm-storage-primary', 'dsm-storage-replica', 'dsm-storage-extra'];
/** The backups folder, read-only where services restore from it at start-up. */
const BACKUPS = '${DSM_BACKUP_DIR:-./backups}:/backups:ro';
/** `${DSM_PUBLISH_ADDRESS:-127.0.0.1}:${VAR:-host}:container` → [host, container]. */
const published = (service: string) =>
  (services[service]?.ports ?? []).map((p) => {
    const m = /^\$\{DSM_PUBLISH_ADDRESS:-127\.0\.0\.1\}:\$\{DSM_PUBLISH_[A-Z0-9_]+:-(\d+)\}:(\d+)$/.exec(p);
    expect([p, m !== null]).toEqual([p, true]);
    return [Number(m?.[1]), Number(m?.[2])];
  });

describe('compose/docker-compose.yml', () => {
  it('has the services of the guide, the dev chain and the extra storage node', () => {
    expect(Object.keys(services).sort()).toEqual([...DSM, 'dsm-backup', 'grafana', 'prometheus'].sort());
  });

  it('runs backups as a one-off CLI container with the admin token, hardened like the services', () => {
    const s = services['dsm-backup'] as Service & Record<string, unknown>;
    expect(s.profiles).toEqual(['backup']);
    expect(s.entrypoint).toEqual(['/usr/local/bin/cli']);
    expect(s.secrets).toEqual(['admin-token']);
    expect(s.volumes).toEqual(['${DSM_BACKUP_DIR:-./backups}:/backups']);
    expect([s.user, s.read_only, s.cap_drop, s.security_opt]).toEqual([
      '1000:1000',
      true,
      ['ALL'],
      ['no-new-privileges:true'],
    ]);
    expect(s.ports).toBeUndefined();
  });

  it("publishes the guide's default ports (on 127.0.0.1 unless DSM_PUBLISH_ADDRESS says otherwise)", () => {
    expect(published('dsm-core')).toEqual([
      [7545, 7545],
      [8765, 8765],
    ]);
    expect(published('dsm-storage-primary')).toEqual([[8766, 8765]]);
    expect(published('dsm-storage-replica')).toEqual([[8767, 8765]]);
    expect(published('dsm-ethereum-bridge')).toEqual([[8768, 8768]]);
    expect(published('prometheus')).toEqual([[9090, 9090]]);
    expect(published('grafana')).toEqual([[3000, 3000]]);
  });

  it("keeps each service's data in named volumes at the paths of the config schemas", () => {
    expect(services['dsm-core']?.volumes).toEqual([
      'dsm-core-data:/var/lib/dsm/data',
      'dsm-core-config:/var/lib/dsm/config',
      'dsm-core-policies:/var/lib/dsm/policies',
      BACKUPS,
    ]);
    for (const name of STORAGE) {
      const short = name.replace(/^dsm-/, '');
      expect(services[name]?.volumes).toEqual([
        `dsm-${short}-data:/var/lib/dsm-storage/data`,
        `dsm-${short}-config:/var/lib/dsm-storage/config`,
        BACKUPS,
      ]);
    }
    expect(services['dsm-ethereum-bridge']?.volumes).toEqual([
      'dsm-bridge-data:/var/lib/dsm-bridge/data',
      'dsm-bridge-config:/var/lib/dsm-bridge/config',
      BACKUPS,
    ]);
    const used = Object.values(services).flatMap((s) =>
      (s.volumes ?? [])
        .filter((v) => v !== BACKUPS && !v.startsWith('${DSM_BACKUP_DIR'))
        .map((v) => v.split(':')[0] ?? '')
        .filter((v) => !v.startsWith('.')),
    );
    expect([...new Set(used)].sort()).toEqual(Object.keys(compose.volumes).sort());
  });

  for (const name of DSM) {
    it(`${name}: non-root, read-only root, no capabilities, no new privileges, limits, capped logs, health check`, () => {
      const s = services[name] as Service;
      expect(s.user).toBe('1000:1000');
      expect(s.read_only).toBe(true);
      expect(s.tmpfs?.every((t) => t.startsWith('/tmp:size='))).toBe(true);
      expect(s.cap_drop).toEqual(['ALL']);
      expect(s.security_opt).toEqual(['no-new-privileges:true']);
      expect(s.deploy?.resources.limits.cpus).toMatch(/^\$\{DSM_[A-Z]+_CPUS:-[\d.]+\}$/);
      expect(s.deploy?.resources.limits.memory).toMatch(/^\$\{DSM_[A-Z]+_MEMORY:-\d+[mg]\}$/);
      expect(s.logging?.options['max-size']).toBeDefined();
      expect(s.healthcheck?.test[0]).toBe('CMD');
    });
  }

  it('health-checks the DSM services through the CLI of their image', () => {
    for (const name of DSM.filter((n) => n !== 'evm-devchain')) {
      expect(services[name]?.healthcheck?.test.slice(0, 4)).toEqual([
        'CMD',
        '/usr/local/bin/cli',
        'status',
        '--json',
      ]);
    }
  });

  it('starts each service once what it needs is healthy', () => {
    const healthy = (name: string) =>
      Object.fromEntries(
        Object.entries(services[name]?.depends_on ?? {}).map(([dep, d]) => [dep, d.condition]),
      );
    expect(healthy('dsm-core')).toEqual({
      'dsm-storage-primary': 'service_healthy',
      'dsm-storage-replica': 'service_healthy',
    });
    expect(healthy('dsm-ethereum-bridge')).toEqual({
      'dsm-core': 'service_healthy',
      'evm-devchain': 'service_healthy',
    });
    expect(healthy('grafana')).toEqual({ prometheus: 'service_healthy' });
  });

  it('keeps the storage nodes on an internal network that only the core, the bridge and Prometheus join', () => {
    expect(compose.networks.storage?.internal).toBe(true);
    const on = (network: string) =>
      Object.entries(services)
        .filter(([, s]) => s.networks?.includes(network))
        .map(([n]) => n)
        .sort();
    expect(on('storage')).toEqual(
      [...STORAGE, 'dsm-core', 'dsm-ethereum-bridge', 'dsm-backup', 'prometheus'].sort(),
    );
    // The network that carries the two published storage ports holds nothing else.
    expect(on('storage-ports')).toEqual(['dsm-storage-primary', 'dsm-storage-replica']);
    for (const name of STORAGE) expect(services[name]?.networks?.includes('dsm')).toBe(false);
  });

  it('reads every secret from a file of compose/secrets/ and names it in a *_FILE variable', () => {
    const secrets = Object.entries(compose.secrets);
    expect(secrets.map(([name]) => name).sort()).toEqual(
      [
        'admin-token',
        'api-token',
        'keystore-key',
        'storage-peer-token',
        'bridge-dsm-key',
        'bridge-evm-key',
        'evm-deployer-key',
      ].sort(),
    );
    for (const [name, secret] of secrets) expect(secret.file).toBe(`./secrets/${name}`);
    for (const [name, s] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(s.environment ?? {})) {
        const match = /^\/run\/secrets\/(.+)$/.exec(String(value));
        if (match === null) continue;
        expect([name, variable.endsWith('_FILE'), s.secrets?.includes(match[1] as string)]).toEqual([
          name,
          true,
          true,
        ]);
      }
      // No secret in a plain variable: only the *_FILE ones name secrets.
      for (const variable of Object.keys(s.environment ?? {}))
        expect(/TOKEN$|KEY$|PASSWORD$/.test(variable)).toBe(false);
    }
  });

  it('mounts the monitoring configuration read-only and pins the monitoring images', () => {
    expect(services.prometheus?.volumes).toEqual([
      './prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
      './prometheus/rules/:/etc/prometheus/rules/:ro',
      'prometheus-data:/prometheus',
    ]);
    expect(services.grafana?.volumes).toEqual([
      './grafana/provisioning/:/etc/grafana/provisioning/:ro',
      '../dashboards/:/var/lib/grafana/dashboards/:ro',
      'grafana-data:/var/lib/grafana',
    ]);
    expect(services.prometheus?.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(services.grafana?.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    // Left out of a plain `docker compose up` (no registry on our machines): the monitoring profile.
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);
  });

  it('builds each DSM image from its target of the one Dockerfile', () => {
    const targets = Object.fromEntries(
      Object.entries(services)
        .filter(([, s]) => s.build !== undefined)
        .map(([n, s]) => [n, [s.build?.context, s.build?.dockerfile, s.build?.target]]),
    );
    expect(targets).toEqual({
      'dsm-core': ['..', 'Dockerfile', 'core'],
      'dsm-storage-primary': ['..', 'Dockerfile', 'storage'],
      'dsm-ethereum-bridge': ['..', 'Dockerfile', 'bridge'],
      'evm-devchain': ['..', 'Dockerfile', 'evm'],
    });
    // The other storage nodes run the image dsm-storage-primary builds.
    for (const name of STORAGE) expect(services[name]?.image).toBe(services['dsm-storage-primary']?.image);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stage = (target: string) => {
    const start = dockerfile.search(new RegExp(`^FROM \\S+ AS ${target}$`, 'm'));
    expect(start).toBeGreaterThanOrEqual(0);
    const next = dockerfile.slice(start + 1).search(/^FROM /m);
    return next < 0 ? dockerfile.slice(start) : dockerfile.slice(start, start + 1 + next);
  };
  const version = (file: string) => (JSON.parse(read(file)) as { version: string }).version;

  it('starts from the standard Node.js 24 slim base, with no syntax line and no --pull', () => {
    expect(dockerfile.match(/^FROM .*/m)?.[0]).toBe('FROM node:24-bookworm-slim AS base');
    expect(dockerfile).not.toMatch(/^# *syntax=/m);
    expect(dockerfile).not.toMatch(/--pull/);
  });

  it('labels each image with the version of its package', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version: string }> };
    const expected = {
      core: version('workloads/core/package.json'),
      storage: version('workloads/storage/package.json'),
      bridge: version('workloads/bridge/package.json'),
      evm: lock.packages['node_modules/hardhat']?.version,
    };
    for (const [target, v] of Object.entries(expected)) {
      expect([target, /^ARG VERSION=(\S+)$/m.exec(stage(target))?.[1]]).toEqual([target, v]);
    }
  });

  it('runs every image as 1000:1000 and gives npm the proxy CA only as a BuildKit secret', () => {
    expect(stage('runtime')).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).not.toMatch(/^USER (?!1000:1000$)/m);
    expect(dockerfile).not.toMatch(/^(COPY|ADD) .*ca-certificates/m);
    const secretMounts = dockerfile.match(/--mount=type=secret,[^ ]+/g) ?? [];
    expect(secretMounts.length).toBeGreaterThan(0);
    for (const m of secretMounts) expect(m).toBe('--mount=type=secret,id=npm-ca,required=false');
    expect(read('e2e/docker/compose.build-ca.yml')).toMatch(
      /npm-ca:\n\s+file: \/etc\/ssl\/certs\/ca-certificates\.crt/,
    );
  });
});
