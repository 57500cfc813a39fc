import { k8s } from '../k8s.js';
import { Construct } from 'constructs';
import type { Component } from '../api/names.js';
import { metadataOf, selectorOf, type ClusterContext } from '../context.js';

/** Who may connect: pods of this cluster's components, every pod of the namespace, or other namespaces. */
export type Peer =
  | { readonly component: Component | 'backup' }
  | { readonly namespacePods: true }
  | { readonly namespaceLabels: Readonly<Record<string, string>> };

export interface IngressRule {
  /** Port names of the pod (PORT_NAMES). */
  readonly ports: readonly string[];
  readonly from: readonly Peer[];
}

export interface IngressPolicyProps {
  readonly context: ClusterContext;
  readonly component: Component;
  readonly rules: readonly IngressRule[];
}

function peerOf(ctx: ClusterContext, peer: Peer): k8s.NetworkPolicyPeer {
  if ('component' in peer) return { podSelector: { matchLabels: selectorOf(ctx, peer.component) } };
  if ('namespacePods' in peer) return { podSelector: {} };
  return { namespaceSelector: { matchLabels: { ...peer.namespaceLabels } } };
}

/**
 * Ingress of a component's pods: only the rules given (egress stays open: pods resolve DNS and the bridge
 * reaches its EVM node wherever it is).
 */
export class IngressPolicy extends Construct {
  constructor(scope: Construct, id: string, props: IngressPolicyProps) {
    super(scope, id);
    const { context, component } = props;
    new k8s.KubeNetworkPolicy(this, 'Resource', {
      metadata: metadataOf(context, context.names[component], component),
      spec: {
        podSelector: { matchLabels: selectorOf(context, component) },
        policyTypes: ['Ingress'],
        ingress: props.rules.map((rule) => ({
          ports: rule.ports.map((port) => ({ port: k8s.IntOrString.fromString(port), protocol: 'TCP' })),
          from: rule.from.map((peer) => peerOf(context, peer)),
        })),
      },
    });
  }
}
