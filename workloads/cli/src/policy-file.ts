/**
 * Policy files: `{"conditions": [...], "description": "..."}` with identities as id text and co-signers as
 * hex public keys, the JSON form the core's API takes. Checked offline with @dsm/protocol exactly as the
 * core checks them, so `dsm policy validate` prints the anchor the core would compute.
 */
import { readFile } from 'node:fs/promises';
import {
  DsmError,
  conditionsFromJson,
  idOf,
  makePolicy,
  validatePolicy,
  type CID,
  type Policy,
} from '@dsm/protocol';

export interface PolicyFile {
  conditions: { kind: string; [field: string]: unknown }[];
  description?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON text of a policy file, shape-checked (the conditions themselves are checked by `checkPolicy`). */
export function parsePolicyFile(text: string, file: string): PolicyFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DsmError('E_BAD_REQUEST', `${file}: not JSON (${(e as Error).message})`, { file });
  }
  if (!isRecord(value)) {
    throw new DsmError('E_BAD_REQUEST', `${file}: expected an object {"conditions": [...]}`, { file });
  }
  const extra = Object.keys(value).filter((k) => k !== 'conditions' && k !== 'description');
  if (extra.length > 0) {
    throw new DsmError('E_BAD_REQUEST', `${file}: unknown key "${extra[0]}"`, { file, field: extra[0] });
  }
  const { conditions, description } = value;
  if (!Array.isArray(conditions)) {
    throw new DsmError('E_BAD_REQUEST', `${file}: "conditions" must be a list`, {
      file,
      field: 'conditions',
    });
  }
  conditions.forEach((c, i) => {
    if (!isRecord(c) || typeof c.kind !== 'string') {
      const field = `conditions[${i}]`;
      throw new DsmError('E_BAD_REQUEST', `${file}: ${field} must be an object with a "kind"`, {
        file,
        field,
      });
    }
  });
  if (description !== undefined && typeof description !== 'string') {
    throw new DsmError('E_BAD_REQUEST', `${file}: "description" must be text`, {
      file,
      field: 'description',
    });
  }
  return {
    conditions: conditions as PolicyFile['conditions'],
    ...(description !== undefined ? { description } : {}),
  };
}

export async function readPolicyFile(file: string): Promise<PolicyFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new DsmError('E_NOT_FOUND', `cannot read policy file ${file} (${reason})`, { file });
  }
  return parsePolicyFile(text, file);
}

/** JSON conditions to the data model, exactly as the core converts them. */
export { conditionsFromJson };

/** The core's author for policies checked without one (POST /v1/policies/validate). */
export function anonymousAuthor(): CID {
  return idOf({ anonymous: true });
}

export interface PolicyCheck {
  valid: true;
  anchor: string;
  author: string;
  conditions: string[];
  description?: string;
}

/**
 * Builds and validates the policy `author` would anchor (a token's policy is authored by its issuer).
 * Throws E_POLICY naming the condition and field when it is invalid.
 */
export function checkPolicy(file: PolicyFile, author: CID): { policy: Policy; check: PolicyCheck } {
  const policy = makePolicy(author, conditionsFromJson(file.conditions), file.description);
  const valid = validatePolicy(policy);
  return {
    policy,
    check: {
      valid: true,
      anchor: idOf(policy).toString(),
      author: author.toString(),
      conditions: valid.conditions.map((c) => c.kind),
      ...(file.description !== undefined ? { description: file.description } : {}),
    },
  };
}
