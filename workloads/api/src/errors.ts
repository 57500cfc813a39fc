/**
 * Error bodies (`{error: {code, message, details}}`) and the details each code carries. Details that
 * another service acts on are declared here, with the one function that reads each, so no service tests
 * an undeclared field of another's error.
 */
import { isDsmError, PROTOCOL_ERROR_CODES, SERVICE_ERROR_CODES } from '@dsm/protocol';
import { z } from 'zod';

export const ErrorCode = z.enum([...PROTOCOL_ERROR_CODES, ...SERVICE_ERROR_CODES]);

/** Details every rejection may carry. */
const Common = {
  /** The request field at fault. */
  field: z.string().optional(),
  /** The state at fault (protocol checks) and the rule of §4 that failed. */
  n: z.number().int().optional(),
  rule: z.string().optional(),
  identity: z.string().optional(),
  /**
   * Storage: the object is fine as far as it goes but depends on something this node does not hold
   * (yet): another node may have it, and storing the dependency first lets it in.
   */
  missing: z.boolean().optional(),
};

export const ErrorDetails = z.looseObject(Common);

/** Details by code, where a code carries more than the common ones. */
export const DETAILS = {
  E_POLICY: z.looseObject({
    ...Common,
    /** Index and kind of the failing condition (absent when the policy itself is invalid). */
    condition: z.number().int().optional(),
    kind: z.string().optional(),
    reason: z.string().optional(),
  }),
  E_FORK: z.looseObject({
    ...Common,
    /** The already accepted state at the same height, and the refused one. */
    existing: z.string().optional(),
    candidate: z.string().optional(),
  }),
  E_UNAVAILABLE: z.looseObject({
    ...Common,
    /** Core: the state still waiting for the storage nodes (retry with the same Idempotency-Key). */
    pending: z.string().optional(),
    /** Storage: nodes that acknowledged, and how many were required. */
    replicas: z.number().int().optional(),
    required: z.number().int().optional(),
    failures: z.array(z.string()).optional(),
  }),
} as const;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string(), details: ErrorDetails }),
});

/** The detail a storage node sets on a rejection caused only by an absent dependency. */
export const MISSING_DEPENDENCY = 'missing';

/** A rejection caused only by an absent dependency (`details.missing`): ask another node, or store it first. */
export function isMissingDependency(e: unknown): boolean {
  return isDsmError(e) && e.details[MISSING_DEPENDENCY] === true;
}

const PROTOCOL_CODES: ReadonlySet<string> = new Set(PROTOCOL_ERROR_CODES);

/**
 * A storage node's verdict on the object itself (a protocol code of §8, not missing a dependency): the
 * write did not and will not take effect. Anything else (unavailable, internal, an answer that breaks the
 * contract) leaves the outcome unknown.
 */
export function isRefusal(e: unknown): boolean {
  return isDsmError(e) && PROTOCOL_CODES.has(e.code) && !isMissingDependency(e);
}

/** A rejection by a condition of the token's policy (§4 V6), as opposed to an invalid policy. */
export function isPolicyViolation(e: unknown): boolean {
  return isDsmError(e, 'E_POLICY') && e.details.rule === 'V6';
}
