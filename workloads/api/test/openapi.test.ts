import { describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreRoutes, documentText, serviceDocuments, storageRoutes, VERSION } from '@dsm/api';

const dir = join(import.meta.dirname, '..', 'openapi');

describe('OpenAPI documents', () => {
  const documents = serviceDocuments(VERSION);

  it.each(Object.keys(documents))(
    'committed %s is what the route tables give (npm run generate -w @dsm/api)',
    (file) => {
      expect(readFileSync(join(dir, file), 'utf8')).toBe(documentText(documents[file]!));
    },
  );

  it.each(Object.keys(documents))('%s is a valid OpenAPI 3.1 document', async (file) => {
    const result = await new Validator().validate(documents[file]!);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('documents every route with its parameters, body, key and security', () => {
    const core = documents['core.json'] as { paths: Record<string, Record<string, Record<string, unknown>>> };
    expect(Object.keys(core.paths)).toHaveLength(
      new Set(Object.values(coreRoutes).map((r) => r.path)).size + 2, // + /v1/status, /openapi.json
    );
    const transfer = core.paths['/v1/identities/{id}/transfer']!.post!;
    expect(transfer.security).toEqual([{ apiToken: [] }]);
    expect(transfer.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'id', in: 'path' }),
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
      ]),
    );
    const ref = (transfer.requestBody as { content: Record<string, { schema: { $ref: string } }> }).content[
      'application/json'
    ]!.schema.$ref;
    expect(ref).toBe('#/components/schemas/Transfer');
    const components = (
      core as unknown as { components: { schemas: Record<string, { required: string[] }> } }
    ).components.schemas;
    expect(components.Transfer!.required).toEqual(expect.arrayContaining(['token', 'amount', 'to']));
    const storage = documents['storage.json'] as { paths: Record<string, unknown> };
    for (const route of Object.values(storageRoutes))
      expect(storage.paths).toHaveProperty([route.path.replace(/:([A-Za-z]+)/g, '{$1}')]);
  });
});
