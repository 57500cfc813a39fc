import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkSignedState,
  decodeObject,
  decodeStrict,
  DsmError,
  fromHex,
  idOf,
  MemoryLedger,
  nobleBackend,
  nodeBackend,
  PROTOCOL_ERROR_CODES,
  type Genesis,
  type Policy,
  type TokenDefinition,
} from '@dsm/protocol';
import { generateVectors, type Vectors } from './generate.js';

const file = join(import.meta.dirname, 'vectors.json');
// `npm run vectors -w @dsm/protocol` rewrites the file after an intended change to the encoding.
if (process.env.DSM_WRITE_VECTORS === '1' || !existsSync(file)) {
  writeFileSync(file, JSON.stringify(await generateVectors(), null, 1) + '\n');
}
const committed: Vectors = JSON.parse(readFileSync(file, 'utf8'));

describe('committed test vectors', () => {
  it('cover every error code of §8', () => {
    const codes = new Set(
      committed.scenarios.flatMap((s) =>
        s.steps.map((st) => (st.expect === 'accepted' ? 'ok' : st.expect.code)),
      ),
    );
    for (const code of PROTOCOL_ERROR_CODES) {
      expect(codes).toContain(code);
    }
  });

  describe.each([nodeBackend, nobleBackend].map((b) => [b.name, b] as const))(
    'replay with %s',
    (_name, backend) => {
      it.each(committed.scenarios.map((s) => [s.name, s] as const))('%s', async (_n, scenario) => {
        const ledger = new MemoryLedger(backend);
        for (const object of scenario.objects) {
          const value = decodeObject(fromHex(object.hex));
          expect(idOf(value).toString()).toBe(object.id);
          if (value.type === 'dsm/genesis@1') ledger.addGenesis(value as Genesis);
          else if (value.type === 'dsm/token@1') ledger.addToken(value as TokenDefinition);
          else ledger.addPolicy(value as Policy);
        }
        for (const step of scenario.steps) {
          let outcome: Vectors['scenarios'][number]['steps'][number]['expect'] = 'accepted';
          try {
            const signed = checkSignedState(decodeStrict(fromHex(step.hex)));
            expect(idOf(signed.state).toString()).toBe(step.id);
            await ledger.accept(signed, step.now !== undefined ? { now: step.now } : undefined);
          } catch (e) {
            if (!(e instanceof DsmError)) throw e;
            outcome = { code: e.code, rule: String(e.details.rule ?? 'decode') };
          }
          expect(outcome).toEqual(step.expect);
        }
      });
    },
  );

  it('are reproduced byte for byte by the generator (deterministic signing)', async () => {
    expect(JSON.parse(JSON.stringify(await generateVectors()))).toEqual(committed);
  }, 120_000);
});
