import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import { ANNOTATIONS, type ComponentLabel } from '../api/names.js';
import { metadataOf, type ClusterContext } from '../context.js';

export interface GeneratedSecretProps {
  readonly context: ClusterContext;
  readonly name: string;
  readonly key: string;
  /** The value (fresh random text, or one the operator derived). */
  readonly value: string;
  readonly component: ComponentLabel;
  /**
   * Whether the cluster owns it. A key that opens retained volumes must outlive the cluster.
   * @default true
   */
  readonly owned?: boolean;
  /**
   * Refuse edits: a keystore key that changed would lock every hosted identity out.
   * @default false
   */
  readonly immutable?: boolean;
}

/** A Secret the operator creates once, when the user named none, and never updates. */
export class GeneratedSecret extends Construct {
  constructor(scope: Construct, id: string, props: GeneratedSecretProps) {
    super(scope, id);
    const { context } = props;
    const owned = props.owned ?? true;
    new k8s.KubeSecret(this, 'Resource', {
      metadata: metadataOf(context, props.name, props.component, {
        owned,
        annotations: {
          [ANNOTATIONS.generated]: 'true',
          ...(owned ? {} : { [ANNOTATIONS.reclaimPolicy]: 'Retain' }),
        },
      }),
      type: 'Opaque',
      ...(props.immutable === true ? { immutable: true } : {}),
      data: { [props.key]: Buffer.from(props.value, 'utf8').toString('base64') },
    });
  }
}
