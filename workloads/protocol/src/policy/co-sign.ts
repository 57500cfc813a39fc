/**
 * `coSign`: for the listed kinds, at least `threshold` distinct listed signers co-sign the state id with
 * context `dsm/cosign@1` in the condition's suite. Co-signatures by anyone else, or in another suite, are ignored.
 */
import { decodeError } from '../errors.js';
import { toHex } from '../encoding.js';
import type { TokenOpKind } from '../objects.js';
import { bytes, exactKeys, join, list, literal, uint } from '../shape.js';
import { COSIGN_CONTEXT, SIGNATURE_SUITES, SUITE_SIZES, type SignatureSuite } from '../suites.js';
import type { ConditionModule } from './condition.js';
import { opKinds } from './op-kinds.js';

export interface CoSignCondition {
  kind: 'coSign';
  signers: Uint8Array[];
  suite: SignatureSuite;
  threshold: number;
  ops: TokenOpKind[];
}

export const coSign: ConditionModule<CoSignCondition> = {
  kind: 'coSign',
  parse(raw, field) {
    exactKeys(raw, field, ['kind', 'signers', 'suite', 'threshold', 'ops']);
    const suite = literal(raw.suite, `${field}.suite`, SIGNATURE_SUITES);
    const signers = list(raw.signers, `${field}.signers`).map((s, i) =>
      bytes(s, join(`${field}.signers`, i), SUITE_SIZES[suite].publicKey),
    );
    if (signers.length === 0) throw decodeError(`${field}.signers`, 'must list at least one signer');
    const threshold = uint(raw.threshold, `${field}.threshold`, signers.length, 1);
    return { kind: 'coSign', signers, suite, threshold, ops: opKinds(raw.ops, `${field}.ops`) };
  },
  evaluate(condition, { signed, stateId, verify }) {
    const kind = signed.state.op.kind;
    if (kind === 'genesis' || !condition.ops.includes(kind)) return undefined;
    const listed = new Set(condition.signers.map(toHex));
    const approved = new Set<string>();
    for (const cosig of signed.cosigs ?? []) {
      const signer = toHex(cosig.signer);
      if (cosig.suite !== condition.suite || !listed.has(signer) || approved.has(signer)) continue;
      if (verify(cosig.suite, cosig.signer, stateId.bytes, cosig.sig, COSIGN_CONTEXT)) approved.add(signer);
    }
    return approved.size >= condition.threshold
      ? undefined
      : `${approved.size} of the required ${condition.threshold} co-signatures verify`;
  },
};
