/**
 * The JSON form of policy conditions, as people write them in API bodies and policy files: identity lists
 * as id text, `coSign.signers` as hex public keys. Converted to the data model before anything is hashed.
 */
import { DsmError } from '../errors.js';
import { parseId } from '../encoding.js';
import type { RawCondition } from '../objects.js';

const HEX = /^([0-9a-fA-F]{2})+$/;

export function conditionsFromJson(
  conditions: readonly Record<string, unknown>[],
  field = 'policy.conditions',
): RawCondition[] {
  return conditions.map((c, i) => {
    const out: Record<string, unknown> = { ...c };
    if (Array.isArray(c.identities))
      out.identities = c.identities.map((v, j) => parseId(String(v), `${field}[${i}].identities[${j}]`));
    if (Array.isArray(c.signers)) {
      out.signers = c.signers.map((v, j) => {
        const name = `${field}[${i}].signers[${j}]`;
        if (typeof v !== 'string' || !HEX.test(v))
          throw new DsmError('E_BAD_REQUEST', `${name}: hex public key`, { field: name });
        return new Uint8Array(Buffer.from(v.toLowerCase(), 'hex'));
      });
    }
    return out as RawCondition;
  });
}
