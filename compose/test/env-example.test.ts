/**
 * compose/.env.example is generated from the services' config schemas (compose/env-example.ts,
 * `npm run generate`) and must match docker-compose.yml: every variable the compose file reads is listed,
 * every setting of a service that the compose file does not wire itself is passed through to every container
 * of that service with the listed default, and nothing a service does not know is set on it.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bridgeConfigSchema } from '@dsm/bridge/config';
import { coreConfigSchema } from '@dsm/core/config';
import { settingsOf } from '@dsm/runtime/config';
import { storageConfigSchema } from '@dsm/storage/config';
import { parse } from 'yaml';
import {
  COMPOSE_VARIABLES,
  SERVICES,
  WIRED,
  renderEnvExample,
  tunables,
  type ServiceKind,
} from '../env-example.js';

const dir = join(import.meta.dirname, '..');
const schemas = { core: coreConfigSchema, storage: storageConfigSchema, bridge: bridgeConfigSchema };
const composeText = readFileSync(join(dir, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, { environment?: Record<string, string | number> }>;
};
const kinds = Object.keys(SERVICES) as ServiceKind[];

/** Environment variables the images' CLI reads (it runs in the containers too), and the dev-chain start. */
const CLI_ENV: Readonly<Record<ServiceKind, readonly string[]>> = {
  core: ['DSM_BRIDGE_URL', 'DSM_EVM_RPC'],
  storage: [],
  bridge: ['DSM_DEV_CHAIN_DEPLOYER_KEY_FILE'],
};

describe('compose/.env.example', () => {
  it('is what the config schemas make (npm run generate rewrites it)', () => {
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toBe(renderEnvExample(schemas));
  });

  it('lists every variable docker-compose.yml reads, and only those', () => {
    const read = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    const listed = new Set([
      ...COMPOSE_VARIABLES.map((v) => v.name),
      ...tunables(schemas).map((t) => t.setting.env),
    ]);
    // Compose reads these itself.
    listed.delete('COMPOSE_PROFILES');
    listed.delete('COMPOSE_PROJECT_NAME');
    expect([...read].sort()).toEqual([...listed].sort());
  });

  it('names only settings that exist', () => {
    for (const kind of kinds) {
      const keys = settingsOf(schemas[kind]).map((s) => s.key);
      for (const key of WIRED[kind]) expect(keys).toContain(key);
    }
  });
});

describe('docker-compose.yml passes the settings of each service', () => {
  for (const kind of kinds) {
    for (const service of SERVICES[kind]) {
      it(`${service}: every setting not wired by the file, with the listed default`, () => {
        const environment = compose.services[service]?.environment;
        expect(environment).toBeDefined();
        for (const t of tunables(schemas).filter((x) => x.kind === kind)) {
          expect([t.setting.env, environment?.[t.setting.env]]).toEqual([
            t.setting.env,
            `\${${t.setting.env}:-${t.composeDefault}}`,
          ]);
        }
      });

      it(`${service}: nothing its schema does not know`, () => {
        const known = new Set([...settingsOf(schemas[kind]).map((s) => s.env), ...CLI_ENV[kind]]);
        const unknown = Object.keys(compose.services[service]?.environment ?? {}).filter(
          (n) => !known.has(n),
        );
        expect(unknown).toEqual([]);
      });

      it(`${service}: the wiring is fixed by the file, not read from .env`, () => {
        const environment = compose.services[service]?.environment ?? {};
        const wired = settingsOf(schemas[kind]).filter((s) => WIRED[kind].includes(s.key));
        for (const s of wired) {
          const value = environment[s.env];
          if (value !== undefined) expect([s.env, String(value).includes('${')]).toEqual([s.env, false]);
        }
      });
    }
  }
});
