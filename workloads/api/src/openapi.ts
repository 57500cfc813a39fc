/**
 * OpenAPI 3.1 documents generated from the route tables: what each service serves at `/openapi.json`
 * and what is committed under `workloads/api/openapi/` (a test fails when a committed one is stale).
 * Pure: the same tables give the same document, byte for byte.
 */
import { z } from 'zod';
import { CAR_MEDIA_TYPE } from './backup.js';
import { namedBodies } from './bodies.js';
import {
  adminRoutes,
  bridgeRoutes,
  CAR,
  CBOR,
  commonRoutes,
  coreP2pRoutes,
  coreRoutes,
  DAG,
  snapshotRoutes,
  storageRoutes,
  type Route,
} from './routes.js';

const DAG_CBOR = 'application/vnd.ipld.dag-cbor';
const DAG_JSON = 'application/vnd.ipld.dag-json';

type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/** Points references to named bodies at `components.schemas` and drops what JSON Schema adds per document. */
function rehome(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rehome);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === '$schema' || key === '$id' || key === '$defs') continue;
    out[key] =
      key === '$ref' && typeof field === 'string' ? field.replace(/^#\/\$defs\//, COMPONENTS) : rehome(field);
  }
  return out;
}

/** A named body by reference; anything else inline, with the named bodies inside it by reference. */
function schemaOf(type: z.ZodType): Json {
  const named = namedBodies.get(type);
  if (named) return { $ref: `${COMPONENTS}${named.id}` };
  return rehome(z.toJSONSchema(type, { io: 'input', unrepresentable: 'any', metadata: namedBodies })) as Json;
}

/** Every named body, once. */
function components(): Json {
  const { schemas } = z.toJSONSchema(namedBodies, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `${COMPONENTS}${id}`,
  }) as { schemas: Json };
  return rehome(schemas) as Json;
}

const SECURITY: Record<NonNullable<Route['auth']>, { name: string; description: string }> = {
  api: {
    name: 'apiToken',
    description: "the core's API token (DSM_API_TOKEN_FILE): acting for hosted identities",
  },
  admin: { name: 'adminToken', description: 'the admin token (DSM_ADMIN_TOKEN_FILE)' },
  peer: { name: 'peerToken', description: 'the storage peer token (DSM_STORAGE_PEER_TOKEN_FILE), when set' },
};

function content(body: z.ZodType | typeof DAG | typeof CBOR | typeof CAR): Json {
  if (body === DAG)
    return {
      [DAG_CBOR]: { schema: { type: 'string', contentEncoding: 'binary' } },
      [DAG_JSON]: { schema: { type: 'object', description: 'DAG-JSON (links as {"/": id})' } },
    };
  if (body === CBOR) return { [DAG_CBOR]: { schema: { type: 'string', contentEncoding: 'binary' } } };
  if (body === CAR) return { [CAR_MEDIA_TYPE]: { schema: { type: 'string', contentEncoding: 'binary' } } };
  return { 'application/json': { schema: schemaOf(body) } };
}

function operation(name: string, route: Route): Json {
  const parameters: Json[] = [];
  for (const [, param] of route.path.matchAll(/:([A-Za-z]+)/g))
    parameters.push({ name: param, in: 'path', required: true, schema: { type: 'string' } });
  for (const [key, field] of Object.entries(route.query?.shape ?? {}))
    parameters.push({ name: key, in: 'query', required: false, schema: schemaOf(field as z.ZodType) });
  if (route.idempotencyKey)
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'names this request: a retry with the same key and body answers the original result; the same key with another body is 409 E_CONFLICT',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  const responses: Json = {};
  for (const [status, body] of Object.entries(route.responses))
    responses[status] = { description: route.summary, ...(body === null ? {} : { content: content(body) }) };
  responses.default = {
    description: 'a rejection: {error: {code, message, details}} (4xx, 503 E_UNAVAILABLE is retryable)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    operationId: name,
    summary: route.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body !== undefined
      ? {
          requestBody: {
            required: route.body === DAG || route.body === CBOR || route.body === CAR,
            content: content(route.body),
          },
        }
      : {}),
    responses,
    ...(route.auth ? { security: [{ [SECURITY[route.auth].name]: [] }] } : {}),
  };
}

export interface ServiceInfo {
  title: string;
  version: string;
  description: string;
}

/** The OpenAPI 3.1 document of a service from its route tables (names are operation ids). */
export function openApiDocument(info: ServiceInfo, tables: Record<string, Route>[]): Json {
  const paths: Record<string, Json> = {};
  for (const table of tables) {
    for (const [name, route] of Object.entries(table)) {
      const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      paths[path] = { ...paths[path], [route.method]: operation(name, route) };
    }
  }
  const schemes = Object.fromEntries(
    Object.values(SECURITY).map((s) => [
      s.name,
      { type: 'http', scheme: 'bearer', description: s.description },
    ]),
  );
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: { schemas: components(), securitySchemes: schemes },
  };
}

/** The documents of every service, by file name. */
export function serviceDocuments(version: string): Record<string, Json> {
  return {
    'core.json': openApiDocument(
      {
        title: 'DSM core node: client API (port 7545)',
        version,
        description:
          'Hosted identities, token operations under CTPA policies, client-signed states, queries.',
      },
      [coreRoutes, commonRoutes],
    ),
    'core-p2p.json': openApiDocument(
      {
        title: 'DSM core node: node-to-node and admin API (port 8765)',
        version,
        description: 'Inbox notifications from storage nodes, status and the admin API.',
      },
      [coreP2pRoutes, adminRoutes, snapshotRoutes, commonRoutes],
    ),
    'storage.json': openApiDocument(
      {
        title: 'DSM storage node (port 8765)',
        version,
        description:
          'The replicated directory: content, chain heads, inboxes, supplies, fork evidence, replication.',
      },
      [storageRoutes, adminRoutes, commonRoutes],
    ),
    'bridge.json': openApiDocument(
      {
        title: 'DSM Ethereum bridge (port 8768)',
        version,
        description:
          'DSM tokens to an EVM chain and back: status and supply invariant, deposits, withdrawals, wrapped tokens, admin.',
      },
      [
        bridgeRoutes,
        { config: adminRoutes.config, setConfig: adminRoutes.setConfig },
        snapshotRoutes,
        commonRoutes,
      ],
    ),
  };
}

/** The committed form of a document: two-space JSON with a final newline. */
export function documentText(document: Json): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
