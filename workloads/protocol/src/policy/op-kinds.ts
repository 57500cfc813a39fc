/** Field readers shared by several conditions. */
import { TOKEN_OP_KINDS, type TokenOpKind } from '../objects.js';
import { join, link, list, literal } from '../shape.js';

/** A list of op kinds: only the seven `token.*` kinds (§6). */
export function opKinds(value: unknown, field: string): TokenOpKind[] {
  return list(value, field).map((k, i) => literal(k, join(field, i), TOKEN_OP_KINDS));
}

/** A list of identity links, kept as id text for set membership. */
export function identitySet(value: unknown, field: string): Set<string> {
  return new Set(list(value, field).map((v, i) => link(v, join(field, i)).toString()));
}
